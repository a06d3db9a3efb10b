"""`vidgen edit` on a storyboarded video: the model changes the storyboard first, then only the scenes whose
entries changed are built again and re-spoken (story_rebuild's comparison with the last build).

When the model sends the storyboard back unchanged, the instruction was about the code, not the story:
`edit` then runs as for any video.
"""

from __future__ import annotations

from ..engine.session import Session
from ..model.client import ModelClient
from ..workspace import history
from ..workspace.files import atomic_write
from ..workspace.project import Video
from . import loop, prompts, story, story_rebuild
from .storyboard import FILE, read


def edit(
    session: Session,
    client: ModelClient,
    video: Video,
    instruction: str,
    outcome: story.StoryResult,
    *,
    jobs: int,
    max_repairs: int,
    render: bool = True,
    on_event: loop.Events = loop._quiet,
) -> story.StoryResult | None:
    """The storyboard changed as `instruction` says, then rebuilt; None when the model left it as it was.

    A StoryboardError when the storyboard on disk is not valid (fixed by hand first, or `vidgen undo`).
    """
    current = read(video.folder)
    messages = [prompts.storyboard_edit_request(instruction, current.to_json())]
    board = story.ask_storyboard(client, video, messages, max_repairs, outcome, on_event)
    if board is None:
        return outcome  # every reply refused: its error is the outcome's, nothing was written
    if board == current:
        return None
    history.keep_hand_edits(video)  # the files as they are, before the model's storyboard goes in
    atomic_write(video.folder / FILE, board.to_json())
    found = story_rebuild.changes(video)
    return story_rebuild.rebuild(
        session, client, video, found, outcome, jobs=jobs, max_repairs=max_repairs, render=render, on_event=on_event, keep=False
    )
