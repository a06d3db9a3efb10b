"""The record of sources that passed lint and typecheck, so a check of unchanged sources skips them.

A fresh process pays seconds to load ESLint and TypeScript; when nothing they read changed since a
video last passed both, their verdict cannot change either. The key hashes everything they read:
the video's folder, the workspace's shared sources (`src/` outside `src/videos/`), the lint and
TypeScript configuration, the installed packages' lock files, the checker itself and vidgen's
version. Any change to one of them is a new key, so an edit is always checked again.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from .. import __version__
from ..workspace import resources
from ..workspace.files import atomic_write
from ..workspace.project import Video, Workspace

# What the lint and typecheck verdicts read besides the video's own folder and src/.
_CONFIG_FILES = ("eslint.config.mjs", "tsconfig.json", "package.json", "package-lock.json", "node_modules/.package-lock.json")


def key(video: Video) -> str:
    """A hash of everything lint and typecheck read for this video, as it is on disk now."""
    workspace = video.workspace
    digest = hashlib.sha256(f"vidgen {__version__}\0".encode())
    _hash_file(digest, "checker", resources.template_dir() / "service" / "checker.mjs")
    for name in _CONFIG_FILES:
        _hash_file(digest, name, workspace.root / name)
    videos = workspace.root / "src" / "videos"
    _hash_tree(digest, workspace.root / "src", skip=videos)
    digest.update(b"\0video\0")
    _hash_tree(digest, video.folder)
    return digest.hexdigest()


def is_current(video: Video, current: str) -> bool:
    """Whether `current` is the key of the video's last sources that passed lint and typecheck."""
    try:
        return _record(video).read_text() == current
    except (OSError, UnicodeDecodeError):
        return False  # no record, or an unreadable one: check


def remember(video: Video, passed: str) -> None:
    """Record that the sources with key `passed` passed lint and typecheck, if the record can be written.

    A record that cannot be written (a full disk, something else in its place) only costs the next
    check its skip: the check itself has passed.
    """
    try:
        atomic_write(_record(video), passed)
    except OSError:
        pass


def _record(video: Video) -> Path:
    return _folder(video.workspace) / video.name


def _folder(workspace: Workspace) -> Path:
    return workspace.state_dir / "checked"


def _hash_file(digest: hashlib._Hash, name: str, path: Path) -> None:
    """A name and its content; a link is hashed as its target's name, a missing file as missing."""
    digest.update(f"{name}\0".encode())
    try:
        info = path.lstat()
    except FileNotFoundError:
        digest.update(b"missing\0")
        return
    if stat.S_ISLNK(info.st_mode):
        digest.update(f"link {os.readlink(path)}\0".encode())
    elif stat.S_ISREG(info.st_mode):
        data = path.read_bytes()
        digest.update(f"{len(data)}\0".encode())
        digest.update(data)
    else:
        digest.update(f"mode {info.st_mode}\0".encode())


def _hash_tree(digest: hashlib._Hash, folder: Path, skip: Path | None = None) -> None:
    """Every entry under `folder`, hidden ones included (the checkers see them), links not followed."""
    for top, dirs, names, _ in os.fwalk(folder, follow_symlinks=False):
        here = Path(top)
        dirs[:] = sorted(name for name in dirs if here / name != skip)
        for name in sorted(names + [d for d in dirs if (here / d).is_symlink()]):
            _hash_file(digest, (here / name).relative_to(folder).as_posix(), here / name)
