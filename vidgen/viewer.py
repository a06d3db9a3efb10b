"""Opening a result with the desktop's own viewer (`xdg-open`, or `open` on macOS)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .errors import VidgenError

OPENERS = ("xdg-open", "open")


def opener() -> str | None:
    """The desktop's opener on PATH, if there is one."""
    return next((found for name in OPENERS if (found := shutil.which(name))), None)


def no_viewer(path: Path) -> VidgenError:
    return VidgenError(f"no xdg-open or open on this machine to show the video: it is at {path.resolve()}")


def open_file(path: Path) -> None:
    """Hand `path` to the desktop's viewer, detached (the viewer outlives vidgen)."""
    found = opener()
    if found is None:
        raise no_viewer(path)
    subprocess.Popen(
        [found, str(path.resolve())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
