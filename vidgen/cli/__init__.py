"""The `vidgen` command line: thin commands over the pipeline, and one error boundary.

Results go to stdout, progress and logs to stderr; `--json` prints exactly one JSON object.
One module per command group, named by the commands it holds; the group, its table of commands
(each imported only when it runs) and the boundary live in `app`, the helpers they share in `common`.
"""

from __future__ import annotations

from .app import main


def run() -> None:
    main(prog_name="vidgen")


__all__ = ["main", "run"]
