"""What vidgen remembers about each video's last check or render, for `vidgen list` and `edit`.

Each entry carries a content hash of the video's files as they were when it was recorded, so
`list` can tell a render that still matches its sources from one that is outdated. It also keeps
the warnings the last passing check or render found (with the hash of the sources they were found
in): `edit` sends those that are still open to the model with the user's change.

It also keeps the workspace's src/registered.ts, the videos Studio and `npx remotion render` bundle:
every video but those whose current sources failed their last check, so a broken one never breaks the others.
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
from .project import NAME_PATTERN, Video, Workspace, authored

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
        _register(workspace, data)


def note_warnings(workspace: Workspace, name: str, findings: list[Finding], sources: str) -> None:
    """Keep the warnings a passing check found in these sources, leaving the rest of the entry as it is."""
    with _lock:
        data = read(workspace)
        entry = data.get(name) or {"status": "checked", "sources": sources}
        data[name] = {**entry, "warnings": warnings_of(findings, sources), "at": _stamp()}
        atomic_write(_path(workspace), json.dumps(data, indent=2))
        _register(workspace, data)


def warnings_of(findings: list[Finding], sources: str) -> dict[str, Any]:
    """An entry's `warnings`: the warning findings, and the sources they were found in."""
    return {"sources": sources, "findings": [finding.to_dict() for finding in findings if finding.severity == "warning"]}


def open_warnings(video: Video) -> list[Finding]:
    """The warnings last found in the video's files, if the files are still those (a hand edit may have fixed them)."""
    entry = read(video.workspace).get(video.name) or {}
    kept = entry.get("warnings") or {}
    if kept.get("sources") != fingerprint(sources_of(video)):
        return []
    found = (Finding.from_dict(item) for item in kept.get("findings") or [] if isinstance(item, dict))
    return [finding for finding in found if finding is not None]


def failing(workspace: Workspace, data: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """The videos whose files are the very ones that failed their last check (an edit since may have fixed them)."""
    data = read(workspace) if data is None else data
    return sorted(
        name
        for name, entry in data.items()
        if entry.get("status") == "failed"
        and NAME_PATTERN.match(name)
        and (workspace.root / "src" / "videos" / name / "index.tsx").is_file()
        and entry.get("sources") == fingerprint(sources_of(workspace.video(name)))
    )


def registered_source(failed: list[str]) -> str:
    """src/registered.ts for these failing videos: a require.context that leaves their folders out of the bundle."""
    skip = f"(?!(?:{'|'.join(failed)})\\/)" if failed else ""
    return (
        "// Written by vidgen: every video but those whose last check failed (until they pass). Do not edit.\n"
        f"export const registered = require.context('./videos', true, /^\\.\\/{skip}[a-z0-9][a-z0-9-]*\\/index\\.tsx$/, 'lazy');\n"
    )


def _register(workspace: Workspace, data: dict[str, dict[str, Any]]) -> None:
    path = workspace.root / "src" / "registered.ts"
    text = registered_source(failing(workspace, data))
    try:
        if not path.is_file() or path.read_text() != text:  # unchanged, it never wakes Studio's rebuild
            atomic_write(path, text)
    except OSError:
        pass  # a full disk: written with the next check


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


def status(entry: dict[str, Any] | None, video: Video) -> str:
    """An entry in one word: "never rendered", "rendered", "failed", or "outdated" when the sources changed since."""
    if entry is None or entry.get("status") == "checked":  # checked, with warnings, but never rendered
        return "never rendered"
    recorded = entry.get("sources")
    if recorded is not None and recorded != fingerprint(sources_of(video)):
        return "outdated"
    return "rendered" if entry.get("status") == "rendered" else "failed"


def describe(entry: dict[str, Any] | None, video: Video) -> str:
    """`list`'s words for an entry: never rendered, rendered, failed, or outdated when the sources changed since."""
    word = status(entry, video)
    if entry is None or word == "never rendered":
        return "never rendered"
    rendered = entry.get("status") == "rendered"
    what = (
        f"rendered at {entry['at']}"
        if rendered
        else f"failed at {entry.get('stage')} ({entry['at']}): {entry.get('message', '')}"
    )
    if word == "outdated":
        return f"outdated: the sources changed since it {what.replace('rendered at', 'was rendered at')}"
    return what
