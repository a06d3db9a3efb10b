"""A per-video transcript of model exchanges in .vidgen/transcripts/<name>.jsonl (never a key).

Each reply is appended the moment it arrives, before it is parsed or written, so a paid reply
is kept whatever happens next; what it led to is filled in afterwards (`settle`).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import loader
from .files import atomic_write
from .project import NAME_PATTERN, Video, Workspace

_lock = threading.Lock()

ENTRY = {
    "time": loader.Required(str),
    "kind": loader.Required(str),
    "model": (str, None),  # the model asked (entries written before it was kept have none)
    "request": loader.Required({"role": str, "content": str}),
    "reply": str,
    "finish_reason": (str, None),
    "usage": loader.USAGE,
    "error": (loader.ERROR, None),
}


def _path(video: Video) -> Path:
    return video.workspace.state_dir / "transcripts" / f"{video.name}.jsonl"


def append(video: Video, entry: dict[str, Any]) -> str:
    """One exchange: the messages sent, the reply, usage, and the error it led to (if any); returns its id."""
    entry_id = uuid.uuid4().hex
    # Milliseconds: `vidgen logs` orders exchanges across videos' files by this time alone.
    line = json.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "id": entry_id, **entry})
    with _lock:
        path = _path(video)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
    return entry_id


def settle(video: Video, entry_id: str, **fields: Any) -> None:
    """Add what a reply led to (its error) to the entry appended for it; the file is rewritten atomically."""
    with _lock:
        path = _path(video)
        lines = path.read_bytes().split(b"\n")
        for index in range(len(lines) - 1, -1, -1):
            if entry_id.encode() not in lines[index]:
                continue
            try:
                entry = json.loads(lines[index])
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and entry.get("id") == entry_id:
                lines[index] = json.dumps({**entry, **fields}).encode()
                atomic_write(path, b"\n".join(lines))
                return


def read(video: Video) -> list[dict[str, Any]]:
    fix = f"move it aside (vidgen starts a new transcript for {video.name})"
    entries: list[dict[str, Any]] = loader.read_jsonl(_path(video), ENTRY, fix)
    return entries


def read_all(workspace: Workspace, name: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Every video's exchanges (or one video's), newest first, each with its video's name (`vidgen logs`)."""
    folder = workspace.state_dir / "transcripts"
    names = [name] if name is not None else sorted(p.stem for p in folder.glob("*.jsonl") if NAME_PATTERN.match(p.stem))
    found = [(n, index, entry) for n in names for index, entry in enumerate(read(workspace.video(n)))]
    # Within one file a later line is the newer one, whatever the times say (older entries kept whole seconds).
    found.sort(key=lambda item: (_when(item[2]["time"]), item[1]), reverse=True)
    return [(n, entry) for n, _index, entry in found]


def _when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)  # a hand-edited time sorts last rather than failing the listing
    return when if when.tzinfo else when.replace(tzinfo=UTC)
