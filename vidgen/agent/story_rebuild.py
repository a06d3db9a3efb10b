"""A storyboard edited by hand, built again: only the scenes whose entries changed are asked for and re-spoken.

The hand-edited storyboard.json is read like any reply (storyboard.parse: hostile input, one line naming
its line and field). What it is compared with is `storyboard.built.json`, which vidgen writes when a
build's scenes are all written; a scene is regenerated when it is new, when any of its fields changed,
or when its file is missing or still vidgen's placeholder. A design change rewrites design.ts, which
every scene imports, and a new order rewrites the root: neither asks the model for a scene. The files
on disk are kept as a version first (`vidgen undo` gives them back), and a removed scene's file goes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..engine.session import Session
from ..errors import StoryboardError
from ..model.client import ModelClient
from ..workspace import history
from ..workspace.project import Video
from . import loop, story, story_files
from .story_files import Frame
from .storyboard import Storyboard, parse, read


@dataclass(frozen=True)
class Changes:
    board: Storyboard  # the hand-edited storyboard, checked
    frame: Frame
    touched: tuple[str, ...]  # scene ids to ask the model for, in the storyboard's order
    removed: tuple[str, ...]  # scene ids no longer in it
    compared: bool  # False: no last build to compare with (every scene is asked for)

    @property
    def nothing(self) -> bool:
        return not self.touched and not self.removed


def changes(video: Video) -> Changes:
    """What a rebuild would do; a StoryboardError (one line, at its line) when storyboard.json is not valid."""
    board = read(video.folder)
    built, frame = _built(video)
    before = {scene.id: scene for scene in built.scenes} if built is not None else {}
    touched = tuple(scene.id for scene in board.scenes if before.get(scene.id) != scene or not _has_file(video, scene.file))
    removed = tuple(scene_id for scene_id in before if scene_id not in {s.id for s in board.scenes})
    return Changes(board, frame, touched, removed, built is not None)


def rebuild(
    session: Session,
    client: ModelClient,
    video: Video,
    found: Changes,
    outcome: story.StoryResult,
    *,
    jobs: int,
    max_repairs: int,
    render: bool = True,
    on_event: loop.Events = loop._quiet,
    keep: bool = True,
) -> story.StoryResult:
    """Keep the files as they are (unless the caller did), then build again asking only for the touched scenes."""
    if keep:
        history.keep_hand_edits(video)
    for scene_id in found.removed:
        path = video.folder / "scenes" / f"{scene_id}.tsx"
        if path.is_file() and not path.is_symlink():
            path.unlink()
    return story.build(
        session,
        client,
        video,
        found.board,
        found.frame,
        outcome,
        jobs=jobs,
        max_repairs=max_repairs,
        render=render,
        idea="the storyboard, edited by hand",
        on_event=on_event,
        only=frozenset(found.touched),
        recorded_as="storyboard",
    )


def _built(video: Video) -> tuple[Storyboard | None, Frame]:
    """The last built storyboard and its frame; (None, the root's frame) when there is none to trust."""
    path = video.folder / story_files.BUILT
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 128 * 1024:
            raise ValueError
        data = json.loads(path.read_text(errors="replace"))
        shape = data["frame"]
        frame = Frame(_whole(shape["width"], 16, 4096), _whole(shape["height"], 16, 4096), _whole(shape["fps"], 1, 120))
        return parse(json.dumps(data["storyboard"])), frame
    except (ValueError, TypeError, KeyError, RecursionError, StoryboardError):
        return None, _root_frame(video)


def _whole(value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError
    return value


_CONFIG = re.compile(r"fps: (\d{1,3}), width: (\d{2,4}), height: (\d{2,4})")


def _root_frame(video: Video) -> Frame:
    """The frame vidgen wrote into the root's config, else the default 1280x720 at 30 fps."""
    root = video.folder / story_files.ROOT
    found = _CONFIG.search(root.read_text(errors="replace")[:4096]) if root.is_file() and not root.is_symlink() else None
    if found is None:
        return Frame()
    fps, width, height = (int(n) for n in found.groups())
    return Frame(width, height, fps) if 1 <= fps <= 120 and 16 <= min(width, height) else Frame()


def _has_file(video: Video, relative: str) -> bool:
    """The scene's file is there and is the model's (or the user's), not the placeholder vidgen wrote."""
    path = video.folder / relative
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as opened:
        return not opened.read(64).startswith(b"// Written by vidgen until the model's scene arrives.")
