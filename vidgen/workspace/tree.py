"""Reading a video folder's files without following a symbolic link out of it.

What is read here is sent to the model (`edit`, repairs) or kept in history, so a link to a
secret file, a FIFO or a device is never opened: it is skipped and named in `skipped`.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

SEND_BYTES = 1024 * 1024  # a file larger than this is not sent to the model (history keeps any size)


@dataclass
class Tree:
    files: dict[str, bytes] = field(default_factory=dict)  # relative POSIX path -> content
    skipped: list[str] = field(default_factory=list)  # links, special files (and files over max_bytes)


def _read_at(name: str, dir_fd: int, max_bytes: int | None = None) -> bytes | None:
    """A regular file's bytes, opened without following a link; None if it is not one (or too big)."""
    try:
        handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EACCES, errno.ENOENT):
            return None
        raise
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or (max_bytes is not None and info.st_size > max_bytes):
            return None
        with os.fdopen(handle, "rb", closefd=False) as source:
            data = source.read() if max_bytes is None else source.read(max_bytes + 1)
        return data if max_bytes is None or len(data) <= max_bytes else None
    finally:
        os.close(handle)


def read(folder: Path, max_bytes: int | None = None) -> Tree:
    """Every regular file under `folder` (hidden ones left out); links are never followed."""
    tree = Tree()
    if not folder.is_dir() or folder.is_symlink():
        return tree
    for top, dirs, names, dir_fd in os.fwalk(folder, follow_symlinks=False):
        relative = Path(top).relative_to(folder)
        for name in list(dirs):
            # fwalk lists links to folders among the folders but never enters them: name them.
            if name.startswith(".") or stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                dirs.remove(name)
                if not name.startswith("."):
                    tree.skipped.append((relative / name).as_posix())
        dirs.sort()
        for name in sorted(names):
            if name.startswith("."):
                continue
            data = _read_at(name, dir_fd, max_bytes)
            if data is None:
                tree.skipped.append((relative / name).as_posix())
            else:
                tree.files[(relative / name).as_posix()] = data
    tree.skipped.sort()
    return tree


def read_text(root: Path, path: Path) -> str | None:
    """One file's text if it lies under `root` with no link on the way; None otherwise."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    if not parts or root.is_symlink():
        return None
    current = root
    for part in parts[:-1]:
        current = current / part
        if not current.is_dir() or current.is_symlink():
            return None
    try:
        handle = os.open(current, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        data = _read_at(parts[-1], handle, SEND_BYTES)
    finally:
        os.close(handle)
    return data.decode(errors="replace") if data is not None else None
