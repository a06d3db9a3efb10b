"""The `vidgen` command line: thin commands over the pipeline, and one error boundary.

Results go to stdout, progress and logs to stderr; `--json` prints exactly one JSON object.
One module per command group; the helpers they share live in `common`, the group in `app`.
"""

from __future__ import annotations

import click

from . import batch, config, daemon, history, keys, mcp, project
from . import new as model
from . import render as rendering
from .app import main
from .common import workspace_option

for command in (
    project.init,
    project.list_videos,
    project.studio,
    project.doctor,
    rendering.check,
    rendering.render,
    rendering.watch,
    rendering.open_video,
    model.new,
    model.edit,
    model.demo,
    model.models,
    keys.keys,
    history.history,
    history.undo,
    history.redo,
    history.diff,
    history.show,
    batch.batch,
    config.config,
    daemon.daemon,
    mcp.mcp,
):
    # --workspace after the command's name too: `vidgen render hello --workspace W`, `vidgen keys list --workspace W`
    command.params.append(workspace_option())
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            subcommand.params.append(workspace_option())
    main.add_command(command)


def run() -> None:
    main(prog_name="vidgen")


__all__ = ["main", "run"]
