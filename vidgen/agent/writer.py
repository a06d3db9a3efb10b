"""The one guard every write of model output goes through.

Only inside src/videos/<name>/, only .ts .tsx .json .css, plain short names (no NUL, no
control characters), no absolute paths, no `..`, no symbolic link followed, a size cap, never
package files, lockfiles, config, .env or node_modules; each file written atomically, and
nothing written unless every file passes.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath

from ..errors import ReplyError, VidgenError
from ..workspace.files import atomic_write
from ..workspace.project import GENERATED_FILES, Video
from .replies import FileBlock

ALLOWED_SUFFIXES = {".ts", ".tsx", ".json", ".css"}
PROTECTED_NAMES = {"package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "tsconfig.json"}
MAX_FILE_BYTES = 256 * 1024
MAX_FILES = 40


MAX_PART = 100  # characters in one folder or file name: far below the filesystem's 255 bytes
MAX_DEPTH = 6
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]*")


def _shown(path: str) -> str:
    """A path as it may appear in a message: control characters masked, length capped."""
    masked = "".join(c if c.isprintable() else "?" for c in path)
    return masked if len(masked) <= 80 else masked[:77] + "..."


def _refuse(path: str, why: str) -> ReplyError:
    return ReplyError("refused", f"refused to write {_shown(path)}: {why}", _shown(path))


def _check_name(relative: str, pure: PurePosixPath) -> None:
    """Names the filesystem takes as they are: no NUL or control character, nothing over-long."""
    if not relative.isprintable():
        raise _refuse(relative, "the path has a control character (NUL, newline, ...); use plain file names")
    if len(pure.parts) > MAX_DEPTH:
        raise _refuse(relative, f"the path is more than {MAX_DEPTH} folders deep")
    for part in pure.parts:
        if len(part) > MAX_PART:
            raise _refuse(relative, f"a name in it is over {MAX_PART} characters; use short file names")
        if part not in (".", "..") and not part.startswith(".") and not _PART.fullmatch(part):
            raise _refuse(relative, "use only letters, digits, '-', '_' and '.' in file and folder names")


def _check_on_disk(video: Video, relative: str, pure: PurePosixPath) -> None:
    """No symbolic link from the videos folder down to the file, and nothing there but folders and a file."""
    current = video.workspace.root
    steps = ["src", "videos", video.name, *pure.parts]
    for index, part in enumerate(steps):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _refuse(relative, f"it cannot be checked ({exc.strerror})") from None
        if stat.S_ISLNK(mode):
            raise _refuse(relative, "it goes through a symbolic link")
        last = index == len(steps) - 1
        if not last and not stat.S_ISDIR(mode):
            raise _refuse(relative, f"{'/'.join(steps[3 : index + 1])} is a file, not a folder")
        if last and not stat.S_ISREG(mode):
            raise _refuse(relative, "a folder or special file is in its place")


def check_path(video: Video, relative: str) -> Path:
    """Where `relative` lands inside the video folder, or a ReplyError saying why it may not."""
    pure = PurePosixPath(relative)
    if not relative or pure.is_absolute() or relative.startswith("~") or ":" in relative:
        raise _refuse(relative, "paths must be relative to the video folder")
    if any(part == ".." for part in pure.parts):
        raise _refuse(relative, "paths must stay inside the video folder (no ..)")
    if any(part == "node_modules" or part.startswith(".") for part in pure.parts):
        raise _refuse(relative, "node_modules and hidden files (.env, ...) are off limits")
    name = pure.name.lower()
    if name in PROTECTED_NAMES or re.search(r"\.config\.\w+$|^\.?\w*rc(\.\w+)?$", name) or name.endswith((".lock", ".lockb")):
        raise _refuse(relative, "package, lock and config files are off limits; only the video's own code")
    if pure.suffix not in ALLOWED_SUFFIXES:
        raise _refuse(relative, f"only {', '.join(sorted(ALLOWED_SUFFIXES))} files may be written")
    _check_name(relative, pure)
    _check_on_disk(video, relative, pure)
    return video.folder.joinpath(*pure.parts)


def _check_layout(blocks: list[FileBlock]) -> None:
    """No file of the reply where another one needs a folder (`a.ts` and `a.ts/b.ts`)."""
    paths = {PurePosixPath(b.path) for b in blocks}
    for block in blocks:
        for parent in PurePosixPath(block.path).parents:
            if parent in paths:
                raise _refuse(block.path, f"{parent} is also sent as a file")


def write(video: Video, blocks: list[FileBlock]) -> list[Path]:
    """Check every file, then write each atomically; returns the paths written.

    Nothing is written unless every path passes; if the disk refuses a write halfway, the
    files already written are put back as they were, so a reply lands whole or not at all.
    """
    if len(blocks) > MAX_FILES:
        raise ReplyError("refused", f"the reply has {len(blocks)} files; at most {MAX_FILES} per video")
    # A model that echoes narration.ts back sends an old copy: vidgen writes that file itself.
    blocks = [block for block in blocks if block.path not in GENERATED_FILES]
    planned: list[tuple[Path, bytes]] = []
    for block in blocks:
        target = check_path(video, block.path)
        data = block.text.encode(errors="replace")  # a lone surrogate from a JSON escape becomes "?"
        if len(data) > MAX_FILE_BYTES:
            raise _refuse(block.path, f"it is {len(data) // 1024} KiB; the cap is {MAX_FILE_BYTES // 1024} KiB per file")
        planned.append((target, data))
    _check_layout(blocks)
    written: list[tuple[Path, bytes | None]] = []
    try:
        for target, data in planned:
            before = target.read_bytes() if target.is_file() else None
            atomic_write(target, data)
            written.append((target, before))
    except OSError as exc:
        _put_back(written)
        raise VidgenError(
            f"could not write {video.relative(target)} ({exc.strerror or exc}): nothing from the reply was kept in"
            f" {video.folder}; the reply is in the transcript (`vidgen show {video.name}`)"
        ) from None
    return [target for target, _ in written]


def _put_back(written: list[tuple[Path, bytes | None]]) -> None:
    for target, before in reversed(written):
        try:
            if before is None:
                target.unlink(missing_ok=True)
            else:
                atomic_write(target, before)
        except OSError:
            pass  # the disk that refused the write may refuse this too; history still has the version
