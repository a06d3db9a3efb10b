"""The `vidgen` group and its error boundary: every error ends as one line on stderr and its exit code."""

from __future__ import annotations

import os
import traceback
from typing import Any

import click

from .. import __version__
from ..errors import EXIT_FAILED, VidgenError
from .common import EXIT_INTERRUPTED, err


class Boundary(click.Group):
    """Turns every error into one line on stderr and its exit code; tracebacks only with VIDGEN_DEBUG=1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VidgenError as exc:
            if os.environ.get("VIDGEN_DEBUG") == "1":
                traceback.print_exc()
            err(f"error: {exc}")
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            err("interrupted: nothing was left half-written; the last good render is untouched")
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # the boundary: anything unexpected still ends in one clean line
            if os.environ.get("VIDGEN_DEBUG") == "1":
                traceback.print_exc()
            err(f"internal error: {type(exc).__name__}: {exc} (run with VIDGEN_DEBUG=1 for a traceback)")
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
