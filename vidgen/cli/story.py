"""`vidgen storyboard NAME`, and `new --storyboard`: plan, show, then build scene by scene."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from .. import settings as settings_module
from ..agent import story as story_module
from ..agent import story_demo, story_edit, story_rebuild
from ..agent import storyboard as storyboard_module
from ..agent.story_files import Frame
from ..engine.session import Session
from ..errors import EXIT_OK, StoryboardError, UsageError
from ..model.client import ModelClient, client_for
from ..model.scripted import ScriptedModel
from ..workspace import project as workspace_module
from .common import no_daemon_option, qa_flag, session_for, video_name_argument, workspace_of
from .flags import ModelFlags, model_options
from .output import note, quiet_option, reporter
from .printing import print_json
from .progress import Reporter


@click.command()
@video_name_argument
@click.option("--json", "as_json", is_flag=True, help="Print storyboard.json itself (with --rebuild: the outcome).")
@click.option(
    "--rebuild",
    is_flag=True,
    help="After editing storyboard.json by hand: ask again only for the scenes whose entries changed, and re-speak them.",
)
@click.option("--jobs", type=click.IntRange(1, 16), default=None, help="With --rebuild: scenes asked at once (default 3).")
@click.option("--max-repairs", type=click.IntRange(min=0, max=20), default=None, help="With --rebuild: repair turns per scene.")
@click.option("--no-render", is_flag=True, help="With --rebuild: write and check the code, but render no MP4.")
@model_options
@quiet_option
@no_daemon_option
@click.pass_context
def storyboard(ctx: click.Context, name: str, as_json: bool, rebuild: bool, model_flags: ModelFlags, **flags: Any) -> None:
    """Show a storyboarded video's plan (storyboard.json); --rebuild after editing it by hand."""
    video = workspace_of(ctx).existing_video(name)
    try:
        board = storyboard_module.read(video.folder)
        found = story_rebuild.changes(video) if rebuild else None
    except StoryboardError as exc:
        fix = "; fix it and run again (nothing was changed)" if rebuild else ""
        raise UsageError(f"{name}: {exc}{fix}") from None
    if found is None:
        if as_json:
            print_json(board.to_dict(), EXIT_OK)
        else:
            click.echo(storyboard_module.describe(board))
        return
    if found.nothing:
        note(f"{name}: every scene is as it was built; nothing to ask the model for")
        if as_json:
            print_json({"name": name, "status": "ok", "touched": [], "removed": []}, EXIT_OK)
        return
    what = ", ".join(found.touched) or "none"
    gone = f"; removed: {', '.join(found.removed)}" if found.removed else ""
    note(f"{name}: scenes to build again: {what}{gone}" + ("" if found.compared else " (no last build to compare with)"))
    from .new import _print_loop

    _print_loop(ctx, _rebuilt(ctx, video, found, flags, model_flags), as_json)


def _rebuilt(
    ctx: click.Context,
    video: workspace_module.Video,
    found: story_rebuild.Changes,
    flags: dict[str, Any],
    model_flags: ModelFlags,
) -> story_module.StoryResult:
    def run(
        session: Session, client: ModelClient, outcome: story_module.StoryResult, jobs: int, repairs: int, shown: Reporter
    ) -> bool:
        render = not flags["no_render"]
        story_rebuild.rebuild(
            session, client, video, found, outcome, jobs=jobs, max_repairs=repairs, render=render, on_event=shown
        )
        return True

    outcome = _storyboarded(ctx, video, flags, model_flags, run)
    assert outcome is not None
    return outcome


def edit_storyboarded(
    ctx: click.Context, video: workspace_module.Video, instruction: str, flags: dict[str, Any], model_flags: ModelFlags
) -> story_module.StoryResult | None:
    """`edit` on a storyboarded video: the storyboard first, then only the scenes it changed; None when the
    model left the storyboard as it was (the caller edits the code as for any video)."""
    try:
        storyboard_module.read(video.folder)
    except StoryboardError as exc:
        raise UsageError(f"{video.name}: {exc}; fix it by hand, or `vidgen undo {video.name}`") from None

    def run(
        session: Session, client: ModelClient, outcome: story_module.StoryResult, jobs: int, repairs: int, shown: Reporter
    ) -> bool:
        render = not flags["no_render"]
        done = story_edit.edit(
            session, client, video, instruction, outcome, jobs=jobs, max_repairs=repairs, render=render, on_event=shown
        )
        return done is not None

    return _storyboarded(ctx, video, flags, model_flags, run)


def _storyboarded(
    ctx: click.Context,
    video: workspace_module.Video,
    flags: dict[str, Any],
    model_flags: ModelFlags,
    run: Callable[[Session, ModelClient, story_module.StoryResult, int, int, Reporter], bool],
) -> story_module.StoryResult | None:
    """One storyboard command's settings, client, session and scorecard line around `run`; None if it did nothing."""
    settings = model_flags.apply(qa_flag(settings_module.load(video.workspace.root)))
    max_repairs = flags["max_repairs"] if flags["max_repairs"] is not None else settings.model.max_repairs
    client = client_for(settings.model)
    outcome = story_module.StoryResult(video.name, model=client.options.model)
    shown = reporter()
    try:
        with session_for(ctx, video.workspace, settings) as session:
            jobs = flags.get("jobs") or settings.storyboard.jobs
            if not run(session, client, outcome, jobs, max_repairs, shown):
                return None
        shown.close()
        note(story_module.describe(outcome.scorecard()))
        return outcome
    finally:
        shown.close()
        client.close()


def wanted(flags: dict[str, Any], min_seconds: float) -> bool:
    """Whether `new` plans a storyboard: asked for, or a length over `[storyboard] min_seconds`."""
    return story_module.wanted(bool(flags.get("storyboard")), flags.get("seconds"), min_seconds)


def new_storyboarded(
    ctx: click.Context, video: workspace_module.Video, idea: str, flags: dict[str, Any], model_flags: ModelFlags
) -> story_module.StoryResult:
    """Plan the storyboard, show it (and ask, in a terminal, unless --yes), then build the scenes."""
    from .new import _model_settings  # the same settings and shape as every `new`

    settings, shape = _model_settings(video.workspace, flags, model_flags)
    frame = Frame(shape.width or 1280, shape.height or 720, shape.fps or 30)
    max_repairs = flags["max_repairs"] if flags["max_repairs"] is not None else settings.model.max_repairs
    jobs = flags.get("jobs") or settings.storyboard.jobs
    client = client_for(settings.model)
    outcome = story_module.StoryResult(video.name, model=client.options.model)
    shown = reporter()
    try:
        board = _planned(client, video, idea, frame, shape.seconds, max_repairs, outcome, shown)
        if board is None:
            return outcome
        if not flags.get("yes") and sys.stdin.isatty() and not click.confirm("Build this storyboard?", default=True, err=True):
            raise UsageError(f"stopped before any scene was written: the storyboard is in `vidgen show {video.name}`")
        shown = reporter()
        with session_for(ctx, video.workspace, settings) as session:
            story_module.build(
                session,
                client,
                video,
                board,
                frame,
                outcome,
                jobs=jobs,
                max_repairs=max_repairs,
                render=not flags["no_render"],
                idea=idea,
                on_event=shown,
            )
        shown.close()
        note(story_module.describe(outcome.scorecard()))
        return outcome
    finally:
        shown.close()
        client.close()


def _planned(
    client: ModelClient,
    video: workspace_module.Video,
    idea: str,
    frame: Frame,
    seconds: float | None,
    max_repairs: int,
    outcome: story_module.StoryResult,
    shown: Reporter,
) -> storyboard_module.Storyboard | None:
    """The model's storyboard, shown (on stderr) before anything is built."""
    board = story_module.plan(client, video, idea, frame, seconds, max_repairs, outcome, shown)
    shown.close()
    if board is not None:
        note(f"\n{storyboard_module.describe(board)}\n")
    return board


def storyboarded_demo(ws: workspace_module.Workspace, session: Session) -> story_module.StoryResult:
    """`vidgen demo`'s last video: four narrated scenes (over 30 s), one of which arrives broken and is repaired alone."""
    video = ws.video(workspace_module.unique_name(ws, "demo-storyboard"))
    note(f"\n[scripted model] vidgen new {story_demo.IDEA!r} --storyboard --yes")
    frame = Frame(640, 360, 30)
    with ScriptedModel(story_demo.demo_script()) as scripted:
        flags = ModelFlags(provider="ollama", model="scripted-demo", base_url=scripted.base_url)
        client = client_for(flags.apply(session.settings).model)
        outcome = story_module.StoryResult(video.name, model=client.options.model)
        shown = reporter("scripted model")
        try:
            board = _planned(client, video, story_demo.IDEA, frame, None, 2, outcome, shown)
            if board is not None:
                shown = reporter("scripted model")
                jobs = session.settings.storyboard.jobs
                story_module.build(
                    session, client, video, board, frame, outcome, jobs=jobs, max_repairs=2, idea=story_demo.IDEA, on_event=shown
                )
                shown.close()
                note(story_module.describe(outcome.scorecard()))
        finally:
            shown.close()
            client.close()
    return outcome
