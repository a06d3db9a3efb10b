"""Commands that run the ladder on a video: check, render and watch."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import settings as settings_module
from ..agent import watch as watch_module
from ..engine.session import Session
from ..errors import EXIT_OK, UsageError, VidgenError
from ..media import probe as media
from ..media import viewer
from ..model.client import ModelClient, client_for
from ..render import on_lambda
from ..render import options as render_options
from ..render import video as render_module
from ..workspace import outputs as renders
from ..workspace import project as workspace_module
from ..workspace import state
from .common import (
    no_daemon_option,
    no_qa_option,
    on_flag,
    on_option,
    qa_flag,
    run_pipeline,
    session_for,
    video_name_argument,
    workspace_of,
)
from .flags import ModelFlags, model_options
from .output import quiet_option, reporter
from .printing import err, print_json
from .progress import Reporter


@click.command()
@video_name_argument
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@no_qa_option
@no_daemon_option
@quiet_option
@click.pass_context
def check(ctx: click.Context, name: str, as_json: bool) -> None:
    """Run the validation ladder on a video without rendering it."""
    video = workspace_of(ctx).existing_video(name)
    run_pipeline(ctx, as_json, lambda session, reporter: render_module.check(session, video, reporter))


@click.command()
@video_name_argument
@click.option("--out", "out", type=click.Path(path_type=Path), help="Where to write (default out/NAME.<ext>).")
@click.option("--codec", type=click.Choice(render_module.CODECS), default=None, help="Default from vidgen.toml (h264).")
@click.option("--still", "still", type=click.IntRange(min=0), default=None, help="Render this one frame as a PNG instead.")
@click.option("--props", "props", metavar="JSON|@FILE", help="Input props for the video: a JSON object, or @file.json.")
@click.option("--scale", "scale", metavar="F", help="Render at F times the video's size (0 < F <= 16).")
@click.option("--frames", "frames", metavar="A-B", help="Render only these frames: A-B (inclusive), A- or N.")
@click.option("--crf", "crf", type=int, metavar="N", help="Quality: h264 1-51, vp9 0-63; lower is better and larger.")
@click.option("--chunks", "chunks", type=int, metavar="N", help="Render N frame ranges at once and join them (h264).")
@on_option
@click.option("--dry-run", is_flag=True, help="With --on lambda: print the request that would be sent, and stop.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--open", "open_output", is_flag=True, help="Open the result with the desktop's viewer.")
@no_qa_option
@no_daemon_option
@quiet_option
@click.pass_context
def render(
    ctx: click.Context,
    name: str,
    out: Path | None,
    codec: str | None,
    still: int | None,
    props: str | None,
    scale: str | None,
    frames: str | None,
    crf: int | None,
    chunks: int | None,
    dry_run: bool,
    as_json: bool,
    open_output: bool,
) -> None:
    """Check and render a video to out/NAME.mp4, verified, with a poster and a GIF preview."""
    render_video(
        ctx,
        name,
        out,
        codec,
        still,
        as_json,
        open_output,
        props=props,
        scale=scale,
        frames=frames,
        crf=crf,
        chunks=chunks,
        dry_run=dry_run,
    )


@click.command()
@video_name_argument
@click.option("--frame", "frame", type=click.IntRange(min=0), required=True, help="The frame to draw (0 is the first).")
@click.option("--out", "out", type=click.Path(path_type=Path), help="Where to write the PNG (default out/NAME-FRAME.png).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--open", "open_output", is_flag=True, help="Open the PNG with the desktop's viewer.")
@no_qa_option
@no_daemon_option
@quiet_option
@click.pass_context
def still(ctx: click.Context, name: str, frame: int, out: Path | None, as_json: bool, open_output: bool) -> None:
    """Check a video and draw one frame as a PNG (as `render --still`), like `npx remotion still`."""
    render_video(ctx, name, out, None, frame, as_json, open_output, still_flag="--frame")


def render_video(
    ctx: click.Context,
    name: str,
    out: Path | None,
    codec: str | None,
    still: int | None,
    as_json: bool,
    open_output: bool,
    still_flag: str = "--still",
    *,
    props: str | None = None,
    scale: str | None = None,
    frames: str | None = None,
    crf: int | None = None,
    chunks: int | None = None,
    dry_run: bool = False,
) -> None:
    """`render` and `still`: one path from the options to the pipeline, so a still is drawn the same way by both."""
    video = workspace_of(ctx).existing_video(name)
    if out is not None and out.exists() and out.is_dir():
        raise UsageError(f"--out {out} is a folder: give a file path such as {out / (name + '.mp4')}")
    loaded = on_flag(settings_module.load(video.workspace.root))
    configured = loaded.render
    chosen = codec or configured.codec
    if chosen not in render_module.CODECS:
        raise UsageError(f"codec {chosen!r} in vidgen.toml is not one of {', '.join(render_module.CODECS)}")
    if still is not None and (props, scale, frames, crf, chunks) != (None, None, None, None, None):
        raise UsageError("--still renders one PNG: --props, --scale, --frames, --crf and --chunks apply to video renders")
    asked = render_options.from_flags(props, scale, frames, crf, chosen, chunks)
    if configured.on == "lambda" or dry_run:
        explicit = isinstance(ctx.obj, dict) and ctx.obj.get("on") == "lambda"
        _check_lambda_flags(still if explicit or dry_run else None, chunks, dry_run, configured.on)
        if dry_run:
            request = on_lambda.dry_run(loaded, video, chosen, asked)
            click.echo(json.dumps({"status": "ok", "request": json.loads(request), "exit_code": EXIT_OK}) if as_json else request)
            return
        if still is None:
            on_lambda.preflight(loaded, video.workspace)  # deployed, of this version: before the ladder runs
    own = render_module.default_output(video, chosen)
    if asked.variant and out is not None and out.expanduser().absolute() == own.absolute():
        raise UsageError(f"--out {out} is {name}'s own render: a --frames, --scale or --props render goes beside it")
    if out is not None:
        check_output(video.workspace, out, ".png" if still is not None else media.EXTENSIONS[chosen])

    if open_output and viewer.opener() is None:
        raise viewer.no_viewer(out or render_module.default_output(video, chosen))

    def work(session: Session, reporter: Reporter) -> render_module.RenderResult:
        result = render_module.render(
            session, video, codec=chosen, output=out, still_frame=still, on_event=reporter, still_flag=still_flag, options=asked
        )
        if open_output and result.error is None and result.output is not None:
            try:
                viewer.open_file(result.output)
            except VidgenError as exc:  # the render stands: only the showing failed
                err(f"warning: {exc}")
        return result

    run_pipeline(ctx, as_json, work)


def _check_lambda_flags(still: int | None, chunks: int | None, dry_run: bool, on: str) -> None:
    """What a render on Lambda cannot take, refused before any work."""
    if dry_run and on != "lambda":
        raise UsageError("--dry-run shows the request of a render on Lambda: add --on lambda")
    if still is not None:
        raise UsageError('--still draws one frame here: leave out --on lambda (or render.on = "lambda") for it')
    if chunks is not None and on == "lambda":
        raise UsageError("--chunks splits a render on this machine: on Lambda, [lambda] frames_per_lambda or concurrency do")


@click.command(name="open")
@video_name_argument
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def open_video(ctx: click.Context, name: str, as_json: bool) -> None:
    """Open a video's newest render with the desktop's viewer (xdg-open, or open on macOS)."""
    video = workspace_of(ctx).existing_video(name)
    path = renders.newest(video)
    if path is None:
        raise UsageError(f"{name} has no rendered video yet: `vidgen render {name}` makes out/{name}.mp4")
    viewer.open_file(path)
    if as_json:
        print_json({"name": name, "output": str(path.resolve())})
    else:
        click.echo(str(path.resolve()))


# Where a render may never land: the workspace's code, its packages and vidgen's own state.
SOURCE_FOLDERS = ("src", "node_modules", ".vidgen", "public", "service")


def check_output(workspace: workspace_module.Workspace, out: Path, extension: str, flag: str = "--out") -> None:
    """--out (or `flag`) must name a file of the right kind, outside the workspace's source tree.

    Checked before the ladder runs, so a mistyped --out never costs a render, and a still
    never lands on index.tsx or README.md.
    """
    if out.suffix.lower() != extension:
        raise UsageError(f"{flag} {out} does not end in {extension}, the extension of what is written: e.g. out/video{extension}")
    # Links in the folders are followed (that is where the file lands); the name itself is replaced, not followed.
    target = out.expanduser().absolute().parent.resolve() / out.name
    try:
        inside = target.relative_to(workspace.root.resolve()).parts
    except ValueError:
        inside = ()
    if len(inside) > 1 and inside[0] in SOURCE_FOLDERS:
        raise UsageError(f"{flag} {out} is inside the workspace's {inside[0]}/: write to out/ or outside the workspace")
    if target.exists() and not target.is_file():
        raise UsageError(f"{flag} {out} exists and is not a regular file: choose another path")


@click.command()
@video_name_argument
@click.option("--stills-only", is_flag=True, help="Check and show stills on each save, render no MP4.")
@click.option(
    "--repair",
    type=click.Choice(["model", "all"]),
    default=None,
    is_flag=False,
    flag_value="model",
    help="Send errors to the model: in code it wrote (--repair), or in any code (--repair=all).",
)
@click.option("--open", "open_output", is_flag=True, help="Open the MP4 after the first good render.")
@model_options
@no_qa_option
@no_daemon_option
@quiet_option
@click.pass_context
def watch(
    ctx: click.Context, name: str, stills_only: bool, repair: str | None, open_output: bool, model_flags: ModelFlags
) -> None:
    """Re-check and re-render a video on every save; type an instruction to have the model edit it."""
    video = workspace_of(ctx).existing_video(name)
    settings = model_flags.apply(qa_flag(settings_module.load(video.workspace.root)))
    # Every save is a render: a paid vision model looks at them only when asked (--critique), and a
    # session that only edits by hand needs no key.
    critic = model_flags.critic(settings) if model_flags.critique and not stills_only else None
    state.read(video.workspace)  # every cycle records to it: a damaged one is reported now
    options = watch_module.WatchOptions(stills_only, repair, settings.model.max_repairs, open_output)
    shown = reporter(stills=False)

    def show(line: str) -> None:
        shown.close()
        shown.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def client() -> ModelClient:
        return client_for(settings.model)

    session = session_for(ctx, video.workspace, settings)
    watcher = watch_module.Watcher(session, video, options, show, shown, client, critic)
    try:
        watcher.run()
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop.set()
        shown.close()
        session.close()
        if critic is not None:
            critic.close()
    err(f"watch stopped; last good render: {watcher.last_good or 'none this session'}")
    ctx.exit(EXIT_OK)
