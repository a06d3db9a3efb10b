"""The workspace: a Remotion project made from the template, and the videos inside it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..errors import UsageError
from ..settings import CONFIG_NAME, DEFAULT_TOML
from . import resources

T = TypeVar("T")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Copied from the template into every workspace; node_modules comes from `npm ci`. The render
# service runs from the installed package (with the workspace as its cwd), so upgrading vidgen
# upgrades it everywhere.
_NOT_COPIED = {"node_modules", "out", ".vidgen", "service"}
GITIGNORE = """\
node_modules/
out/
# vidgen's working files: caches, locks, logs, sockets, and the kept MP4 of each version (large).
.vidgen/*
# But each video's history of sources, and what was said to the model, are worth keeping.
!.vidgen/history/
!.vidgen/transcripts/
"""
# The modules vidgen writes into a video's folder from its other files (narration.json -> narration.ts,
# the music in public/ -> music.ts): derived, neither the model's nor the user's, so never compared,
# diffed, counted as a change or taken from a reply.
NARRATION_MODULE = "narration.ts"
MUSIC_MODULE = "music.ts"
GENERATED_FILES = frozenset({NARRATION_MODULE, MUSIC_MODULE})


def authored(files: Mapping[str, T]) -> dict[str, T]:
    """A video's files without the ones vidgen generates."""
    return {path: data for path, data in files.items() if path not in GENERATED_FILES}


def validate_name(name: str) -> str:
    """A video name is a composition id and a folder name: lowercase letters, digits, hyphens."""
    if not name:
        raise UsageError("a video name is needed: use lowercase letters, digits and hyphens, e.g. city-tour")
    if "/" in name or "\\" in name or ".." in name or not NAME_PATTERN.match(name):
        suggestion = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63] or "my-video"
        raise UsageError(f"invalid video name {name!r}: use lowercase letters, digits and hyphens (e.g. {suggestion!r})")
    return name


@dataclass(frozen=True)
class Video:
    """One video: src/videos/<name>/ with index.tsx as its entry."""

    workspace: Workspace
    name: str

    @property
    def folder(self) -> Path:
        return self.workspace.root / "src" / "videos" / self.name

    @property
    def entry(self) -> Path:
        return self.folder / "index.tsx"

    def exists(self) -> bool:
        return self.entry.is_file()

    def source_files(self) -> list[Path]:
        """The video's own code, in a stable order, entry first."""
        files = sorted(p for p in self.folder.rglob("*") if p.is_file() and p.suffix in {".ts", ".tsx", ".js", ".jsx"})
        return sorted(files, key=lambda p: p != self.entry)

    def relative(self, path: str | Path) -> str:
        """A path as the user and the model see it: relative to the video folder."""
        resolved = Path(path).resolve()
        try:
            return resolved.relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            try:
                return resolved.relative_to(self.workspace.root.resolve()).as_posix()
            except ValueError:
                return str(path)


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def state_dir(self) -> Path:
        return self.root / ".vidgen"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    @property
    def service_script(self) -> Path:
        return resources.template_dir() / "service" / "render-service.mjs"

    def video(self, name: str) -> Video:
        return Video(self, validate_name(name))

    def existing_video(self, name: str) -> Video:
        video = self.video(name)
        if not video.exists():
            known = ", ".join(self.video_names()) or "none yet"
            raise UsageError(f"no video {name!r} in {self.root} (videos: {known}): check the name or run `vidgen list`")
        return video

    def video_names(self) -> list[str]:
        videos = self.root / "src" / "videos"
        if not videos.is_dir():
            return []
        return sorted(p.name for p in videos.iterdir() if NAME_PATTERN.match(p.name) and (p / "index.tsx").is_file())

    def dependencies(self) -> set[str]:
        """The packages a video may import: the workspace's runtime dependencies."""
        package = json.loads((self.root / "package.json").read_text())
        return set(package.get("dependencies", {}))

    def has_node_modules(self) -> bool:
        """Whether `npm ci` finished here: npm writes node_modules/.package-lock.json last, so an install
        that was interrupted (Ctrl-C, a full disk) has none."""
        modules = self.root / "node_modules"
        return (modules / "@remotion" / "renderer").is_dir() and (modules / ".package-lock.json").is_file()

    def require_node_modules(self) -> None:
        if not self.has_node_modules():
            raise UsageError(f"{self.root / 'node_modules'} is missing or incomplete: run `npm ci` in {self.root}")


_FILLER = {
    "a",
    "an",
    "the",
    "of",
    "on",
    "in",
    "to",
    "from",
    "with",
    "and",
    "for",
    "that",
    "this",
    "it",
    "its",
    "at",
    "by",
    "is",
    "make",
    "video",
    "please",
}


# Words that say how long or in what style, not what about: "a 20-second narrated explainer of ..."
_NOT_THE_SUBJECT = {
    *("second", "seconds", "sec", "secs", "s", "minute", "minutes", "min", "mins", "long", "fps", "hd", "4k"),
    *("narrated", "animated", "animation", "explainer", "short", "quick", "simple", "little", "clip", "intro"),
    *("how", "what", "why", "works", "showing", "shows", "about", "using", "vertical", "square"),
}


def name_from_idea(workspace: Workspace, idea: str) -> str:
    """A short, unique video name from the idea's words that name its subject (no numbers, lengths or styles)."""
    words = [
        w
        for w in re.findall(r"[a-z0-9]+", idea.lower())
        if w not in _FILLER and w not in _NOT_THE_SUBJECT and not w.isdigit() and not re.fullmatch(r"\d+(s|p|x\d+)", w)
    ]
    return unique_name(workspace, "-".join(words[:4])[:40].strip("-") or "video")


def unique_name(workspace: Workspace, base: str) -> str:
    """`base`, or `base-2`, `base-3` ... the first that no video has."""
    if not base[0].isalnum():
        base = "video-" + base
    name, n = base, 2
    while (workspace.root / "src" / "videos" / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def find(start: Path | None = None, explicit: str | None = None) -> Workspace:
    """The workspace named by --workspace / VIDGEN_WORKSPACE, else the nearest one upward."""
    chosen = explicit or os.environ.get("VIDGEN_WORKSPACE")
    if chosen:
        root = Path(chosen).expanduser().resolve()
        if not (root / CONFIG_NAME).is_file():
            raise UsageError(f"{root} is not a vidgen workspace (no {CONFIG_NAME}): run `vidgen init {chosen}` first")
        return Workspace(root)
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / CONFIG_NAME).is_file():
            return Workspace(folder)
    raise UsageError(f"no vidgen workspace in {here} or above: run `vidgen init PATH`, or pass --workspace")


def create(target: Path, *, install: bool = True, log: Callable[[str], None] | None = None) -> Workspace:
    """Make a workspace from the template at `target`, which must be new or empty."""
    target = target.expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} exists and is not empty: choose a new folder so nothing in it is overwritten")
    template = resources.template_dir()
    if not (template / "package.json").is_file():
        raise UsageError(f"the Remotion template is missing from this install ({template}): reinstall vidgen")
    staging = target.with_name(f".{target.name}.vidgen-init")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(template, staging, ignore=lambda _d, names: [n for n in names if n in _NOT_COPIED])
    (staging / CONFIG_NAME).write_text(DEFAULT_TOML)
    (staging / ".gitignore").write_text(GITIGNORE)
    (staging / "out").mkdir(exist_ok=True)
    (staging / ".vidgen").mkdir(exist_ok=True)
    if target.exists():
        target.rmdir()
    staging.rename(target)
    workspace = Workspace(target)
    if install:
        install_node_modules(workspace, log=log)
    return workspace


NPM_LOG = "npm-ci.log"


def install_node_modules(workspace: Workspace, log: Callable[[str], None] | None = None) -> None:
    """`npm ci` in the workspace; each line of its output goes to `log`, all of it to .vidgen/npm-ci.log.

    The log file is removed when the install succeeds and kept when it fails, for the user to read.
    """
    npm = shutil.which("npm")
    if not npm:
        raise UsageError("npm was not found: install Node.js 20 (e.g. `apt-get install -y nodejs npm`)")
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=http"]
    log_path = workspace.state_dir / NPM_LOG
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tail: list[str] = []
    with open(log_path, "w") as kept:
        process = subprocess.Popen(command, cwd=workspace.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert process.stdout is not None
        for line in process.stdout:
            kept.write(line)
            tail = (tail + [line.rstrip()])[-15:]
            if log:
                log(line.rstrip())
    if process.wait() != 0:
        detail = next((line for line in reversed(tail) if "ERR" in line), tail[-1] if tail else "")
        raise UsageError(
            f"`npm ci` failed in {workspace.root} ({detail.strip()}): the full log is in {log_path};"
            f" fix the cause and run `npm ci` there"
        )
    log_path.unlink(missing_ok=True)
