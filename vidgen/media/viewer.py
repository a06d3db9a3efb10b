"""Opening a result with the desktop's own viewer (`xdg-open`, or `open` on macOS)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..errors import VidgenError

OPENERS = ("xdg-open", "open")
# xdg-open hands the file to the viewer and returns: on a machine without a desktop it fails at once.
# One still running after this long is taken to be showing the file.
_FAILS_WITHIN_S = 3.0


def opener() -> str | None:
    """The desktop's opener on PATH, if there is one."""
    return next((found for name in OPENERS if (found := shutil.which(name))), None)


def no_viewer(path: Path) -> VidgenError:
    return VidgenError(f"no xdg-open or open on this machine to show the video: it is at {path.resolve()}")


def open_file(path: Path) -> None:
    """Hand `path` to the desktop's viewer, detached (the viewer outlives vidgen); a VidgenError naming
    where the file is when the opener fails (no desktop, no viewer for the type)."""
    found = opener()
    if found is None:
        raise no_viewer(path)
    process = subprocess.Popen(
        [found, str(path.resolve())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        code = process.wait(timeout=_FAILS_WITHIN_S)
    except subprocess.TimeoutExpired:
        return
    if code != 0:
        raise VidgenError(
            f"{Path(found).name} could not show the video (exit {code}; is there a desktop?): it is at {path.resolve()}"
        )
