"""Every version of a video that vidgen writes, kept in .vidgen/history/<name>/.

Before vidgen writes, what is on disk is kept as a version when it differs from the last
one, so a user's hand edits are never silently lost; `undo` and `diff` read from here.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import loader, tree
from .errors import UsageError
from .files import atomic_write
from .workspace import Video

META = {
    "version": int,
    "time": str,
    "kind": str,
    "prompt": str,
    "status": (str, None),
    "tokens": loader.USAGE,
}


@dataclass(frozen=True)
class Version:
    number: int
    folder: Path
    meta: dict[str, Any]

    def files(self) -> dict[str, str]:
        return _decoded(tree.read(self.folder / "files"))


def _root(video: Video) -> Path:
    return video.workspace.state_dir / "history" / video.name


def _decoded(found: tree.Tree) -> dict[str, str]:
    return {path: data.decode(errors="replace") for path, data in found.files.items()}


def current_files(video: Video) -> dict[str, str]:
    """The video's files on disk; links and special files are left out (see `sendable_files`)."""
    return _decoded(tree.read(video.folder))


def sendable_files(video: Video) -> tuple[dict[str, str], list[str]]:
    """The files that may be sent to the model, and the names left out (links, special or huge files)."""
    found = tree.read(video.folder, max_bytes=tree.SEND_BYTES)
    return _decoded(found), found.skipped


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for relative, data in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def versions(video: Video) -> list[Version]:
    """Every kept version; a damaged meta.json is a UsageError naming it, before anything is asked of the model."""
    root = _root(video)
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise UsageError(f"{root} is not a folder: move it aside so vidgen can keep versions of {video.name} there")
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        meta_path = folder / "meta.json"
        if folder.name.isdigit() and meta_path.is_file():
            fix = f"move the folder {folder} aside (it is one kept version of {video.name})"
            found.append(Version(int(folder.name), folder, loader.read_json(meta_path, META, fix)))
    return sorted(found, key=lambda v: v.number)


def _next_number(video: Video) -> int:
    # Every numbered entry counts, even one without a readable meta.json, so none is overwritten.
    root = _root(video)
    taken = [int(p.name) for p in root.iterdir() if p.name.isdigit()] if root.is_dir() else []
    return max(taken, default=0) + 1


def record(video: Video, kind: str, prompt: str = "", **meta: Any) -> Version:
    """Keep what is in the video folder now as a new version."""
    versions(video)  # a damaged history is reported before anything is added to it
    number = _next_number(video)
    folder = _root(video) / f"{number:04d}"
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    _write_files(staging / "files", tree.read(video.folder).files)
    info = {"version": number, "time": datetime.now(UTC).isoformat(timespec="seconds"), "kind": kind, "prompt": prompt, **meta}
    (staging / "meta.json").write_text(json.dumps(info, indent=2))
    os.replace(staging, folder)
    return Version(number, folder, info)


def update(version: Version, **meta: Any) -> None:
    """Add what became known later (status, tokens) to a version."""
    atomic_write(version.folder / "meta.json", json.dumps({**version.meta, **meta}, indent=2))


def keep_hand_edits(video: Video) -> Version | None:
    """Before vidgen writes: keep the files on disk if they are not the last version vidgen knows."""
    if not video.folder.is_dir() or not current_files(video):
        return None
    existing = versions(video)
    if existing and existing[-1].files() == current_files(video):
        return None
    return record(video, "hand-edit" if existing else "original", "files as found on disk")


def undo(video: Video) -> Version:
    """Put back the version before the current one; the undo is itself a version."""
    keep_hand_edits(video)
    existing = versions(video)
    if len(existing) < 2:
        raise UsageError(
            f"{video.name} has no earlier version to go back to: vidgen keeps one each time `vidgen new` or"
            f" `vidgen edit {video.name} INSTRUCTION` writes the video"
        )
    target = existing[-2]
    staging = video.folder.with_name(f".{video.name}.undo")
    shutil.rmtree(staging, ignore_errors=True)
    _write_files(staging, tree.read(target.folder / "files").files)
    backup = video.folder.with_name(f".{video.name}.before-undo")
    shutil.rmtree(backup, ignore_errors=True)
    os.replace(video.folder, backup)
    os.replace(staging, video.folder)
    shutil.rmtree(backup, ignore_errors=True)
    return record(video, "undo", f"back to version {target.number}", status=target.meta.get("status"))


def diff(video: Video) -> str:
    """What changed from the previous version to the files on disk now."""
    existing = versions(video)
    now = current_files(video)
    if existing and existing[-1].files() == now:
        existing = existing[:-1]
    if not existing:
        raise UsageError(
            f"{video.name} has no earlier version to compare with: vidgen keeps one each time `vidgen new` or"
            f" `vidgen edit {video.name} INSTRUCTION` writes the video"
        )
    before = existing[-1].files()
    label = f"version {existing[-1].number}"
    out: list[str] = []
    for name in sorted(set(before) | set(now)):
        out.extend(
            difflib.unified_diff(
                before.get(name, "").splitlines(keepends=True),
                now.get(name, "").splitlines(keepends=True),
                fromfile=f"{label}/{name}",
                tofile=f"now/{name}",
            )
        )
    return "".join(out)
