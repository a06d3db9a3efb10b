"""The render service's wire protocol, Python side: its version, the Remotion it needs, each op's arguments.

docs/protocol.md documents every op, event and error kind, of the Node service and of the daemon.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from ..workspace import resources
from ..workspace.project import Workspace

# The wire protocol this client speaks: bump it with PROTOCOL_VERSION in render-service.mjs.
PROTOCOL_VERSION = 3


def expected_remotion() -> str:
    """The Remotion version this vidgen is made for: the one its template pins."""
    package = json.loads((resources.template_dir() / "package.json").read_text())
    return str(package["dependencies"]["remotion"])


def installed_remotion(workspace: Workspace) -> str | None:
    """The Remotion version the workspace installed, or None when it has none (or it is unreadable)."""
    try:
        package = json.loads((workspace.root / "node_modules" / "remotion" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = package.get("version") if isinstance(package, dict) else None
    return version if isinstance(version, str) else None


def version_problem(workspace: Workspace, protocol: object, remotion: object) -> str | None:
    """Why a service that reports these versions cannot serve this vidgen, with the fix; or None."""
    if protocol != PROTOCOL_VERSION:
        return (
            f"the render service speaks protocol {protocol} but this vidgen speaks {PROTOCOL_VERSION}:"
            " reinstall vidgen (pip install --force-reinstall vidgen)"
        )
    expected = expected_remotion()
    if remotion != expected:
        return (
            f"the workspace has Remotion {remotion or 'missing'} installed but this vidgen needs {expected}:"
            f" run `npm ci` in {workspace.root} (or reinstall vidgen if the workspace is meant to be newer)"
        )
    return None


# ---------------------------------------------------------------------- op arguments
# One dataclass per op; fields are snake_case here and camelCase on the wire (timeout_ms -> timeoutMs).


@dataclass(frozen=True)
class CheckArgs:
    """`lint` and `typecheck`: the files to check (absolute paths)."""

    files: list[str]


@dataclass(frozen=True)
class MetadataArgs:
    """`metadata`: the composition's size, fps and length."""

    name: str
    timeout_ms: int


@dataclass(frozen=True)
class StillsArgs:
    """`stills`: JPEG frames into a folder, one progress event per frame written."""

    name: str
    frames: list[int]
    output_dir: str
    timeout_ms: int


@dataclass(frozen=True)
class StillArgs:
    """`still`: one PNG frame."""

    name: str
    frame: int
    output: str
    timeout_ms: int


@dataclass(frozen=True)
class RenderArgs:
    """`render`: the video (each None: Remotion's default; optional fields, so no protocol bump)."""

    name: str
    output: str
    codec: str
    timeout_ms: int
    concurrency: int | None = None
    input_props: dict[str, Any] | None = None  # --props: a JSON object, up to 64 KiB
    scale: float | None = None  # above 0, at most 16
    frame_range: list[int] | None = None  # [first, last], inclusive
    crf: int | None = None  # h264 1-51, vp9 0-63
    chunks: int | None = None  # h264, whole video: frame ranges rendered at once, joined by combineChunks


@dataclass(frozen=True)
class LayoutArgs:
    """`layout`: layout QA on the frames, with layout-qa.js's options."""

    name: str
    frames: list[int]
    options: dict[str, Any]
    timeout_ms: int


@dataclass(frozen=True)
class TimelineArgs:
    """`timeline`: every Sequence the video mounts, with its frames (timeline.js's shape)."""

    name: str
    timeout_ms: int
    keep_page: bool = False  # the `stills` (one frame) and `layout` requests that follow read the same page


def wire(args: Any) -> dict[str, Any]:
    """An op's arguments as the service reads them: camelCase keys."""
    return {_camel(f.name): getattr(args, f.name) for f in fields(args)}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)
