"""The messages a request gets back, typed and decoded in one place, for both protocols (docs/protocol.md).

Node's service and the daemon send the same events and errors: the daemon passes the service's on, and
adds `queued` and the errors of vidgen's own side (`by: "vidgen"`). Everything past this module reads
dataclasses, never wire keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from ..errors import Cancelled, ServiceError, ServiceFault, ServiceReplyError, UsageError


@dataclass(frozen=True)
class StillProgress:
    """`stills`: the frame about to be drawn (`started`), or a frame written to `path` (`next`: the one after)."""

    frame: int
    path: str | None = None
    next: int | None = None
    started: bool = False


@dataclass(frozen=True)
class RenderProgress:
    """`render`: frames drawn and encoded so far, of `frames`."""

    rendered: int
    encoded: int
    frames: int | None = None
    fraction: float | None = None
    stitch_stage: str | None = None


@dataclass(frozen=True)
class LayoutProgress:
    """`layout`: the last frame of a batch inspected."""

    frame: int


@dataclass(frozen=True)
class Queued:
    """The daemon's: the request waits for other commands' renders (`ahead` of it); its time has not started."""

    ahead: int


Event = StillProgress | RenderProgress | LayoutProgress | Queued


def decode_event(message: dict[str, Any]) -> Event | None:
    """The event a message carries; None when it is none vidgen knows (a newer service's extra is ignored)."""
    kind = message.get("event")
    if kind == "queued":
        return Queued(_int(message.get("ahead")) or 0)
    if kind != "progress":
        return None
    stage = message.get("stage")
    if stage == "render":
        return RenderProgress(
            _int(message.get("renderedFrames")) or 0,
            _int(message.get("encodedFrames")) or 0,
            _int(message.get("frames")),
            _float(message.get("progress")),
            message.get("stitchStage") if isinstance(message.get("stitchStage"), str) else None,
        )
    frame = _int(message.get("frame"))
    if frame is None:
        return None
    if stage == "still":
        path = message.get("path")
        return StillProgress(
            frame, path if isinstance(path, str) else None, _int(message.get("next")), message.get("started") is True
        )
    if stage == "layout":
        return LayoutProgress(frame)
    return None


def encode_event(event: Event) -> dict[str, Any]:
    """The event as it travels (the daemon passes it on; a render's `progress` event to --json is this shape)."""
    if isinstance(event, Queued):
        return {"event": "queued", "ahead": event.ahead}
    if isinstance(event, RenderProgress):
        body: dict[str, Any] = {
            "stage": "render",
            "renderedFrames": event.rendered,
            "encodedFrames": event.encoded,
            "frames": event.frames,
            "progress": event.fraction,
            "stitchStage": event.stitch_stage,
        }
    elif isinstance(event, StillProgress):
        body = {"stage": "still", "frame": event.frame}
        body.update({"started": True} if event.started else {"path": event.path, "next": event.next})
    else:
        body = {"stage": "layout", "frame": event.frame}
    return {"event": "progress", **body}


def stuck_frame(event: Event | None) -> int | None:
    """The frame a request that stopped answering was on: the one after the last reported, as far as known."""
    if isinstance(event, StillProgress):
        return event.next if event.path is not None else event.frame
    if isinstance(event, RenderProgress):
        return event.rendered
    return None


# ------------------------------------------------------------------------------ results


@dataclass
class Composition:
    """A composition's size, frame rate and length, as `metadata` and `timeline` answer them."""

    width: int
    height: int
    fps: float
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps if self.fps else 0.0

    @classmethod
    def from_wire(cls, reply: object) -> Composition:
        """`{width, height, fps, durationInFrames}`; an answer without them is the service's fault, said as one."""
        if isinstance(reply, dict):
            width, height, frames = (_int(reply.get(key)) for key in ("width", "height", "durationInFrames"))
            rate = _float(reply.get("fps"))
            if width is not None and height is not None and frames is not None and rate is not None:
                return cls(width, height, rate, frames)
        raise ServiceReplyError(ServiceFault("protocol", "the render service answered without the composition's size"))


@dataclass(frozen=True)
class Diagnostic:
    """One problem ESLint, TypeScript or webpack found (`lint`, `typecheck`, `bundle`), charged to its file."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    rule: str | None = None  # ESLint's

    @classmethod
    def list_from(cls, reply: dict[str, Any]) -> list[Diagnostic]:
        """The `diagnostics` of a reply; an entry without a message is none."""
        found = reply.get("diagnostics")
        return [
            cls(
                str(entry["message"]),
                entry.get("file") if isinstance(entry.get("file"), str) and entry.get("file") else None,
                _int(entry.get("line")),
                _int(entry.get("column")),
                entry.get("rule") if isinstance(entry.get("rule"), str) else None,
            )
            for entry in (found if isinstance(found, list) else [])
            if isinstance(entry, dict) and isinstance(entry.get("message"), str)
        ]


@dataclass(frozen=True)
class Timeline:
    """`timeline`: the composition, and every Sequence the video mounts (timeline.js's shape, read by render/timeline.py)."""

    composition: Composition
    sequences: list[dict[str, Any]]
    complete: bool


# ------------------------------------------------------------------------------ errors


def encode_error(exc: BaseException) -> dict[str, Any]:
    """An exception of the render service as the daemon sends it; `raise_error` raises the same one."""
    if isinstance(exc, ServiceReplyError):
        return exc.fault.to_wire()
    if isinstance(exc, Cancelled):
        kind, frame = "cancelled", None
    elif isinstance(exc, UsageError):
        kind, frame = "usage", None
    elif isinstance(exc, ServiceError):
        kind, frame = exc.kind, exc.frame
    else:
        return ServiceFault("crash", f"the render daemon failed: {exc}", by="vidgen").to_wire()
    return ServiceFault(kind, str(exc), frame, by="vidgen").to_wire()


def raise_error(error: object, op: str) -> NoReturn:
    """The exception an `error` object stands for: cancelled, vidgen's own (a usage error, a timeout or crash of
    the service), or the service's answer (the video threw, the build failed ...), which the stages judge."""
    fault = ServiceFault.from_wire(error)
    if fault.kind == "cancelled":
        raise Cancelled(f"{op} was cancelled")
    if fault.by == "vidgen":
        if fault.kind == "usage":
            raise UsageError(fault.message)
        raise ServiceError(fault.message, kind=fault.kind, frame=fault.frame)
    raise ServiceReplyError(fault)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
