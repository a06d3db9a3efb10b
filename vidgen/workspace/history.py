"""Every version of a video that vidgen writes, kept in .vidgen/history/<name>/.

Before vidgen writes, what is on disk is kept as a version when it differs from the last
one, so a user's hand edits are never silently lost; `undo` and `diff` read from here.

A pointer (`current.json`) names the version the files on disk came from. `undo` moves it to
that version's parent and `redo` back to its newest child, restoring files (and the version's
kept video, see outputs.py) without adding versions; a new version's parent is the current one.
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

from .. import loader
from ..errors import UsageError
from . import tree
from .files import atomic_write
from .project import Video, authored

META = {
    "version": int,
    "time": str,
    "kind": str,
    "prompt": str,
    "status": (str, None),
    "tokens": loader.USAGE,
    "parent": (int, None),
}
POINTER = {"version": loader.Required(int)}


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


def record(video: Video, kind: str, prompt: str = "", files: dict[str, bytes] | None = None, **meta: Any) -> Version:
    """Keep what is in the video folder now (or `files`) as a new version, child of the current one."""
    existing = versions(video)  # a damaged history is reported before anything is added to it
    parent = current(video, existing)
    number = _next_number(video)
    folder = _root(video) / f"{number:04d}"
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    _write_files(staging / "files", tree.read(video.folder).files if files is None else files)
    info = {"version": number, "time": datetime.now(UTC).isoformat(timespec="seconds"), "kind": kind, "prompt": prompt, **meta}
    if parent is not None:
        info["parent"] = parent.number
    (staging / "meta.json").write_text(json.dumps(info, indent=2))
    os.replace(staging, folder)
    _point(video, number)
    return Version(number, folder, info)


def _pointer_path(video: Video) -> Path:
    return _root(video) / "current.json"


def current(video: Video, existing: list[Version] | None = None) -> Version | None:
    """The version the files on disk came from: the pointer's, or the newest when there is no pointer."""
    existing = versions(video) if existing is None else existing
    path = _pointer_path(video)
    fix = f"delete it (vidgen then takes the newest version of {video.name} as the current one)"
    if not existing:
        return None
    pointer = loader.read_json(path, POINTER, fix, default=lambda: None)
    if pointer is None:
        return existing[-1]
    found = next((v for v in existing if v.number == pointer["version"]), None)
    if found is None:
        raise UsageError(f"{path} names a version that is not kept: {fix}")
    return found


def _point(video: Video, number: int) -> None:
    atomic_write(_pointer_path(video), json.dumps({"version": number}))


def parent_of(version: Version, existing: list[Version]) -> Version | None:
    """The version it was made from (the one before it, for versions kept before parents were recorded)."""
    number = version.meta.get("parent")
    if number is None:
        earlier = [v for v in existing if v.number < version.number]
        return earlier[-1] if earlier else None
    return next((v for v in existing if v.number == number), None)


def children_of(version: Version, existing: list[Version]) -> list[Version]:
    return [v for v in existing if (p := parent_of(v, existing)) is not None and p.number == version.number]


def version_for(video: Video, files: dict[str, bytes], kind_if_new: str = "hand-edit") -> Version:
    """The version these files are (the current one when they match it), keeping them as a new one otherwise."""
    existing = versions(video)
    now = current(video, existing)
    if now is not None and authored(tree.read(now.folder / "files").files) == authored(files):
        return now
    kind = kind_if_new if existing else "original"
    return record(video, kind, "files as rendered", files=files)


def update(version: Version, **meta: Any) -> None:
    """Add what became known later (status, tokens) to a version."""
    atomic_write(version.folder / "meta.json", json.dumps({**version.meta, **meta}, indent=2))


def keep_hand_edits(video: Video) -> Version | None:
    """Before vidgen writes: keep the files on disk if they are not the current version."""
    if not video.folder.is_dir() or not current_files(video):
        return None
    existing = versions(video)
    now = current(video, existing)
    if now is not None and authored(now.files()) == authored(current_files(video)):
        return None  # (a regenerated narration.ts is vidgen's own doing, not an edit)
    return record(video, "hand-edit" if existing else "original", "files as found on disk")


def undo(video: Video) -> Version:
    """Put back the version the current one was made from; the pointer moves, no version is added."""
    keep_hand_edits(video)
    existing = versions(video)
    now = current(video, existing)
    target = parent_of(now, existing) if now is not None else None
    if target is None:
        raise UsageError(
            f"{video.name} has no earlier version to go back to: vidgen keeps one each time it writes or renders the video"
            f" (`vidgen edit {video.name} INSTRUCTION`, or `vidgen render {video.name}` after a hand edit)"
        )
    _restore(video, target)
    return target


def go_to(video: Video, number: int) -> Version:
    """Put back version `number`, whichever it is (`undo --to N`); files on disk that are no version are kept first."""
    keep_hand_edits(video)
    target = numbered(video, versions(video), number)
    _restore(video, target)
    return target


def numbered(video: Video, existing: list[Version], number: int) -> Version:
    """Version `number` of `existing`; a UsageError saying which there are when it is not kept."""
    target = next((v for v in existing if v.number == number), None)
    if target is None:
        have = f"it has versions {existing[0].number} to {existing[-1].number}" if existing else "it has none yet"
        raise UsageError(f"{video.name} has no version {number}: {have} (`vidgen history {video.name}` lists them)")
    return _inside(video, target)


def _inside(video: Video, version: Version) -> Version:
    """The version, if its folder is one of the history's own (not a link to files elsewhere)."""
    if version.folder.is_symlink() or not version.folder.resolve().is_relative_to(_root(video).resolve()):
        raise UsageError(
            f"{version.folder} is a link: move it aside (vidgen reads {video.name}'s versions from {_root(video)} only)"
        )
    return version


def redo(video: Video) -> Version:
    """Go forward again to the newest version made from the current one (after an undo)."""
    existing = versions(video)
    now = current(video, existing)
    if now is not None and authored(now.files()) != authored(current_files(video)):
        raise UsageError(
            f"the files of {video.name} changed since version {now.number}, and redo would replace them:"
            f" `vidgen undo {video.name}` keeps them as a version and goes back to {now.number}"
        )
    later = children_of(now, existing) if now is not None else []
    if not later:
        raise UsageError(f"{video.name} has no later version to go forward to (`vidgen history {video.name}` lists them)")
    _restore(video, later[-1])
    return later[-1]


def _restore(video: Video, target: Version) -> None:
    """Swap the video folder for the target version's files, then point at it."""
    staging = video.folder.with_name(f".{video.name}.undo")
    shutil.rmtree(staging, ignore_errors=True)
    _write_files(staging, tree.read(target.folder / "files").files)
    backup = video.folder.with_name(f".{video.name}.before-undo")
    shutil.rmtree(backup, ignore_errors=True)
    os.replace(video.folder, backup)
    os.replace(staging, video.folder)
    shutil.rmtree(backup, ignore_errors=True)
    _point(video, target.number)


def diff(video: Video) -> str:
    """What changed from the previous version to the files on disk now (`vidgen diff`)."""
    existing = versions(video)
    now = authored(current_files(video))
    base = current(video, existing)
    if base is not None and authored(base.files()) == now:
        base = parent_of(base, existing)
    if base is None:
        raise UsageError(
            f"{video.name} has no earlier version to compare with: vidgen keeps one each time it writes or renders the video"
            f" (`vidgen edit {video.name} INSTRUCTION`, or `vidgen render {video.name}` after a hand edit)"
        )
    return unified(authored(base.files()), now, f"version {base.number}", "now")


def version_diff(video: Video, number: int) -> str:
    """What version `number` changed from the version it was made from (all of it added for the first one)."""
    existing = versions(video)
    target = numbered(video, existing, number)
    base = parent_of(target, existing)
    before = authored(_inside(video, base).files()) if base is not None else {}
    return unified(before, authored(target.files()), f"version {base.number}" if base else "nothing", f"version {number}")


def unified(before: dict[str, str], after: dict[str, str], before_label: str, after_label: str) -> str:
    """The unified diff of two sets of files, file by file in name order."""
    out: list[str] = []
    for name in sorted(set(before) | set(after)):
        out.extend(
            difflib.unified_diff(
                before.get(name, "").splitlines(keepends=True),
                after.get(name, "").splitlines(keepends=True),
                fromfile=f"{before_label}/{name}",
                tofile=f"{after_label}/{name}",
            )
        )
    return "".join(out)
