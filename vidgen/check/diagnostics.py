"""Turning raw tool output (ESLint, TypeScript, webpack, Remotion) into one StructuredError."""

from __future__ import annotations

import re
from pathlib import Path

from ..engine.messages import Diagnostic
from ..errors import Code, ServiceFault, StructuredError
from ..workspace import tree
from ..workspace.project import Video
from . import hints

MAX_MESSAGE = 400
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CANT_RESOLVE = re.compile(r"Can't resolve '([^']+)'")
_ESBUILD = re.compile(r"(?P<file>/[^\s:]+):(?P<line>\d+):(?P<column>\d+): ERROR: (?P<message>.+)")
_AT_FRAME = re.compile(r"\bat frame (\d+)")
_BABEL_LOC = re.compile(r"\((?P<line>\d+):(?P<column>\d+)\)")


def clean(text: str, video: Video | None = None) -> str:
    """Colour codes and absolute paths out, whitespace folded, length capped."""
    text = _ANSI.sub("", text)
    if video is not None:
        for prefix in (str(video.folder.resolve()) + "/", str(video.workspace.root.resolve()) + "/"):
            text = text.replace(prefix, "")
    text = re.sub(r"\s*\n\s*", " ", text).strip()
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1].rstrip() + "…"
    return text


def excerpt(path: Path, line: int | None, context: int = 2, root: Path | None = None) -> str | None:
    """A few numbered lines around `line`, the failing one marked with '>'.

    Read only if the file lies under `root` with no symbolic link on the way: the excerpt goes
    to the model, and a link could point at any file on the host.
    """
    if line is None:
        return None
    text = tree.read_text(root or path.parent, path)
    if text is None:
        return None
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    start, end = max(1, line - context), min(len(lines), line + context)
    width = len(str(end))
    return "\n".join(f"{'>' if n == line else ' '} {n:>{width}} | {lines[n - 1]}" for n in range(start, end + 1))


def make(
    stage: str,
    message: str,
    video: Video,
    *,
    file: str | Path | None = None,
    line: int | None = None,
    column: int | None = None,
    frame: int | None = None,
    code: Code | None = None,
    infra: bool = False,
) -> StructuredError:
    """A StructuredError with the path made relative to the video folder and an excerpt read.

    `code` is the stage's usual one unless given (a timeout, a crash, a full disk); `infra` says the
    fault may be the machine's (see StructuredError).
    """
    relative = video.relative(file) if file else None
    absolute = (video.folder / relative) if relative and not Path(relative).is_absolute() else None
    if absolute is not None and not absolute.exists():
        absolute = video.workspace.root / relative if relative else None
    return StructuredError(
        stage=stage,
        message=clean(message, video),
        file=relative,
        line=line,
        column=column,
        frame=frame,
        # Only code under src/ (the video's, the template's) is quoted: never a .env beside it.
        excerpt=excerpt(absolute, line, root=video.workspace.root / "src") if absolute is not None else None,
        code=code,
        infra=infra,
    )


def is_within(folder: Path, file: str | Path) -> bool:
    try:
        Path(file).resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def in_video(video: Video, file: str | None) -> bool:
    return file is not None and file != "" and is_within(video.folder, file)


def from_diagnostic(stage: str, video: Video, diagnostic: Diagnostic) -> StructuredError:
    """ESLint and TypeScript diagnostics already carry file, line and column."""
    message = hints.likely_export(hints.without_links(diagnostic.message))
    if diagnostic.rule and stage == "lint":
        message = f"{message} [{diagnostic.rule}]"
    return make(stage, message, video, file=diagnostic.file, line=diagnostic.line, column=diagnostic.column)


def from_bundle(video: Video, diagnostic: Diagnostic) -> StructuredError:
    """webpack's errors, with the loader and resolver noise taken out."""
    message = _ANSI.sub("", diagnostic.message)
    file, line, column = diagnostic.file, diagnostic.line, diagnostic.column
    syntax = _ESBUILD.search(message)
    resolve = _CANT_RESOLVE.search(message)
    if syntax:
        file, line, column = syntax["file"], int(syntax["line"]), int(syntax["column"]) + 1
        message = f"syntax error: {syntax['message']}"
    elif resolve:
        message = f"Can't resolve '{resolve[1]}'"
    else:
        message = message.split("\n    at ")[0]
        message = re.sub(r"^Module (build|parse) failed[^\n]*\n", "", message)
        loc = _BABEL_LOC.search(message)
        if loc and line is None:
            line, column = int(loc["line"]), int(loc["column"]) + 1
    return make("bundle", message, video, file=file, line=line, column=column)


def from_runtime(stage: str, video: Video, fault: ServiceFault) -> StructuredError:
    """An error thrown in the browser: the top stack frame inside the video folder locates it."""
    message = hints.without_links(hints.decode(fault.message.split("\n    at ")[0]))
    message = re.sub(r"^(Error|TypeError|ReferenceError|RangeError): ", lambda m: m[0] if m[1] != "Error" else "", message)
    file = line = column = None
    for frame in fault.stack:
        candidate = _resolve_stack_file(video, frame.file)
        if candidate is not None:
            file, line, column = candidate, frame.line, frame.column
            break
    frame_number = fault.frame
    if frame_number is None and (found := _AT_FRAME.search(message)):
        frame_number = int(found[1])
    code = _RUNTIME_CODES.get(fault.kind, Code.RUNTIME)
    infra = False
    if fault.kind == "timeout":
        # A page that still answered was slowed down, which load can explain; one that never did is the code's.
        code, infra = Code.TIMEOUT, not fault.page_stuck
        if "delayRender" not in message:
            message = (
                f"frame {frame_number if frame_number is not None else '?'} did not finish in time: an endless loop"
                " or a stuck computation in the component; the render service was restarted"
            )
    return make(stage, message, video, file=file, line=line, column=column, frame=frame_number, code=code, infra=infra)


# The service's error kinds (docs/protocol.md) that say more than "the video threw" (a crashed
# browser never reaches here: failures.runtime_failure reports it without a stack).
_RUNTIME_CODES = {"usage": Code.USAGE, "disk-full": Code.DISK_FULL}


def _resolve_stack_file(video: Video, name: str) -> Path | None:
    """Stack frames name files as webpack saw them (absolute, ./src/..., webpack://...)."""
    name = re.sub(r"^webpack://[^/]*/", "", name)
    for candidate in (Path(name), video.workspace.root / name):
        if candidate.is_absolute() and in_video(video, str(candidate)) and candidate.exists():
            return candidate
    return None
