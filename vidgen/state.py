"""What vidgen remembers about each video's last check or render, for `vidgen list`."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from . import loader
from .files import atomic_write
from .workspace import Workspace

_lock = threading.Lock()


def _path(workspace: Workspace):
    return workspace.state_dir / "state.json"


SHAPE = loader.Each(
    {"status": loader.Required(str), "at": loader.Required(str), "stage": (str, None), "message": (str, None), "output": str}
)


def read(workspace: Workspace) -> dict[str, dict[str, Any]]:
    """The state of every video; a damaged file is a UsageError (it only remembers, so deleting it is safe)."""
    path = _path(workspace)
    fix = "delete it (it only remembers each video's last check, for `vidgen list`)"
    data: dict[str, dict[str, Any]] = loader.read_json(path, SHAPE, fix, default=dict)
    return data


def record(workspace: Workspace, name: str, **entry: Any) -> None:
    """Store the latest outcome for a video, atomically (a crash never leaves half a file)."""
    with _lock:
        data = read(workspace)
        data[name] = {**entry, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        atomic_write(_path(workspace), json.dumps(data, indent=2))
