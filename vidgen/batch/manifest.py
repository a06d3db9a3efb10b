"""A batch's manifest in .vidgen/batch/: one entry per item, written atomically after each change.

A crash, a Ctrl-C or a full disk leaves the last complete manifest in place, so
`vidgen batch --resume` knows what rendered and what is left.
"""

from __future__ import annotations

import errno
import hashlib
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import loader
from ..errors import DiskFull
from ..workspace.files import atomic_write
from ..workspace.project import NAME_PATTERN, Workspace

ITEM = {
    "line": int,
    "name": loader.Matching(NAME_PATTERN, "a video name"),
    "prompt": str,
    "prompt_hash": str,
    "status": str,
    "error": (loader.ERROR, None),
    "attempts": [{"stage": (str, None), "error": (loader.ERROR, None), "infra": int}],
    "polish": (dict, None),
    "output": (str, None),
    "poster": (str, None),
    "preview": (str, None),
    "usage": loader.USAGE,
    "cost": (dict, None),  # what Remotion Lambda reported the render cost (render.on = "lambda")
    "model": str,
    "timings": loader.Each(float),
    "storyboard": (dict, None),  # a storyboarded item's part of the scorecard (story.StoryResult.scorecard)
}
SHAPE = {"file": str, "updated": str, "items": loader.Each(ITEM)}


def path_for(workspace: Workspace, batch_file: Path) -> Path:
    digest = hashlib.sha256(str(batch_file.resolve()).encode()).hexdigest()[:8]
    return workspace.state_dir / "batch" / f"{batch_file.stem}-{digest}.json"


class Manifest:
    def __init__(self, path: Path, batch_file: Path):
        self.path = path
        self._lock = threading.Lock()
        fix = "delete it to start this batch afresh (the videos already made stay)"
        fresh = {"file": str(batch_file.resolve()), "items": {}}
        self.data: dict[str, Any] = loader.read_json(path, SHAPE, fix, default=lambda: fresh)

    @property
    def items(self) -> dict[str, dict[str, Any]]:
        return self.data.setdefault("items", {})

    def get(self, key: str) -> dict[str, Any] | None:
        return self.items.get(key)

    def update(self, key: str, **fields: Any) -> None:
        with self._lock:
            self.items[key] = {**self.items.get(key, {}), **fields}
            self._save()

    def _save(self) -> None:
        self.data["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            atomic_write(self.path, json.dumps(self.data, indent=2))
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DiskFull(f"the disk is full; the manifest {self.path} still holds the last complete state") from None
            raise
