"""The error hierarchy, exit codes, and the structured error every failing stage produces."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_MODEL = 3


@dataclass(frozen=True)
class StructuredError:
    """One failure, whatever the stage: what the CLI shows, --json prints and the model reads."""

    stage: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    frame: int | None = None
    excerpt: str | None = None

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def one_line(self) -> str:
        return _one_line(self.kind, _location(self.file, self.line), self.message, self.frame)


def _location(file: str | None, *numbers: int | None) -> str:
    """`file:line[:column]`, as much of it as is known."""
    return ":".join([file] + [str(n) for n in numbers if n is not None]) if file else ""


def _one_line(label: str, where: str, message: str, frame: int | None) -> str:
    """How an error or a finding reads on one line: `label: where: message (frame N)`."""
    return f"{label}: {where + ': ' if where else ''}{message}{f' (frame {frame})' if frame is not None else ''}"


class VidgenError(Exception):
    """An error with a message meant for the user and the exit code it ends with."""

    exit_code = EXIT_FAILED


class UsageError(VidgenError):
    """The user asked for something that cannot be done as asked: fix the command or setup."""

    exit_code = EXIT_USAGE


class ServiceError(VidgenError):
    """The render service could not answer (crashed, timed out, could not start)."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, kind: str = "crash", frame: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.frame = frame


class Cancelled(VidgenError):
    """A request was cancelled (Ctrl-C, or a newer save in watch)."""

    exit_code = EXIT_FAILED
