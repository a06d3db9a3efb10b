"""Writing a file so that a crash, a Ctrl-C or a full disk never leaves half of it; a lock file held across processes."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def atomic_write(target: Path, data: bytes | str, mode: int | None = None) -> None:
    """Write to a temporary file beside the target, then rename over it.

    The file keeps the target's permissions (or gets the usual ones for a new file, or `mode`):
    the temporary file would otherwise carry mkstemp's owner-only 0600.
    """
    if isinstance(data, str):
        data = data.encode()
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def move_into_place(source: Path, target: Path) -> None:
    """Rename `source` over `target`; across file systems, copy it beside the target first, so the
    target is never seen half-written either way."""
    try:
        os.replace(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    source.unlink(missing_ok=True)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold `lock_file` (created if need be) exclusively: whoever holds it next, in any process, waits."""
    with open(lock_file, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
