"""What vidgen remembers about each video's last check or render, for `vidgen list` and `edit`.

Each entry carries a content hash of the video's files as they were when it was recorded, so
`list` can tell a render that still matches its sources from one that is outdated. It also keeps
the warnings the last passing check or render found (with the hash of the sources they were found
in): `edit` sends those that are still open to the model with the user's change.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from typing import Any

from .. import loader
from ..errors import Finding
from . import tree
from .files import atomic_write
from .project import Video, Workspace, authored

_lock = threading.Lock()


def _path(workspace: Workspace):
    return workspace.state_dir / "state.json"


SHAPE = loader.Each(
    {
        "status": loader.Required(str),
        "at": loader.Required(str),
        "stage": (str, None),
        "message": (str, None),
        "output": str,
        "sources": str,
        "version": (int, None),
        "warnings": {"sources": loader.Required(str), "findings": loader.Required([dict])},
    }
)


def read(workspace: Workspace) -> dict[str, dict[str, Any]]:
    """The state of every video; a damaged file is a UsageError (it only remembers, so deleting it is safe)."""
    path = _path(workspace)
    fix = "delete it (it only remembers each video's last check, for `vidgen list`)"
    data: dict[str, dict[str, Any]] = loader.read_json(path, SHAPE, fix, default=dict)
    return data


def record(workspace: Workspace, name: str, *, at: float | None = None, **entry: Any) -> None:
    """Store the latest outcome for a video, atomically (a crash never leaves half a file); `at` is when it
    happened (a timestamp; now when not given)."""
    with _lock:
        data = read(workspace)
        data[name] = {**entry, "at": _stamp(at)}
        atomic_write(_path(workspace), json.dumps(data, indent=2))


def note_warnings(workspace: Workspace, name: str, findings: list[Finding], sources: str) -> None:
    """Keep the warnings a passing check found in these sources, leaving the rest of the entry as it is."""
    with _lock:
        data = read(workspace)
        entry = data.get(name) or {"status": "checked", "sources": sources}
        data[name] = {**entry, "warnings": warnings_of(findings, sources), "at": _stamp()}
        atomic_write(_path(workspace), json.dumps(data, indent=2))


def warnings_of(findings: list[Finding], sources: str) -> dict[str, Any]:
    """An entry's `warnings`: the warning findings, and the sources they were found in."""
    return {"sources": sources, "findings": [finding.to_dict() for finding in findings if finding.severity == "warning"]}


def open_warnings(video: Video) -> list[Finding]:
    """The warnings last found in the video's files, if the files are still those (a hand edit may have fixed them)."""
    entry = read(video.workspace).get(video.name) or {}
    kept = entry.get("warnings") or {}
    if kept.get("sources") != fingerprint(sources_of(video)):
        return []
    known = set(Finding.__dataclass_fields__)
    found = []
    for item in kept.get("findings") or []:
        fields = {key: value for key, value in item.items() if key in known}
        if {"kind", "severity", "message"} <= set(fields):
            found.append(Finding(**fields))
    return found


def _stamp(at: float | None = None) -> str:
    """An entry's `at`: the time `at` (a timestamp), or now."""
    when = datetime.now(UTC) if at is None else datetime.fromtimestamp(at, UTC)
    return when.isoformat(timespec="seconds")


def fingerprint(files: dict[str, bytes]) -> str:
    """A content hash of a video's files: names and bytes, in a fixed order; the files vidgen generates
    from the others leave it unchanged (a render that regenerates one outdates nothing)."""
    digest = hashlib.sha256()
    files = authored(files)
    for relative in sorted(files):
        data = files[relative]
        digest.update(f"{relative}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:16]


def sources_of(video: Video) -> dict[str, bytes]:
    """The video's files as they are now (links and special files left out, as everywhere)."""
    return tree.read(video.folder).files


def describe(entry: dict[str, Any] | None, video: Video) -> str:
    """`list`'s words for an entry: never rendered, rendered, failed, or outdated when the sources changed since."""
    if entry is None or entry.get("status") == "checked":  # checked, with warnings, but never rendered
        return "never rendered"
    rendered = entry.get("status") == "rendered"
    what = (
        f"rendered at {entry['at']}"
        if rendered
        else f"failed at {entry.get('stage')} ({entry['at']}): {entry.get('message', '')}"
    )
    recorded = entry.get("sources")
    if recorded is not None and recorded != fingerprint(sources_of(video)):
        return f"outdated: the sources changed since it {what.replace('rendered at', 'was rendered at')}"
    return what
