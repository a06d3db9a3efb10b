"""The one guard every write of model output goes through.

Only inside src/videos/<name>/, only .ts .tsx .json .css, no absolute paths, no `..`, no
symbolic link followed, a size cap, never package files, lockfiles, config, .env or
node_modules; each file written atomically, and nothing written unless every file passes.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath

from .files import atomic_write
from .replies import FileBlock, ReplyError
from .workspace import Video

ALLOWED_SUFFIXES = {".ts", ".tsx", ".json", ".css"}
PROTECTED_NAMES = {"package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "tsconfig.json"}
MAX_FILE_BYTES = 256 * 1024
MAX_FILES = 40


def _refuse(path: str, why: str) -> ReplyError:
    return ReplyError("refused", f"refused to write {path}: {why}", path)


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
    folder = video.folder
    target = folder.joinpath(*pure.parts)
    # No symbolic link anywhere from the videos folder down to the file, existing or not.
    current = video.workspace.root / "src" / "videos"
    for part in [video.name, *pure.parts]:
        current = current / part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                raise _refuse(relative, "it goes through a symbolic link")
        except FileNotFoundError:
            break
    return target


def write(video: Video, blocks: list[FileBlock]) -> list[Path]:
    """Check every file, then write each atomically; returns the paths written."""
    if len(blocks) > MAX_FILES:
        raise ReplyError("refused", f"the reply has {len(blocks)} files; at most {MAX_FILES} per video")
    planned: list[tuple[Path, bytes]] = []
    for block in blocks:
        target = check_path(video, block.path)
        data = block.text.encode()
        if len(data) > MAX_FILE_BYTES:
            raise _refuse(block.path, f"it is {len(data) // 1024} KiB; the cap is {MAX_FILE_BYTES // 1024} KiB per file")
        planned.append((target, data))
    written = []
    for target, data in planned:
        atomic_write(target, data)
        written.append(target)
    return written
