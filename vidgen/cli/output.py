"""`--quiet` and what it silences: the progress reporter, notes on stderr, and the `npm ci` line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..workspace import project as workspace_module
from .progress import Reporter


def quiet_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--quiet`/`-q`: print only the result and errors (read back by `is_quiet`)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(dict)["quiet"] = True

    option = click.option(
        "--quiet", "-q", is_flag=True, expose_value=False, callback=remember, help="Print only the result and errors."
    )
    return option(command)


def is_quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return ctx is not None and isinstance(ctx.obj, dict) and bool(ctx.obj.get("quiet"))


def reporter(label: str = "", stills: bool = True) -> Reporter:
    """The progress display for the running command: silent under --quiet."""
    return Reporter(quiet=is_quiet(), label=label, stills=stills)


def note(message: str) -> None:
    """A line on stderr that is neither the result nor an error: left out under --quiet."""
    if not is_quiet():
        click.echo(message, err=True)


def install_packages(workspace: workspace_module.Workspace) -> None:
    """`npm ci` as one progress line; its full log is kept and pointed to only when it fails."""
    shown = reporter()
    shown("stage", {"stage": "npm ci", "note": "installing the workspace's packages"})
    try:
        workspace_module.install_node_modules(workspace, log=lambda _line: shown("log", {}))
    finally:
        shown.close()  # a failure or Ctrl-C shows as `npm ci stopped after ...`
