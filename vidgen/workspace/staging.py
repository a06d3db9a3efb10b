"""Where a render is written before it is verified and moved into place: the staging folder and its names."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .project import Video

# `.NAME.partial-PID.ext`: a render being written; the daemon removes one whose command is gone.
PARTIAL_NAME = re.compile(r"\.[^/]+\.partial-\d+\.[a-z0-9]+")


def staging_dir(video: Video) -> Path:
    folder = video.workspace.state_dir / "staging"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def partial_path(video: Video, target: Path) -> Path:
    """Where the service writes: the workspace's staging folder, the one place in its jail it may write
    a video (the target itself can be anywhere the user names)."""
    return staging_dir(video) / f".{target.stem}.partial-{os.getpid()}{target.suffix}"
