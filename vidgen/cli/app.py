"""The `vidgen` group and its error boundary: every error ends as one line on stderr and its exit code.

With `--json` anywhere in the arguments, every path also prints exactly one JSON object on stdout:
the command's result, or `{"status": "error", "error": {"message", "code"}, "exit_code"}`, usage
errors from click itself included.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from .. import __version__
from ..errors import EXIT_FAILED, EXIT_OK, VidgenError
from .printing import EXIT_INTERRUPTED, print_error


def workspace_option(envvar: str | None = None) -> click.Option:
    """`--workspace`, on the group and on every command, so it works before or after the command's name."""

    def remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            ctx.ensure_object(dict)["workspace"] = value

    return click.Option(
        ["--workspace"],
        envvar=envvar,
        expose_value=False,
        callback=remember,
        help="Workspace folder (default: found upward from here).",
    )


def wants_json(argv: Sequence[str]) -> bool:
    """`--json` anywhere among the options (not after `--`, where it would be an argument)."""
    options = argv[: list(argv).index("--")] if "--" in argv else argv
    return "--json" in options


# Every command: its module under vidgen/cli/, its function, and the one line `vidgen -h` shows. A command's
# module (and the pipeline behind it) is imported only when that command runs or shows its own help, so
# `vidgen -h` stays fast; tests/test_cli.py checks each line against the command's own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "batch": ("batch", "batch", "Make one video per item of FILE (.txt, .jsonl, .yaml or .csv), resumable, with an HTML report."),
    "check": ("render", "check", "Run the validation ladder on a video without rendering it."),
    "config": (
        "config",
        "config",
        "The effective settings and where each comes from: flag, environment variable, vidgen.toml or default.",
    ),
    "daemon": (
        "daemon",
        "daemon",
        "The workspace's render daemon: commands share it, so each finds Node, webpack and Chromium warm.",
    ),
    "demo": ("new", "demo", "The whole loop against a built-in scripted model: create, error, repair, MP4, edit, narration."),
    "diff": ("history", "diff", "What changed since the previous version (or what version N changed)."),
    "doctor": ("project", "doctor", "Check this machine for everything vidgen needs; print the fix for each problem."),
    "edit": ("new", "edit", "Change a video as INSTRUCTION says, from its files as they are on disk."),
    "history": (
        "history",
        "history",
        "Every version of a video vidgen kept: time, kind, video, status, tokens, prompt (* the current one).",
    ),
    "init": ("project", "init", "Make a workspace (a Remotion project) at PATH from the template."),
    "keys": ("keys", "keys", "Store API keys outside any workspace (used when neither a flag nor the environment gives one)."),
    "lambda": (
        "cloud",
        "lambda_group",
        "Remotion Lambda: deploy the function and site, see what is deployed, remove it (`render --on lambda` uses it).",
    ),
    "list": ("project", "list_videos", "The videos in the workspace and their state."),
    "mcp": ("mcp", "mcp", "Serve this workspace to a coding agent as an MCP server on stdio (stdout is the protocol)."),
    "logs": (
        "logs",
        "logs",
        "Past prompts and replies across videos (or NAME's), newest first: time, video, model, turn kind.",
    ),
    "models": (
        "models",
        "models",
        "List the models the endpoint offers (GET /models), one id a line; `models default` picks vidgen's.",
    ),
    "new": ("new", "new", "Make a new video from an IDEA: the model writes it, vidgen renders and repairs it."),
    "open": ("render", "open_video", "Open a video's newest render with the desktop's viewer (xdg-open, or open on macOS)."),
    "plugins": (
        "plugins",
        "plugins",
        "The installed plugins (the `vidgen.providers` entry points): package, version, providers, problems.",
    ),
    "redo": ("history", "redo", "Go forward one version after an undo: its files, and its video when one is kept."),
    "render": ("render", "render", "Check and render a video to out/NAME.mp4, verified, with a poster and a GIF preview."),
    "show": ("history", "show", "The last exchange with the model for a video, and the last error."),
    "still": (
        "render",
        "still",
        "Check a video and draw one frame as a PNG (as `render --still`), like `npx remotion still`.",
    ),
    "storyboard": (
        "story",
        "storyboard",
        "Show a storyboarded video's plan (storyboard.json); --rebuild after editing it by hand.",
    ),
    "studio": ("project", "studio", "Start Remotion Studio on 127.0.0.1 to see every video."),
    "ui": ("ui", "ui", "A page on 127.0.0.1: the videos in Remotion's player, a chat with the model, what the checks saw."),
    "undo": (
        "history",
        "undo",
        "Go back one version (or to version N): its files, and its video when one is kept.",
    ),
    "watch": ("render", "watch", "Re-check and re-render a video on every save; type an instruction to have the model edit it."),
}


def load_command(name: str) -> click.Command:
    """Import one command's module; give the command (and a group's subcommands) `--workspace` after its name."""
    module, attribute, _help = COMMANDS[name]
    command: click.Command = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
    for each in [command, *(command.commands.values() if isinstance(command, click.Group) else [])]:
        # `vidgen render hello --workspace W`, `vidgen keys list --workspace W`
        if not any(param.name == "workspace" for param in each.params):
            each.params.append(workspace_option())
    return command


class Boundary(click.Group):
    """Runs the command and turns whatever ends it into an exit code, a line on stderr and, with --json, one object.

    Its commands are loaded lazily from COMMANDS; the list in `vidgen -h` is drawn from the table alone."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS and name not in self.commands:
            self.add_command(load_command(name), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # A loaded command would shorten its help just so: a stand-in with the table's line does it unloaded.
            command = self.commands.get(name) or click.Command(name, help=COMMANDS[name][2])
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        code = self._run(argv, prog_name, complete_var, wants_json(argv), **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(self, argv: list[str], prog_name: str | None, complete_var: str | None, as_json: bool, **extra: Any) -> int:
        try:
            returned = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
            return returned if isinstance(returned, int) else EXIT_OK
        except VidgenError as exc:
            _debug_traceback()
            print_error(str(exc), exc.exit_code, as_json, code=exc.code)
            return exc.exit_code
        except click.UsageError as exc:
            if not as_json:
                exc.show()
                return exc.exit_code
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            print_error(exc.format_message() + where, exc.exit_code, as_json, code="usage")
            return exc.exit_code
        except click.ClickException as exc:
            print_error(exc.format_message(), exc.exit_code, as_json, code="usage" if exc.exit_code == 2 else "failed")
            return exc.exit_code
        except click.Abort as exc:
            # click's prompts raise Abort `from None` for a Ctrl-C: the interrupt is still its context.
            if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
                message = "interrupted: nothing was left half-written; the last good render is untouched"
                print_error(message, EXIT_INTERRUPTED, as_json, code="interrupted", label="interrupted")
                return EXIT_INTERRUPTED
            print_error("aborted: nothing was changed", EXIT_FAILED, as_json, code="aborted")
            return EXIT_FAILED
        except Exception as exc:  # the boundary: anything unexpected still ends in one clean line
            _debug_traceback()
            message = f"{type(exc).__name__}: {exc} (run with VIDGEN_DEBUG=1 for a traceback)"
            print_error(message, EXIT_FAILED, as_json, code="internal", label="internal error")
            return EXIT_FAILED


def _debug_traceback() -> None:
    if os.environ.get("VIDGEN_DEBUG") == "1":
        traceback.print_exc()


@click.group(
    cls=Boundary, context_settings={"help_option_names": ["-h", "--help"]}, params=[workspace_option("VIDGEN_WORKSPACE")]
)
@click.version_option(__version__, prog_name="vidgen")
def main() -> None:
    """Turn a plain-language idea into a finished video, rendered with Remotion."""
