"""The messages a request gets back, typed and decoded in one place, for both protocols (docs/protocol.md).

Node's service and the daemon send the same events and errors: the daemon passes the service's on, and
adds `queued` and the errors of vidgen's own side (`by: "vidgen"`). Everything past this module reads
dataclasses, never wire keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from ..errors import Cancelled, ServiceError, ServiceFault, ServiceReplyError, UsageError, parse_box


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
class MountedSequence:
    """One Sequence the video mounts, as timeline.js finds it: its own frames (`duration` None: to the end of
    its parent), its parent's id, and for a Series' scene the component it shows and the kind of series."""

    id: int | str | None
    parent: int | str | None = None
    start: float = 0.0
    duration: float | None = None
    source: str | None = None  # the data-vg-src stamp: the video's own file and line
    name: str | None = None
    component: str | None = None
    scene: bool = False
    series: str | None = None

    @classmethod
    def list_from(cls, value: object) -> list[MountedSequence]:
        """The `sequences` of a reply; what is not an object is none."""
        return [
            cls(
                _id(entry.get("id")),
                _id(entry.get("parent")),
                _float(entry.get("start")) or 0.0,
                _float(entry.get("duration")),
                _str(entry.get("source")),
                _str(entry.get("name")),
                _str(entry.get("component")),
                entry.get("scene") is True,
                _str(entry.get("series")),
            )
            for entry in (value if isinstance(value, list) else [])
            if isinstance(entry, dict)
        ]


@dataclass(frozen=True)
class Timeline:
    """`timeline`: the composition, and every Sequence the video mounts (read by render/timeline.py)."""

    composition: Composition
    sequences: list[MountedSequence]
    complete: bool


@dataclass(frozen=True)
class PageElement:
    """An element of the page as layout-qa.js describes it: what it shows, its stamp, the components around it."""

    tag: str | None = None
    text: str | None = None  # shortened for a message
    full_text: str | None = None
    src: str | None = None  # an image's file name
    source: str | None = None  # the data-vg-src stamp, its own or its nearest stamped ancestor's
    components: tuple[str, ...] = ()  # React components around it, innermost first
    background: str | None = None  # #rrggbb
    what: str | None = None  # a covering element's description

    @classmethod
    def from_wire(cls, value: object) -> PageElement:
        data = value if isinstance(value, dict) else {}
        components = data.get("components")
        return cls(
            _str(data.get("tag")),
            _str(data.get("text")),
            _str(data.get("fullText")),
            _str(data.get("src")),
            _str(data.get("source")),
            tuple(c for c in components if isinstance(c, str)) if isinstance(components, list) else (),
            _str(data.get("background")),
            _str(data.get("what")),
        )


@dataclass(frozen=True)
class ProblemDetail:
    """What layout-qa.js measured for a problem; each kind fills in its own fields (docs/protocol.md), the rest stay None."""

    element_box: tuple[int, int, int, int] | None = None  # the element's box at the problem's first frame
    rect: tuple[int, int, int, int] | None = None  # offscreen: the box outside the frame
    never: bool = False  # offscreen: never inside the frame at any sampled frame
    edges: tuple[str, ...] = ()  # offscreen: the edges that cut it
    cover: PageElement | None = None  # occluded
    container: PageElement | None = None  # clipped
    other: PageElement | None = None  # overlap
    reason: str | None = None  # clipped: "ellipsis" or "overflow"; media-failed: the browser's reason
    own: bool = False  # clipped: the ellipsis is the element's own
    width: float | None = None  # clipped: the text's size and its box's
    height: float | None = None
    box: float | None = None
    box_height: float | None = None
    edge: str | None = None  # safe-area
    margin: float | None = None
    distance: float | None = None
    portrait: bool = False
    ratio: float | None = None  # contrast
    color: str | None = None
    background: str | None = None
    min: float | None = None  # contrast's or tiny's threshold
    px: float | None = None  # tiny
    url: str | None = None  # media-failed

    @classmethod
    def from_wire(cls, value: object) -> ProblemDetail:
        data = value if isinstance(value, dict) else {}
        edges = data.get("edges")

        def element(key: str) -> PageElement | None:
            return PageElement.from_wire(data[key]) if isinstance(data.get(key), dict) else None

        return cls(
            element_box=parse_box(data.get("elementBox")),
            rect=parse_box(data.get("rect")),
            never=data.get("never") is True,
            edges=tuple(e for e in edges if isinstance(e, str)) if isinstance(edges, list) else (),
            cover=element("cover"),
            container=element("container"),
            other=element("other"),
            reason=_str(data.get("reason")),
            own=data.get("own") is True,
            width=_float(data.get("width")),
            height=_float(data.get("height")),
            box=_float(data.get("box")),
            box_height=_float(data.get("boxHeight")),
            edge=_str(data.get("edge")),
            margin=_float(data.get("margin")),
            distance=_float(data.get("distance")),
            portrait=data.get("portrait") is True,
            ratio=_float(data.get("ratio")),
            color=_str(data.get("color")),
            background=_str(data.get("background")),
            min=_float(data.get("min")),
            px=_float(data.get("px")),
            url=_str(data.get("url")),
        )


@dataclass(frozen=True)
class LayoutProblem:
    """One problem layout QA found: its kind, whether it fails the check, the frames it lasts, the element, the measure."""

    kind: str
    severity: str  # "error" or "warning": the page knows the frame's shape (a portrait's buttons ...)
    frame: int | None  # None: at every sampled frame
    last_frame: int | None
    element: PageElement
    detail: ProblemDetail

    @classmethod
    def list_from(cls, reply: dict[str, Any]) -> list[LayoutProblem]:
        """The `problems` of a `layout` reply; one without a kind is none."""
        found = reply.get("problems")
        return [
            cls(
                entry["kind"],
                "error" if entry.get("severity") == "error" else "warning",
                _int(entry.get("frame")),
                _int(entry.get("lastFrame")),
                PageElement.from_wire(entry.get("element")),
                ProblemDetail.from_wire(entry.get("detail")),
            )
            for entry in (found if isinstance(found, list) else [])
            if isinstance(entry, dict) and isinstance(entry.get("kind"), str)
        ]


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


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _id(value: object) -> int | str | None:
    return value if isinstance(value, str) else _int(value)
