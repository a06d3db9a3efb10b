"""The commands that run the model loop: new, edit and demo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .. import settings as settings_module
from ..agent import critique as critique_module
from ..agent import demo as demo_module
from ..agent import loop as loop_module
from ..check import constraints as constraints_module
from ..engine.session import Session
from ..errors import EXIT_FAILED, EXIT_OK, Stage, UsageError, VidgenError
from ..media import assets as assets_module
from ..model.client import ModelClient, client_for
from ..model.scripted import ScriptedModel
from ..sound import music as music_module
from ..workspace import project as workspace_module
from .common import (
    no_daemon_option,
    no_qa_option,
    polish_option,
    print_result,
    qa_flag,
    session_for,
    tokens_line,
    video_name_argument,
    workspace_of,
)
from .flags import ModelFlags, model_options
from .output import install_packages, note, quiet_option, reporter
from .printing import err, print_json

# ---------------------------------------------------------------------------- the model loop


def _loop_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options `new` and `edit` share, the model flags among them."""
    options = [
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
        click.option("--no-render", is_flag=True, help="Write and check the code, but render no MP4."),
        polish_option,
        click.option("--max-repairs", type=click.IntRange(min=0, max=20), default=None, help="Repair turns (default 3)."),
        click.option("--aspect", type=click.Choice(sorted(constraints_module.ASPECTS)), default=None),
        click.option("--size", default=None, help="WIDTHxHEIGHT, e.g. 1280x720."),
        click.option("--fps", type=int, default=None),
        click.option("--seconds", type=float, default=None),
    ]
    for option in options:
        command = option(command)
    return model_options(quiet_option(no_qa_option(no_daemon_option(command))))


def _content_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What the video is made with beyond code: `--asset PATH` (repeatable), narration and captions."""
    options = [
        click.option(
            "--asset",
            "asset_paths",
            multiple=True,
            type=click.Path(path_type=Path),
            help="An image, font, audio or video file the video may use (repeatable).",
        ),
        click.option("--narrate", is_flag=True, help="A voice speaks the video, scene by scene; the picture is timed to it."),
        click.option("--captions", is_flag=True, help="With --narrate: burn captions in (also written as out/NAME.srt)."),
        click.option(
            "--music",
            "music_path",
            type=click.Path(path_type=Path),
            default=None,
            help="An audio file to play under the video: looped, ducked under narration, faded out.",
        ),
    ]
    for option in options:
        command = option(command)
    return command


def _add_content(video: workspace_module.Video, asset_paths: tuple[Path, ...], music_path: Path | None) -> None:
    """Assets and music go in before the model is asked, so the prompt can list them; all checked first."""
    if music_path is not None:
        assets_module.check(music_path)
    assets_module.add(video, list(asset_paths))
    if music_path is not None:
        music_module.add(video, music_path)


def _model_settings(
    workspace: workspace_module.Workspace, flags: dict[str, Any], model_flags: ModelFlags
) -> tuple[settings_module.Settings, constraints_module.Constraints]:
    """Settings with the model flags applied, and the shape the user asked for."""
    settings = model_flags.apply(qa_flag(settings_module.load(workspace.root)))
    wanted = constraints_module.build(flags["seconds"], flags["fps"], flags["size"], flags["aspect"], settings.limits)
    return settings, wanted


def _run_loop(
    session: Session,
    client: ModelClient,
    kind: str,
    video: workspace_module.Video,
    prompt: str,
    flags: dict[str, Any],
    wanted: constraints_module.Constraints,
    label: str = "",
    critic: critique_module.Critic | None = None,
) -> loop_module.LoopResult:
    max_repairs = flags["max_repairs"] if flags["max_repairs"] is not None else session.settings.model.max_repairs
    request = loop_module.Request(
        kind,
        video,
        prompt,
        wanted,
        max_repairs=max_repairs,
        render=not flags["no_render"],
        narrate=bool(flags.get("narrate")) or bool(flags.get("captions")),
        captions=bool(flags.get("captions")),
        polish=session.settings.model.polish and not flags.get("no_polish"),
        name_it=bool(flags.get("name_it")),
    )
    shown = reporter(label)
    try:
        return loop_module.run(session, client, request, shown, critic=critic)
    finally:
        shown.close()


def _loop_command(
    ctx: click.Context,
    kind: str,
    video: workspace_module.Video,
    prompt: str,
    flags: dict[str, Any],
    model_flags: ModelFlags,
) -> None:
    """`new` and `edit`: one session, one client, one loop, one printed outcome."""
    settings, wanted = _model_settings(video.workspace, flags, model_flags)
    client = client_for(settings.model)
    critic = model_flags.critic(settings) if not flags["no_render"] else None
    try:
        with session_for(ctx, video.workspace, settings) as session:
            outcome = _run_loop(session, client, kind, video, prompt, flags, wanted, critic=critic)
    finally:
        client.close()
        if critic is not None:
            critic.close()
    _print_loop(ctx, outcome, flags["as_json"])


def _print_loop(ctx: click.Context, outcome: loop_module.LoopResult, as_json: bool) -> None:
    if as_json:
        print_json(outcome.to_json(), EXIT_OK if outcome.ok else EXIT_FAILED)
    else:
        _show_loop(outcome)
    ctx.exit(EXIT_OK if outcome.ok else EXIT_FAILED)


def _show_loop(outcome: loop_module.LoopResult) -> None:
    """The outcome for people: the render's result, or the last error and where the files are."""
    for warning in outcome.warnings:
        note(f"warning: {warning}")
    tries = outcome.model_turns()
    usage = outcome.usage
    tokens = tokens_line(usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens)
    if outcome.ok and outcome.result is not None:
        print_result(outcome.result, False)
        polished = ""
        if outcome.polish is not None:
            polished = " and a polish turn for its warnings" + ("" if outcome.polish.kept else " (not kept)")
        note(f"{outcome.name}: done in {tries} model turn{'s' if tries > 1 else ''}{polished}; {tokens}")
    else:
        error = outcome.error
        err(f"error: {outcome.name} failed after {tries} model turns; last error: {error.one_line() if error else '?'}")
        if error and error.excerpt:
            err(error.excerpt)
        if all(attempt.stage == Stage.PARSE for attempt in outcome.attempts):
            err(f"no reply held usable files, so nothing was written: the replies are in `vidgen show {outcome.name}`")
        else:
            err(f"the files are kept: see `vidgen show {outcome.name}`, fix by hand and `vidgen render {outcome.name}`")


@click.command()
@click.argument("idea")
@click.option("--name", default=None, help="Video name (default: from the idea).")
@click.option(
    "--storyboard",
    is_flag=True,
    help="Plan a storyboard first, then build each scene alone (automatic over [storyboard] min_seconds).",
)
@click.option("--yes", is_flag=True, help="With a storyboard: build it without asking.")
@click.option("--jobs", type=click.IntRange(1, 16), default=None, help="With a storyboard: scenes asked at once (default 3).")
@_content_options
@_loop_options
@click.pass_context
def new(
    ctx: click.Context,
    idea: str,
    name: str | None,
    asset_paths: tuple[Path, ...],
    music_path: Path | None,
    model_flags: ModelFlags,
    **flags: Any,
) -> None:
    """Make a new video from an IDEA: the model writes it, vidgen renders and repairs it."""
    if not idea.strip():
        raise UsageError('the idea is empty: describe the video, e.g. vidgen new "a bar chart of sales growing"')
    workspace = workspace_of(ctx)
    workspace.require_node_modules()
    if name is not None:
        video = workspace.video(name)
        if video.folder.exists():
            raise UsageError(f"video {name!r} exists: change it with `vidgen edit {name} ...` or choose another --name")
    else:
        video = workspace.video(workspace_module.name_from_idea(workspace, idea))
        # The model names it in its reply, unless assets already went in under this name (the prompt lists their paths).
        flags["name_it"] = not asset_paths and music_path is None
    _add_content(video, asset_paths, music_path)
    from . import story  # loaded only when `new` runs

    if story.wanted(flags, settings_module.load(workspace.root).storyboard.min_seconds):
        _print_loop(ctx, story.new_storyboarded(ctx, video, idea.strip(), flags, model_flags), flags["as_json"])
    _loop_command(ctx, "new", video, idea.strip(), flags, model_flags)


@click.command()
@video_name_argument
@click.argument("instruction")
@_content_options
@_loop_options
@click.pass_context
def edit(
    ctx: click.Context,
    name: str,
    instruction: str,
    asset_paths: tuple[Path, ...],
    music_path: Path | None,
    model_flags: ModelFlags,
    **flags: Any,
) -> None:
    """Change a video as INSTRUCTION says, from its files as they are on disk."""
    if not instruction.strip():
        raise UsageError(f'the instruction is empty: say what to change, e.g. vidgen edit {name} "make the title bigger"')
    video = workspace_of(ctx).existing_video(name)
    _add_content(video, asset_paths, music_path)
    if (video.folder / "storyboard.json").exists():
        from . import story  # a storyboarded video: the story first, then only the scenes it changed

        changed = story.edit_storyboarded(ctx, video, instruction.strip(), flags, model_flags)
        if changed is not None:
            _print_loop(ctx, changed, flags["as_json"])
        note(f"{name}: the storyboard is unchanged, so the instruction goes to the code as for any video")
    _loop_command(ctx, "edit", video, instruction.strip(), flags, model_flags)


@click.command()
@click.option("--workspace-path", type=click.Path(path_type=Path), default=None, help="Where to make the demo workspace.")
@no_daemon_option
@quiet_option
@click.pass_context
def demo(ctx: click.Context, workspace_path: Path | None) -> None:
    """The whole loop against a built-in scripted model: create, error, repair, MP4, edit, narration. No key needed."""
    try:
        ws = workspace_of(ctx)
    except VidgenError:
        target = (workspace_path or Path("vidgen-demo")).resolve()
        if (target / settings_module.CONFIG_NAME).is_file():
            ws = workspace_module.Workspace(target)  # a demo workspace from an earlier run
            if not ws.has_node_modules():
                install_packages(ws)  # that run was stopped during `npm ci`: start it over
        else:
            ws = workspace_module.create(target, install=False)
            install_packages(ws)
    from . import story  # the demo's last, storyboarded video

    note("vidgen demo: using a SCRIPTED model on 127.0.0.1 (no network, no key); its first answer has a deliberate bug")
    video = ws.video(workspace_module.unique_name(ws, "demo-title-card"))
    # The scripted model answers a fixed script: no polish turn it has no answer for.
    flags = {"seconds": None, "fps": None, "size": None, "aspect": None, "max_repairs": 2, "no_render": False, "no_polish": True}
    with ScriptedModel(demo_module.script) as scripted:
        # ollama: a provider that needs no key, pointed at the scripted model on loopback.
        model_flags = ModelFlags(provider="ollama", model="scripted-demo", base_url=scripted.base_url)
        settings, wanted = _model_settings(ws, flags, model_flags)
        client = client_for(settings.model)
        with session_for(ctx, ws, settings) as session:
            note(f"\n[scripted model] vidgen new {demo_module.IDEA!r}")
            created = _run_loop(session, client, "new", video, demo_module.IDEA, flags, wanted, label="scripted model")
            if not created.ok:
                _print_loop(ctx, created, False)
            caught = [a.error.one_line() for a in created.attempts if a.error]
            note(f"create: {len(created.attempts)} model turns; the ladder caught: {'; '.join(caught) or 'nothing'}")
            note(f"\n[scripted model] vidgen edit {video.name} {demo_module.EDIT!r}")
            edited = _run_loop(session, client, "edit", video, demo_module.EDIT, flags, wanted, label="scripted model")
            if edited.ok:
                _show_loop(edited)
                edited = _narrated_demo(ws, session, wanted, flags)
            if edited.ok:
                _show_loop(edited)
                edited = story.storyboarded_demo(ws, session)
        client.close()
    _print_loop(ctx, edited, False)


def _narrated_demo(
    ws: workspace_module.Workspace, session: Session, wanted: constraints_module.Constraints, flags: dict[str, Any]
) -> loop_module.LoopResult:
    """The demo's last step: a narrated, captioned video; its voice is espeak-ng, offline."""
    video = ws.video(workspace_module.unique_name(ws, "demo-narrated-explainer"))
    note(f"\n[scripted model] vidgen new {demo_module.NARRATED_IDEA!r} --narrate --captions")
    with ScriptedModel(demo_module.narrated_script) as scripted:
        client = client_for(
            ModelFlags(provider="ollama", model="scripted-demo", base_url=scripted.base_url).apply(session.settings).model
        )
        try:
            narrated_flags = {**flags, "narrate": True, "captions": True}
            return _run_loop(
                session, client, "new", video, demo_module.NARRATED_IDEA, narrated_flags, wanted, label="scripted model"
            )
        finally:
            client.close()
