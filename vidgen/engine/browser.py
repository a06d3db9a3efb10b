"""Finding a Chrome or Chromium to render with, since Remotion cannot download one offline."""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from ..errors import UsageError
from ..workspace.files import atomic_write

# Chromium limits headless frames to the display's rate and waits for vsync; a renderer that
# screenshots frame by frame gains nothing from either. Without them the frames are
# bit-identical and come about 40% faster (measured: 90 frames at 1280x720, 5.9 s -> 3.3 s).
# The flags are `[render] browser_flags` in vidgen.toml.

CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
)

INSTALL_HINT = "install one with `apt-get install -y chromium` or set VIDGEN_BROWSER to its path"


def find_browser(configured: str = "") -> str:
    """The browser to use: the configured path, else the first one found on this machine."""
    if configured:
        path = Path(configured).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise UsageError(
                f"browser {configured} (from VIDGEN_BROWSER or vidgen.toml) is not an executable file: {INSTALL_HINT}"
            )
        return str(path)
    for candidate in CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise UsageError(f"no Chrome or Chromium found: {INSTALL_HINT}")


def launcher(state_dir: Path, browser: str, flags: str) -> str:
    """The browser to hand to Remotion: a small script that adds `flags` (Remotion takes no extra ones)."""
    if not flags.strip():
        return browser
    script = state_dir / "browser-launcher.sh"
    text = f'#!/bin/sh\n# Written by vidgen: the browser below, with flags for faster renders and its network sandbox.\nexec {shlex.quote(browser)} {" ".join(shlex.quote(f) for f in shlex.split(flags))} "$@"\n'
    if not script.exists() or script.read_text() != text:
        atomic_write(script, text, mode=0o755)
    return str(script)
