"""A per-video transcript of model exchanges in .vidgen/transcripts/<name>.jsonl (never a key)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from .workspace import Video

_lock = threading.Lock()


def _path(video: Video):
    return video.workspace.state_dir / "transcripts" / f"{video.name}.jsonl"


def append(video: Video, entry: dict[str, Any]) -> None:
    """One exchange: the messages sent, the reply, usage, and the error it led to (if any)."""
    line = json.dumps({"time": datetime.now(UTC).isoformat(timespec="seconds"), **entry})
    with _lock:
        path = _path(video)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def read(video: Video) -> list[dict[str, Any]]:
    path = _path(video)
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by a crash: the rest is still readable
    return entries
