"""The error hierarchy, exit codes, and the structured error every failing stage produces."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_MODEL = 3


class Stage(StrEnum):
    """Where a failure happened: the ladder's stages in order, then what follows them."""

    SOUND = "sound"  # narration.json spoken, narration.ts and music.ts written (only when the video has them)
    IMPORTS = "imports"
    LINT = "lint"
    TYPECHECK = "typecheck"
    BUNDLE = "bundle"
    COMPOSITION = "composition"
    STILLS = "stills"
    LAYOUT = "layout"
    RENDER = "render"
    VERIFY = "verify"
    CRITIQUE = "critique"
    PARSE = "parse"  # the model's reply, before any file is written


class Code(StrEnum):
    """What kind of failure it is, whatever the stage: what a program reading --json branches on."""

    COMPILE = "compile"  # the code does not build: an import, a lint rule, a type, the bundler
    CONFIG = "config"  # the composition's config is invalid, over a limit, or not what was asked
    RUNTIME = "runtime"  # the video threw while a frame was shown
    TIMEOUT = "timeout"  # a frame did not finish in time (an endless loop, a delayRender never cleared)
    LAYOUT = "layout"  # layout QA found an error (text off screen, hidden, overlapping)
    OUTPUT = "output"  # the rendered file is wrong: unreadable, blank, frozen, not the size asked
    BROWSER_CRASHED = "browser_crashed"  # Chromium died during the request: render again
    SERVICE_CRASHED = "service_crashed"  # the render service stopped: it is restarted on the next request
    DISK_FULL = "disk_full"  # the disk filled while writing: free space and render again
    USAGE = "usage"  # the request itself cannot be done (e.g. a still frame outside the video)
    REPLY = "reply"  # the model's reply is not whole files in fenced blocks
    CRITIQUE = "critique"  # the vision model says the video does not show what was asked


# The code a failure has unless the stage says more (a timeout, a crash, a full disk).
_STAGE_CODES = {
    Stage.SOUND: Code.COMPILE,  # narration.json is part of the code the model writes
    Stage.IMPORTS: Code.COMPILE,
    Stage.LINT: Code.COMPILE,
    Stage.TYPECHECK: Code.COMPILE,
    Stage.BUNDLE: Code.COMPILE,
    Stage.COMPOSITION: Code.CONFIG,
    Stage.STILLS: Code.RUNTIME,
    Stage.LAYOUT: Code.LAYOUT,
    Stage.RENDER: Code.RUNTIME,
    Stage.VERIFY: Code.OUTPUT,
    Stage.CRITIQUE: Code.CRITIQUE,
    Stage.PARSE: Code.REPLY,
}


@dataclass(frozen=True)
class StructuredError:
    """One failure, whatever the stage: what the CLI shows, --json prints and the model reads.

    `stage` is a Stage and `code` a Code (both str-valued, so JSON holds plain strings); the code
    defaults to the stage's usual one.
    """

    stage: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    frame: int | None = None
    excerpt: str | None = None
    code: str | None = None
    # The fault may be the machine's, not the code's (a crash, a timeout that load can explain):
    # vidgen retries it once on a fresh render service before the model hears of it (faults.py).
    infra: bool = False

    def __post_init__(self) -> None:
        stage = Stage(self.stage)  # an unknown stage is a bug here, not a new kind of failure
        object.__setattr__(self, "stage", stage)
        object.__setattr__(self, "code", Code(self.code) if self.code else _STAGE_CODES[stage])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def location(self) -> str:
        """`file:line:column`, as much of it as is known."""
        return _location(self.file, self.line, self.column)

    def one_line(self) -> str:
        return _one_line(self.stage, self.location(), self.message, self.frame)


@dataclass(frozen=True)
class Finding:
    """Something a check noticed: an error fails the check, a warning is shown and told to the model once."""

    kind: str  # e.g. "occluded", "safe-area"
    severity: str  # "error" | "warning"
    message: str
    frame: int | None = None
    file: str | None = None
    line: int | None = None
    element: str | None = None  # what it is: tag, text, component
    last_frame: int | None = None  # the last frame of the span it lasts, from `frame`
    box: tuple[int, int, int, int] | None = None  # the element at `frame`: x, y, width, height in video pixels

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding | None:
        """The finding `to_dict` gave, after a trip through JSON; None when it lacks what a finding needs."""
        fields = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        if not {"kind", "severity", "message"} <= set(fields):
            return None
        fields["box"] = parse_box(fields.get("box"))
        return cls(**fields)

    def one_line(self) -> str:
        return _one_line(self.kind, _location(self.file, self.line), self.message, self.frame)


def _location(file: str | None, *numbers: int | None) -> str:
    """`file:line[:column]`, as much of it as is known."""
    return ":".join([file] + [str(n) for n in numbers if n is not None]) if file else ""


def _one_line(label: str, where: str, message: str, frame: int | None) -> str:
    """How an error or a finding reads on one line: `label: where: message (frame N)`."""
    return f"{label}: {where + ': ' if where else ''}{message}{f' (frame {frame})' if frame is not None else ''}"


class VidgenError(Exception):
    """An error with a message meant for the user, the exit code it ends with and the `code` --json shows."""

    exit_code = EXIT_FAILED
    code: str = "failed"


class UsageError(VidgenError):
    """The user asked for something that cannot be done as asked: fix the command or setup."""

    exit_code = EXIT_USAGE
    code = "usage"


class ServiceError(VidgenError):
    """The render service could not answer (crashed, timed out, could not start)."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, kind: str = "crash", frame: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.frame = frame
        self.code = str(Code.TIMEOUT if kind == "timeout" else Code.SERVICE_CRASHED)


class Cancelled(VidgenError):
    """A request was cancelled (Ctrl-C, or a newer save in watch)."""

    exit_code = EXIT_FAILED
    code = "cancelled"


@dataclass(frozen=True)
class StackFrame:
    """One frame of a page's stack, mapped to the video's own source (docs/protocol.md)."""

    file: str
    line: int | None = None
    column: int | None = None
    function: str | None = None


@dataclass(frozen=True)
class ServiceFault:
    """How a request to the render service failed, decoded once from the wire (docs/protocol.md, error kinds).

    `kind` is a code set where the failure happened: by the Node service (`runtime`, `timeout`, `disk-full`,
    `browser-crashed` ...) or, when `by` is "vidgen", by vidgen's own side of the transport (`timeout`, `crash`,
    `start`, `usage`, `cancelled`). Nothing downstream reads the message to learn what happened."""

    kind: str
    message: str
    frame: int | None = None
    stack: tuple[StackFrame, ...] = ()
    page_stuck: bool = False  # a timeout of a page that never answered: the code's, not the machine's
    by: str = "service"
    raw: str | None = None  # the page's own stack, for the log only

    @classmethod
    def from_wire(cls, error: object) -> ServiceFault:
        """The fault an `error` object describes; whatever arrives (it crossed a process boundary) gives one."""
        if not isinstance(error, dict):
            return cls("crash", "the render service sent an error it could not explain")
        frame = error.get("frame")
        entries = error.get("stack")
        stack = tuple(
            StackFrame(
                str(entry.get("file")),
                _int_or_none(entry.get("line")),
                _int_or_none(entry.get("column")),
                entry.get("function") if isinstance(entry.get("function"), str) else None,
            )
            for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict) and isinstance(entry.get("file"), str)
        )
        raw = error.get("raw")
        return cls(
            kind=str(error.get("kind") or "runtime"),
            message=str(error.get("message") or "unknown error"),
            frame=_int_or_none(frame),
            stack=stack,
            page_stuck=error.get("pageStuck") is True,
            by="vidgen" if error.get("by") == "vidgen" else "service",
            raw=raw if isinstance(raw, str) else None,
        )

    def to_wire(self) -> dict[str, Any]:
        """The `error` object `from_wire` reads: what the daemon passes on to a command."""
        return {
            "kind": self.kind,
            "message": self.message,
            "frame": self.frame,
            "stack": [asdict(frame) for frame in self.stack],
            "pageStuck": self.page_stuck,
            "by": self.by,
            "raw": self.raw,
        }


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_box(value: object) -> tuple[int, int, int, int] | None:
    """An element's box (x, y, width, height), from the page's `{x, y, width, height}` or a finding's four numbers
    after a trip through JSON; None when it is neither (one reader for the page, state.json and preview jobs)."""
    if isinstance(value, dict):
        value = [value.get(key) for key in ("x", "y", "width", "height")]
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    if not all(isinstance(n, int | float) and not isinstance(n, bool) and abs(n) < 1e7 for n in value):
        return None
    return (round(value[0]), round(value[1]), round(value[2]), round(value[3]))


class ServiceReplyError(Exception):
    """The service answered a request with an error (a video that threw, a build that failed ...): its fault."""

    def __init__(self, fault: ServiceFault):
        super().__init__(fault.message)
        self.fault = fault


class DaemonUnavailable(VidgenError):
    """No daemon can serve this command (another one with other settings is busy, or it would not start)."""

    code = "daemon"


class ModelError(VidgenError):
    """A model/API problem the user must fix: exit 3."""

    exit_code = EXIT_MODEL
    code = "model"


class KeyProblem(VidgenError):
    """A key that is missing or a keys file vidgen must not use: exit 3, like any key problem."""

    exit_code = EXIT_MODEL
    code = "key"


class VoiceError(VidgenError):
    """Synthesis failed: the voice is missing, the endpoint refused, or what came back is not audio."""

    code = "voice"


class DiskFull(VidgenError):
    """No space left to write the manifest or a render: the batch stops and can be resumed."""

    code = "disk_full"


class ReplyError(Exception):
    """A reply vidgen cannot apply; `kind` classifies it for the model and the transcript."""

    def __init__(self, kind: str, message: str, file: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.file = file


class StoryboardError(ValueError):
    """storyboard.json (a model's reply or a hand edit) is not a storyboard: one line naming where and what."""

    def __init__(self, message: str, line: int | None = None, field: str = ""):
        self.line, self.field, self.problem = line, field, message
        at = f"storyboard.json{f' line {line}' if line else ''}{f', {field}' if field else ''}"
        super().__init__(f"{at}: {message}")


class VerdictError(ValueError):
    """The vision model's answer is not a verdict of the expected shape."""


class CloudError(VidgenError):
    """Remotion Lambda or AWS refused or failed (credentials, a rate limit, a timeout, a version): exit 3, one line."""

    exit_code = EXIT_MODEL
    code = "lambda"
