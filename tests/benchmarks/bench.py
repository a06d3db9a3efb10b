"""`make bench`: every benchmark in one run, printed as one table, against plain Remotion measured in the same run.

    python tests/benchmarks/bench.py [--workspace PATH] [--runs 3]

In order, on one bench workspace made for the purpose (a new one in a temp folder by default):
  bench_init.py    `vidgen init` with and without warming the render cache; the first `vidgen render` after it
  bench_render.py  the first `vidgen render` of a workspace; later ones after an edit, without and with the daemon,
                   and two back to back (the first's previews under way)
  bench_watch.py   `vidgen watch`: save -> MP4 in place, save -> first still
  bench_fps.py     frames per second of vidgen's render op against Remotion's `renderMedia`
  bench_chunks.py  a render in 2 chunks (`--chunks 2`) against one render, on one warm service
  bench_batch.py   `vidgen batch`: model calls overlapping renders, peak memory
  bench_layout.py  what layout QA adds to `vidgen check`
  bench_jail.py    what the bubblewrap jail adds to a warm render request
Per-run lines go to stderr; the table (Markdown, with the machine, its load average before and after,
and the date) goes to stdout once every step has been measured. A step that fails ends the run with
exit 1 and no table. Each script also runs alone and prints its own rows.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import batch  # noqa: E402
from bench_chunks import chunks  # noqa: E402
from bench_fps import fps  # noqa: E402
from bench_init import first_after_init  # noqa: E402
from bench_jail import jail  # noqa: E402
from bench_layout import layout_qa  # noqa: E402
from bench_render import back_to_back, cold, kept, warm  # noqa: E402
from bench_watch import watch  # noqa: E402
from benchlib import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(__doc__ or "", [first_after_init, cold, kept, warm, back_to_back, watch, fps, chunks, batch, layout_qa, jail]))
