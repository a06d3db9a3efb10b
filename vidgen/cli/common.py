"""What the commands share: the workspace and session they work in, the QA flag, and how results print."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

import click
from click.shell_completion import CompletionItem

from .. import settings as settings_module
from ..engine.session import Session
from ..errors import EXIT_FAILED, EXIT_OK, VidgenError
from ..render import video as render_module
from ..workspace import project as workspace_module
from ..workspace import state
from .output import note, reporter
from .printing import err, print_json
from .progress import Reporter


def workspace_of(ctx: click.Context) -> workspace_module.Workspace:
    return workspace_module.find(explicit=ctx.ensure_object(dict).get("workspace"))


def complete_video_names(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion of NAME: the videos of the workspace the command line points at."""
    try:
        names = workspace_of(ctx).video_names()
    except VidgenError:
        return []  # no workspace here yet: nothing to offer, and no error in the middle of a prompt
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def video_name_argument(command: Callable[..., Any]) -> Callable[..., Any]:
    """The NAME argument of the commands that act on one video, completed from the workspace's videos."""
    return click.argument("name", shell_complete=complete_video_names)(command)


def open_session(ctx: click.Context) -> Session:
    workspace = workspace_of(ctx)
    state.read(workspace)  # a damaged state file is reported before the work, not after it
    return session_for(ctx, workspace, on_flag(qa_flag(settings_module.load(workspace.root))))


def session_for(ctx: click.Context, workspace: workspace_module.Workspace, settings: settings_module.Settings) -> Session:
    """The command's session: on the workspace's render daemon unless `--no-daemon` (or the settings) say not."""
    use_daemon = not (isinstance(ctx.obj, dict) and ctx.obj.get("no_daemon"))
    return Session.open(workspace, settings, daemon=use_daemon, on_note=note)


def no_daemon_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--no-daemon`: render in this command's own process (read back by `session_for`)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(dict)["no_daemon"] = True

    option = click.option(
        "--no-daemon",
        is_flag=True,
        expose_value=False,
        callback=remember,
        help="Render in this process instead of the workspace's render daemon.",
    )
    return option(command)


def no_qa_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--no-qa`: skip the layout QA stage for this one command (read back by `qa_flag`)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(dict)["no_qa"] = True

    option = click.option("--no-qa", is_flag=True, expose_value=False, callback=remember, help="Skip the layout QA stage.")
    return option(command)


# `--no-polish`: no turn for a passing video's warnings (`new`, `edit`, `batch`; [model] polish in vidgen.toml).
polish_option = click.option("--no-polish", is_flag=True, help="No extra model turn to fix the warnings of a video that passed.")


def on_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--on local|lambda`: where the video is rendered (read back by `on_flag`); [render] on in vidgen.toml."""

    def remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            ctx.ensure_object(dict)["on"] = value

    option = click.option(
        "--on",
        type=click.Choice(settings_module.RENDER_PLACES),
        expose_value=False,
        callback=remember,
        help="Render here (local) or on Remotion Lambda (lambda: after `vidgen lambda deploy`).",
    )
    return option(command)


def on_flag(settings: settings_module.Settings) -> settings_module.Settings:
    """The settings with `--on` applied, when the running command was given it."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and isinstance(ctx.obj, dict) and ctx.obj.get("on"):
        return settings_module.with_render(settings, on=ctx.obj["on"])
    return settings


def qa_flag(settings: settings_module.Settings) -> settings_module.Settings:
    """The settings with `--no-qa` applied, when the running command was given it."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and isinstance(ctx.obj, dict) and ctx.obj.get("no_qa"):
        return settings_module.with_qa(settings, enabled=False)
    return settings


def tokens_line(prompt: int, cached: int, completion: int) -> str:
    """Tokens spent, as `new`, `edit` and `show` print them."""
    return f"{prompt} prompt ({cached} cached) + {completion} completion tokens"


def print_findings(result: render_module.RenderResult) -> None:
    """Layout findings on stderr, one line each; the one that failed the check is already shown."""
    shown = result.error is not None and result.error.stage == "layout"
    for finding in result.findings:
        if shown and finding.severity == "error":
            shown = False  # the first error finding is the check's error, printed below
            continue
        (err if finding.severity == "error" else note)(f"{finding.severity}: {finding.one_line()}")


def print_result(result: render_module.RenderResult, as_json: bool) -> None:
    if as_json:
        print_json(result.to_json(), EXIT_OK if result.error is None else EXIT_FAILED)
        return
    print_findings(result)
    if result.error:
        err(f"error: {result.error.one_line()}")
        if result.error.excerpt:
            err(result.error.excerpt)
        return
    c = result.composition
    summary = f"{c.width}x{c.height}, {c.fps:g} fps, {c.frames} frames ({c.duration_s:.2f}s)" if c else ""
    if result.output:
        click.echo(str(result.output.resolve()))
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items() if v >= 0.05)
        note(f"rendered {result.name}: {summary}; {timings}")
        if result.cost is not None:
            note(f"Remotion Lambda cost {result.cost['display']} {result.cost['currency']} (Lambda's estimate)")
        print_previews(result)
    else:
        click.echo(f"{result.name}: ok ({summary})")


def print_previews(result: render_module.RenderResult) -> None:
    """Where the poster, GIF and sheet are (or will be, when a daemon makes them), or the line saying what failed."""
    status = result.previews_status()
    if status == "failed" and result.previews is not None:
        err(f"warning: {result.previews.result()}")
    shown = {"poster": result.poster, "preview": result.preview, "contact sheet": result.sheet}
    if status == "failed":
        shown = {label: path for label, path in shown.items() if path and path.is_file()}
    paths = [f"{label} {path}" for label, path in shown.items() if path]
    if result.captions:
        paths.append(f"captions {result.captions}")
    if paths:
        note(", ".join(paths) + (" (being made)" if status == "pending" else ""))


def run_pipeline(ctx: click.Context, as_json: bool, work: Callable[[Session, Reporter], render_module.RenderResult]) -> None:
    session = open_session(ctx)
    shown = reporter()
    try:
        result = work(session, shown)
    finally:
        try:
            session.close()  # waits for the previews: their progress line ends when they do
        finally:
            shown.close()
    print_result(result, as_json)
    ctx.exit(EXIT_OK if result.error is None else EXIT_FAILED)


class Terminated(Exception):
    def __init__(self, number: int):
        super().__init__(f"signal {number}")
        self.signal = number


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP end the wait like Ctrl-C does (their default would leave a child process behind)."""

    def raise_terminated(number: int, _frame: object) -> None:
        raise Terminated(number)

    previous = {number: signal.signal(number, raise_terminated) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
