"""What a check or a render produced: the --json object of `check` and `render`, and more for the CLI."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.messages import Composition
from ..errors import Finding, StructuredError


@dataclass
class RenderResult:
    """What a check or render produced: the --json object, and more for the CLI."""

    name: str
    status: str  # "rendered" | "ok" | "failed"
    output: Path | None = None
    composition: Composition | None = None
    error: StructuredError | None = None
    # Where the previews land; made after the MP4 is in place, they exist once `previews` is done.
    poster: Path | None = None
    preview: Path | None = None
    sheet: Path | None = None  # the contact sheet: the stills in one grid, frame numbers on each
    previews: Future[str | None] | None = None  # their job's answer: None when all were made, else what failed
    stills: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    captions: Path | None = None  # out/<name>.srt, for a narrated video
    version: int | None = None  # the history version whose sources were rendered (MP4 renders)
    retried: list[StructuredError] = field(default_factory=list)  # faults not the video's, retried on a fresh service
    cost: dict[str, Any] | None = None  # what Remotion Lambda reported a render on it cost: {usd, display, currency, ...}

    def to_json(self) -> dict[str, Any]:
        c = self.composition
        return {
            "name": self.name,
            "status": self.status,
            "output": str(self.output.resolve()) if self.output else None,
            "duration_s": round(c.duration_s, 3) if c else None,
            "width": c.width if c else None,
            "height": c.height if c else None,
            "fps": c.fps if c else None,
            "frames": c.frames if c else None,
            "error": self.error.to_dict() if self.error else None,
            "findings": [finding.to_dict() for finding in self.findings],
            "infra": len(self.retried),
            "retried": [error.to_dict() for error in self.retried],
            "captions": str(self.captions.resolve()) if self.captions else None,
            "previews": self.previews_status(),
            **({"cost": self.cost} if self.cost is not None else {}),
            **{kind: str(path.resolve()) if path else None for kind, path in self.preview_paths().items()},
        }

    def previews_status(self) -> str | None:
        """The previews: pending (the command returned first: a daemon makes them), done, failed, or None (none wanted)."""
        if self.previews is None:
            return None
        if not self.previews.done():
            return "pending"
        return "done" if self.previews.result() is None else "failed"

    def preview_paths(self) -> dict[str, Path | None]:
        return {"poster": self.poster, "preview": self.preview, "sheet": self.sheet}
