"""The video of each rendered version, kept in .vidgen/renders/<name>/v<N>.mp4 for undo and redo.

N is the history version the render's sources are (see history.version_for). Beside the MP4 sit
the poster, GIF preview and contact sheet of that render (v<N>.poster.png, ...). They are hard
links to the files written in out/ where the disk allows (no second copy: out/ only ever gets
new files by rename, so a kept file never changes), copies otherwise. Only the newest
`[render] keep_versions` versions keep a video.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import UsageError
from . import history, state
from .project import Video

# What a render writes beside out/<name>.mp4, by the suffix after the video's name.
ARTEFACTS = (".mp4", ".poster.png", ".preview.gif", ".sheet.png")
_KEPT = re.compile(r"v(\d+)\.mp4")


def folder(video: Video) -> Path:
    """The folder of a video's kept renders; one that is a link or a file is a UsageError, never followed."""
    path = video.workspace.state_dir / "renders" / video.name
    for part in (path.parent, path):
        if part.is_symlink() or (part.exists() and not part.is_dir()):
            raise UsageError(f"{part} is not a folder: move it aside so vidgen can keep each version's video there")
    return path


def check(video: Video) -> None:
    """Before a render or an undo: the kept renders are usable (each v<N>.mp4 a plain file)."""
    path = folder(video)
    if not path.is_dir():
        return
    for entry in path.iterdir():
        if _KEPT.fullmatch(entry.name) and (entry.is_symlink() or not entry.is_file()):
            raise UsageError(f"{entry} is not a video file: move it aside (vidgen keeps version {entry.stem[1:]}'s video there)")


def kept(video: Video) -> set[int]:
    """The versions whose video is kept."""
    path = folder(video)
    if not path.is_dir():
        return set()
    found = set()
    for entry in path.iterdir():
        match = _KEPT.fullmatch(entry.name)
        if match and entry.is_file() and not entry.is_symlink():
            found.add(int(match[1]))
    return found


def keep(video: Video, number: int, mp4: Path, limit: int) -> Path | None:
    """Keep the render at `mp4` (and what was written beside it) as version `number`'s video."""
    if limit <= 0:
        return None
    check(video)
    path = folder(video)
    path.mkdir(parents=True, exist_ok=True)
    for suffix in ARTEFACTS:
        source = mp4 if suffix == ".mp4" else mp4.with_name(mp4.stem + suffix)
        target = path / f"v{number}{suffix}"
        if source.is_file():
            link(source, target)
        else:
            target.unlink(missing_ok=True)  # an artefact of an older render of this version
    _prune(video, limit)
    return path / f"v{number}.mp4"


def restore(video: Video, number: int, mp4: Path) -> Path | None:
    """Put version `number`'s kept video (and its poster, preview, sheet) at `mp4`; None when none is kept."""
    check(video)
    path = folder(video)
    if number not in kept(video):
        return None
    mp4.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ARTEFACTS:
        source = path / f"v{number}{suffix}"
        target = mp4 if suffix == ".mp4" else mp4.with_name(mp4.stem + suffix)
        if source.is_file():
            link(source, target)
        elif target.is_file():
            target.unlink()  # belongs to another version: better none than a wrong one
    return mp4


def _prune(video: Video, limit: int) -> None:
    path = folder(video)
    for number in sorted(kept(video))[:-limit]:
        for suffix in ARTEFACTS:
            (path / f"v{number}{suffix}").unlink(missing_ok=True)


def link(source: Path, target: Path) -> None:
    """`target` becomes `source`'s content, atomically: a hard link where possible, else a copy."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(temporary)
    try:
        partial.unlink()
        try:
            os.link(source, partial)
        except OSError:  # another disk, or a filesystem without hard links
            shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def step(video: Video, move: Callable[[Video], history.Version]) -> tuple[history.Version, Path | None]:
    """Undo or redo (`move`), then put that version's kept video in out/ (no re-render); None when it has none."""
    check(video)  # a bad kept render is reported before any file is swapped
    version = move(video)
    restored = restore(video, version.number, video.workspace.out_dir / f"{video.name}.mp4")
    if restored is not None:
        sources = state.fingerprint(state.sources_of(video))
        state.record(
            video.workspace,
            video.name,
            status="rendered",
            output=str(restored),
            sources=sources,
            version=version.number,
            at=restored.stat().st_mtime,  # when that version was rendered (the kept file is linked), not now
        )
    return version, restored


def version_rows(video: Video) -> list[dict[str, Any]]:
    """Every version as `history --json` and the MCP `history` tool show it: its record, whether it is the
    current one, whether its video is kept."""
    versions = history.versions(video)
    current = history.current(video, versions)
    with_video = kept(video)
    return [
        {
            "number": v.number,
            **v.meta,
            "current": current is not None and v.number == current.number,
            "video": v.number in with_video,
        }
        for v in versions
    ]


def newest(video: Video) -> Path | None:
    """The video's newest render on disk: the one `list` knows of, else out/<name>.mp4."""
    entry = state.read(video.workspace).get(video.name) or {}
    candidates = [Path(entry["output"])] if entry.get("status") == "rendered" and entry.get("output") else []
    candidates.append(video.workspace.out_dir / f"{video.name}.mp4")
    return next((path for path in candidates if path.is_file()), None)
