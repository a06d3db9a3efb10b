"""Finding a Chrome or Chromium to render with, since Remotion cannot download one offline."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import UsageError

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
