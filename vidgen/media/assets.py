"""Files a user hands to a video (`--asset`): images, fonts, sound and clips the model may use.

An asset is copied into `public/<video>/`, where Remotion's `staticFile('<video>/<file>')` serves it;
the model is told what each one is (kind, pixel size, duration), never its content. Only media is
accepted, checked by what the file is rather than its name, so a prompt file cannot smuggle a key or
a config file into the workspace by calling it `logo.png`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..workspace.project import Video, Workspace
from . import probe as media

MAX_BYTES = 200 * 1024 * 1024
KINDS = {
    "image": {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".svg"},
    "font": {".woff", ".woff2", ".ttf", ".otf"},
    "audio": {".mp3", ".wav", ".m4a", ".aac", ".ogg"},
    "video": {".mp4", ".webm", ".mov"},
}
_FONT_MAGIC = (b"wOFF", b"wOF2", b"OTTO", b"\x00\x01\x00\x00", b"true")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Asset:
    path: str  # as staticFile() takes it, relative to public/
    kind: str
    detail: str  # "512x512", "3.2 s", "" for a font

    def describe(self) -> str:
        return f"staticFile('{self.path}'): {self.kind}" + (f", {self.detail}" if self.detail else "")


def kind_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return next((kind for kind, suffixes in KINDS.items() if suffix in suffixes), None)


def folder(video: Video) -> Path:
    return video.workspace.root / "public" / video.name


def add(video: Video, sources: list[Path]) -> list[Asset]:
    """Copy each source into the video's asset folder; all are checked before any is copied."""
    checked = [(source, check(source)) for source in sources]
    added = []
    for source, (kind, detail) in checked:
        place(source, folder(video) / source.name)
        added.append(Asset(f"{video.name}/{source.name}", kind, detail))
    return added


def place(source: Path, target: Path, replace: bool = False) -> None:
    """Copy into public/<video>/, whole or not at all; a different file of the same name is kept unless `replace`."""
    public = target.parent.parent
    for guarded in (public, target.parent):
        if guarded.is_symlink() or (guarded.exists() and not guarded.is_dir()):
            raise UsageError(f"{guarded} is not a folder: move it aside so vidgen can keep the video's assets there")
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise UsageError(f"{target} exists and is not a regular file: move it aside, then add the asset again")
    if target.is_file() and _digest(target) == _digest(source):
        return
    if target.is_file() and not replace:
        shown = target.relative_to(public.parent)
        raise UsageError(f"{shown} exists with other content: rename {source.name} or remove the old file")
    _copy(source, target)


def public_files(workspace: Workspace) -> list[Path]:
    """Every file `staticFile` can serve: the regular files under public/ (links are never followed), sorted."""
    public = workspace.root / "public"
    if not public.is_dir() or public.is_symlink():
        return []
    return sorted(p for p in public.rglob("*") if p.is_file() and not p.is_symlink())


def listed(workspace: Workspace, video: Video) -> list[Asset]:
    """The media a video may use: its own (public/<video>/) first, then what the user put in public/ for all;
    never another video's folder (its photos, its narration's voice)."""
    public = workspace.root / "public"
    own = folder(video)
    others = set(workspace.video_names()) - {video.name}

    def shared_or_own(path: Path) -> bool:
        parts = path.relative_to(public).parts
        return len(parts) == 1 or parts[0] not in others

    media_files = (p for p in public_files(workspace) if kind_of(p) and shared_or_own(p))
    found = sorted(media_files, key=lambda p: (own not in p.parents, str(p)))
    assets = []
    for path in found[:50]:
        kind = kind_of(path) or ""
        assets.append(Asset(str(path.relative_to(public)), kind, _detail(path, kind) or ""))
    return assets


def check(source: Path) -> tuple[str, str]:
    """(kind, detail) of a file that may be an asset; a UsageError saying why not otherwise."""
    name = source.name
    kind = kind_of(source)
    if kind is None:
        allowed = ", ".join(sorted(s for suffixes in KINDS.values() for s in suffixes))
        raise UsageError(f"--asset {name}: not an image, font, audio or video file ({allowed})")
    if not _SAFE_NAME.match(name):
        raise UsageError(f"--asset {name}: use a plain file name (letters, digits, '.', '-', '_'); rename the file")
    if source.is_symlink() or not source.is_file():
        raise UsageError(f"--asset {source}: not a regular file (a folder, a link or missing): give the file itself")
    size = source.stat().st_size
    if size > MAX_BYTES:
        raise UsageError(f"--asset {name}: {size // 2**20} MB is over the {MAX_BYTES // 2**20} MB limit: use a smaller file")
    detail = _detail(source, kind)
    if detail is None:
        raise UsageError(f"--asset {name}: the file is not a readable {kind} (damaged, or named wrongly)")
    return kind, detail


def _detail(path: Path, kind: str) -> str | None:
    """Pixel size or duration, read from the file; None when it is not what its name says."""
    if kind == "font":
        with path.open("rb") as handle:
            return "" if handle.read(4) in _FONT_MAGIC else None
    if path.suffix.lower() == ".svg":
        head = path.read_bytes()[:4096].decode(errors="replace")
        if "<svg" not in head:
            return None
        size = re.search(r"<svg[^>]*?\bwidth=[\"']([\d.]+)(?:px)?[\"'][^>]*?\bheight=[\"']([\d.]+)(?:px)?[\"']", head)
        return f"{size[1]}x{size[2]} (vector)" if size else "vector"
    found = media.describe(path)
    if found is None or not (found.has_audio if kind == "audio" else found.has_video):
        return None
    if kind == "image":
        return f"{found.width}x{found.height}"
    if kind == "audio":
        return f"{found.duration_s:.1f} s"
    return f"{found.width}x{found.height}, {found.duration_s:.1f} s" + ("" if found.has_audio else ", silent")


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _copy(source: Path, target: Path) -> None:
    """A copy that is either whole or absent, even if the disk fills or the user presses Ctrl-C."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
