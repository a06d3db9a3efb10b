"""What vidgen remembers about each video's last check or render, for `vidgen list`."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from .files import atomic_write
from .workspace import Workspace

_lock = threading.Lock()


def _path(workspace: Workspace):
    return workspace.state_dir / "state.json"


def read(workspace: Workspace) -> dict[str, dict[str, Any]]:
    path = _path(workspace)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def record(workspace: Workspace, name: str, **entry: Any) -> None:
    """Store the latest outcome for a video, atomically (a crash never leaves half a file)."""
    with _lock:
        data = read(workspace)
        data[name] = {**entry, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        atomic_write(_path(workspace), json.dumps(data, indent=2))
