"""The `vidgen` command line: thin commands over the pipeline, and one error boundary.

Results go to stdout, progress and logs to stderr; `--json` prints exactly one JSON object.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__, media, resources, sandbox, state
from . import doctor as doctor_module
from . import render as render_module
from . import settings as settings_module
from . import watch as watch_module
from . import workspace as workspace_module
from .errors import EXIT_FAILED, EXIT_OK, UsageError, VidgenError
from .model import ModelClient, client_for
from .progress import Reporter
from .session import Session

EXIT_INTERRUPTED = 130


def _err(message: str) -> None:
    click.echo(message, err=True)


class Boundary(click.Group):
    """Turns every error into one line on stderr and its exit code; tracebacks only with VIDGEN_DEBUG=1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VidgenError as exc:
            if os.environ.get("VIDGEN_DEBUG") == "1":
                traceback.print_exc()
            _err(f"error: {exc}")
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            _err("interrupted: nothing was left half-written; the last good render is untouched")
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # the boundary: anything unexpected still ends in one clean line
            if os.environ.get("VIDGEN_DEBUG") == "1":
                traceback.print_exc()
            _err(f"internal error: {type(exc).__name__}: {exc} (run with VIDGEN_DEBUG=1 for a traceback)")
            ctx.exit(EXIT_FAILED)


@click.group(cls=Boundary)
@click.version_option(__version__, prog_name="vidgen")
@click.option(
    "--workspace", "workspace_path", envvar="VIDGEN_WORKSPACE", help="Workspace folder (default: found upward from here)."
)
@click.pass_context
def main(ctx: click.Context, workspace_path: str | None) -> None:
    """Turn a plain-language idea into a finished video, rendered with Remotion."""
    ctx.obj = {"workspace": workspace_path}


def _workspace(ctx: click.Context) -> workspace_module.Workspace:
    return workspace_module.find(explicit=ctx.obj["workspace"])


def _open_session(ctx: click.Context) -> Session:
    workspace = _workspace(ctx)
    state.read(workspace)  # a damaged state file is reported before the work, not after it
    return Session.open(workspace, qa_flag(settings_module.load(workspace.root)))


def no_qa_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--no-qa`: skip the layout QA stage for this one command (read back by `qa_flag`)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(dict)["no_qa"] = True

    option = click.option("--no-qa", is_flag=True, expose_value=False, callback=remember, help="Skip the layout QA stage.")
    return option(command)


def qa_flag(settings: settings_module.Settings) -> settings_module.Settings:
    """The settings with `--no-qa` applied, when the running command was given it."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and isinstance(ctx.obj, dict) and ctx.obj.get("no_qa"):
        return settings_module.with_qa(settings, enabled=False)
    return settings


def print_findings(result: render_module.RenderResult) -> None:
    """Layout findings on stderr, one line each; the one that failed the check is already shown."""
    shown = result.error is not None and result.error.stage == "layout"
    for finding in result.findings:
        if shown and finding.severity == "error":
            shown = False  # the first error finding is the check's error, printed below
            continue
        _err(f"{finding.severity}: {finding.one_line()}")


def _print_result(result: render_module.RenderResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_json()))
        return
    print_findings(result)
    if result.error:
        _err(f"error: {result.error.one_line()}")
        if result.error.excerpt:
            _err(result.error.excerpt)
        return
    c = result.composition
    summary = f"{c.width}x{c.height}, {c.fps:g} fps, {c.frames} frames ({c.duration_s:.2f}s)" if c else ""
    if result.output:
        click.echo(str(result.output.resolve()))
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items() if v >= 0.05)
        _err(f"rendered {result.name}: {summary}; {timings}")
        if result.poster:
            _err(
                f"poster {result.poster}"
                + (f", preview {result.preview}" if result.preview else "")
                + (f", contact sheet {result.sheet}" if result.sheet else "")
            )
    else:
        click.echo(f"{result.name}: ok ({summary})")


def _run_pipeline(ctx: click.Context, as_json: bool, work: Callable[[Session, Reporter], render_module.RenderResult]) -> None:
    session = _open_session(ctx)
    reporter = Reporter()
    try:
        result = work(session, reporter)
    finally:
        reporter.close()
        session.close()
    _print_result(result, as_json)
    ctx.exit(EXIT_OK if result.error is None else EXIT_FAILED)


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("."))
@click.option("--no-install", is_flag=True, help="Skip `npm ci` (run it yourself later).")
def init(path: Path, no_install: bool) -> None:
    """Make a workspace (a Remotion project) at PATH from the template."""
    ws = workspace_module.create(path, install=not no_install)
    _err(f"workspace ready: {ws.root}")
    _err(f"next: cd {ws.root} && vidgen render hello")
    click.echo(str(ws.root))


@main.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def list_videos(ctx: click.Context, as_json: bool) -> None:
    """The videos in the workspace and their state."""
    ws = _workspace(ctx)
    known = state.read(ws)
    rows = []
    for name in ws.video_names():
        entry = known.get(name)
        if entry is None:
            status = "never rendered"
        elif entry.get("status") == "rendered":
            status = f"rendered at {entry['at']}"
        else:
            status = f"failed at {entry.get('stage')} ({entry['at']}): {entry.get('message', '')}"
        rows.append({"name": name, "state": status, **(entry or {})})
    if as_json:
        click.echo(json.dumps({"videos": rows}))
        return
    if not rows:
        _err("no videos yet: add one in src/videos/<name>/index.tsx")
    for row in rows:
        click.echo(f"{row['name']:<24} {row['state']}")


@main.command()
@click.option("--port", type=int, default=3000, show_default=True)
@click.pass_context
def studio(ctx: click.Context, port: int) -> None:
    """Start Remotion Studio on 127.0.0.1 to see every video."""
    ws = _workspace(ctx)
    ws.require_node_modules()
    npx = shutil.which("npx")
    if not npx:
        raise VidgenError("npx was not found: install Node.js 20 with npm")
    _err(f"Remotion Studio on http://127.0.0.1:{port} (Ctrl-C to stop)")
    loopback = resources.template_dir() / "service" / "bind-loopback.cjs"
    # Like the render service, Studio starts without the user's keys in its environment.
    env = sandbox.service_environment({"NODE_OPTIONS": f"--require {json.dumps(str(loopback))}", "BROWSER": "none"})
    try:
        code = subprocess.call([npx, "remotion", "studio", "--port", str(port), "--no-open"], cwd=ws.root, env=env)
    except KeyboardInterrupt:
        code = EXIT_OK
    ctx.exit(code)


@main.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@no_qa_option
@click.pass_context
def check(ctx: click.Context, name: str, as_json: bool) -> None:
    """Run the validation ladder on a video without rendering it."""
    video = _workspace(ctx).existing_video(name)
    _run_pipeline(ctx, as_json, lambda session, reporter: render_module.check(session, video, reporter))


@main.command()
@click.argument("name")
@click.option("--out", "out", type=click.Path(path_type=Path), help="Where to write (default out/NAME.<ext>).")
@click.option("--codec", type=click.Choice(render_module.CODECS), default=None, help="Default from vidgen.toml (h264).")
@click.option("--still", "still", type=click.IntRange(min=0), default=None, help="Render this one frame as a PNG instead.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@no_qa_option
@click.pass_context
def render(ctx: click.Context, name: str, out: Path | None, codec: str | None, still: int | None, as_json: bool) -> None:
    """Check and render a video to out/NAME.mp4, verified, with a poster and a GIF preview."""
    video = _workspace(ctx).existing_video(name)
    if out is not None and out.exists() and out.is_dir():
        raise VidgenError(f"--out {out} is a folder: give a file path such as {out / (name + '.mp4')}")
    chosen = codec or settings_module.load(video.workspace.root).render.codec
    if chosen not in render_module.CODECS:
        raise VidgenError(f"codec {chosen!r} in vidgen.toml is not one of {', '.join(render_module.CODECS)}")
    if out is not None:
        check_output(video.workspace, out, ".png" if still is not None else media.EXTENSIONS[chosen])

    def work(session: Session, reporter: Reporter) -> render_module.RenderResult:
        return render_module.render(session, video, codec=chosen, output=out, still_frame=still, on_event=reporter)

    _run_pipeline(ctx, as_json, work)


# Where a render may never land: the workspace's code, its packages and vidgen's own state.
SOURCE_FOLDERS = ("src", "node_modules", ".vidgen", "public", "service")


def check_output(workspace: workspace_module.Workspace, out: Path, extension: str) -> None:
    """--out must name a media file of the right kind, outside the workspace's source tree.

    Checked before the ladder runs, so a mistyped --out never costs a render, and a still
    never lands on index.tsx or README.md.
    """
    if out.suffix.lower() != extension:
        raise UsageError(f"--out {out} does not end in {extension}, the extension of what is rendered: e.g. out/video{extension}")
    # Links in the folders are followed (that is where the file lands); the name itself is replaced, not followed.
    target = out.expanduser().absolute().parent.resolve() / out.name
    try:
        inside = target.relative_to(workspace.root.resolve()).parts
    except ValueError:
        inside = ()
    if len(inside) > 1 and inside[0] in SOURCE_FOLDERS:
        raise UsageError(f"--out {out} is inside the workspace's {inside[0]}/: write renders to out/ or outside the workspace")
    if target.exists() and not target.is_file():
        raise UsageError(f"--out {out} exists and is not a regular file: choose another path")


@main.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check this machine for everything vidgen needs; print the fix for each problem."""
    try:
        ws: workspace_module.Workspace | None = _workspace(ctx)
    except VidgenError:
        ws = None
    settings = settings_module.load(ws.root if ws else None)
    findings = doctor_module.examine(ws, settings)
    for finding in findings:
        mark = "ok  " if finding.ok else ("FAIL" if finding.needed_to_render else "warn")
        click.echo(f"{mark} {finding.name:<16} {finding.detail}")
        if not finding.ok and finding.fix:
            click.echo(f"     fix: {finding.fix}")
    blocking = [f for f in findings if not f.ok and f.needed_to_render]
    ctx.exit(EXIT_FAILED if blocking else EXIT_OK)


@main.command()
@click.argument("name")
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
@no_qa_option
@click.pass_context
def watch(ctx: click.Context, name: str, stills_only: bool, repair: str | None, open_output: bool) -> None:
    """Re-check and re-render a video on every save; type an instruction to have the model edit it."""
    video = _workspace(ctx).existing_video(name)
    settings = qa_flag(settings_module.load(video.workspace.root))
    state.read(video.workspace)  # every cycle records to it: a damaged one is reported now
    options = watch_module.WatchOptions(stills_only, repair, settings.model.max_repairs, open_output)
    reporter = Reporter(stages=False)

    def show(line: str) -> None:
        reporter.close()
        reporter.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def client() -> ModelClient:
        return client_for(settings.model)

    session = Session.open(video.workspace, settings)
    watcher = watch_module.Watcher(session, video, options, show, reporter, client)
    try:
        watcher.run()
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop.set()
        reporter.close()
        session.close()
    _err(f"watch stopped; last good render: {watcher.last_good or 'none this session'}")
    ctx.exit(EXIT_OK)


def run() -> None:
    main(prog_name="vidgen")


# The model commands live in their own module; importing it registers them on `main`.
from . import cli_batch, cli_model  # noqa: E402,F401

if __name__ == "__main__":
    run()
