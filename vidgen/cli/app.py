"""The `vidgen` group and its error boundary: every error ends as one line on stderr and its exit code.

With `--json` anywhere in the arguments, every path also prints exactly one JSON object on stdout:
the command's result, or `{"status": "error", "error": {"message", "code"?}, "exit_code"}`, usage
errors from click itself included.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from .. import __version__
from ..errors import EXIT_FAILED, EXIT_OK, StructuredError, VidgenError
from .common import EXIT_INTERRUPTED, print_error, workspace_option


def wants_json(argv: Sequence[str]) -> bool:
    """`--json` anywhere among the options (not after `--`, where it would be an argument)."""
    options = argv[: list(argv).index("--")] if "--" in argv else argv
    return "--json" in options


class Boundary(click.Group):
    """Runs the command and turns whatever ends it into an exit code, a line on stderr and, with --json, one object."""

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
            structured = getattr(exc, "error", None)  # WorkFailed carries where the work stopped
            details = structured.to_dict() if isinstance(structured, StructuredError) else {}
            print_error(str(exc), exc.exit_code, as_json, code=exc.code, details=details)
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
