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
        if not self.file:
            return ""
        parts = [self.file] + [str(n) for n in (self.line, self.column) if n is not None]
        return ":".join(parts)

    def one_line(self) -> str:
        where = self.location()
        frame = f" (frame {self.frame})" if self.frame is not None else ""
        return f"{self.stage}: {where + ': ' if where else ''}{self.message}{frame}"


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
        where = ":".join([self.file] + ([str(self.line)] if self.line is not None else [])) if self.file else ""
        frame = f" (frame {self.frame})" if self.frame is not None else ""
        return f"{self.kind}: {where + ': ' if where else ''}{self.message}{frame}"


class VidgenError(Exception):
    """An error with a message meant for the user and the exit code it ends with."""

    exit_code = EXIT_FAILED


class UsageError(VidgenError):
    """The user asked for something that cannot be done as asked: fix the command or setup."""

    exit_code = EXIT_USAGE


class WorkFailed(VidgenError):
    """The work was attempted and failed; `error` says where."""

    exit_code = EXIT_FAILED

    def __init__(self, error: StructuredError):
        super().__init__(error.one_line())
        self.error = error


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
