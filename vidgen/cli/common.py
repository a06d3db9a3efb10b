"""What the commands share: the workspace and session they work in, the QA flag, and how results print."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from .. import render as render_module
from .. import settings as settings_module
from .. import state
from .. import workspace as workspace_module
from ..errors import EXIT_FAILED, EXIT_OK
from ..progress import Reporter
from ..session import Session
from .output import note, reporter

EXIT_INTERRUPTED = 130


def err(message: str) -> None:
    click.echo(message, err=True)


def workspace_of(ctx: click.Context) -> workspace_module.Workspace:
    return workspace_module.find(explicit=ctx.obj["workspace"])


def open_session(ctx: click.Context) -> Session:
    workspace = workspace_of(ctx)
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
        (err if finding.severity == "error" else note)(f"{finding.severity}: {finding.one_line()}")


def print_result(result: render_module.RenderResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_json()))
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
        if result.poster:
            note(
                f"poster {result.poster}"
                + (f", preview {result.preview}" if result.preview else "")
                + (f", contact sheet {result.sheet}" if result.sheet else "")
            )
    else:
        click.echo(f"{result.name}: ok ({summary})")


def run_pipeline(ctx: click.Context, as_json: bool, work: Callable[[Session, Reporter], render_module.RenderResult]) -> None:
    session = open_session(ctx)
    shown = reporter()
    try:
        result = work(session, shown)
    finally:
        shown.close()
        session.close()
    print_result(result, as_json)
    ctx.exit(EXIT_OK if result.error is None else EXIT_FAILED)
