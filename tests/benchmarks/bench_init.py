"""`vidgen init` and the first `vidgen render hello` after it, against `npx remotion render` from a workspace as fresh.

    python tests/benchmarks/bench_init.py [--workspace PATH] [--runs 3]

Each run makes two new workspaces in a temp folder, each with a real `npm ci`:
init   `vidgen init PATH --no-warm` (init as it was before it warmed the render cache) and `vidgen init PATH`
       (which then bundles, lints and typechecks the example video, `hello`): what warming adds to init,
       `npm ci` included in both. Target: at most 20 s more.
first  The first `vidgen render hello` in the workspace `vidgen init` made (the daemon it starts included),
       against `npx remotion render hello` in the one `vidgen init --no-warm` made, each straight after its
       init: both sides start as a user does after init. Target <= 0.75.
The bench workspace itself is not used; the two new ones are removed after each run (any daemon stopped).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import VIDGEN, Row, Series, log, main, ratio_row, run, stop_daemon_if_any, wait_until  # noqa: E402

from vidgen.workspace.project import Workspace  # noqa: E402

VIDEO = "hello"  # the example video init makes
ADDED_TARGET_S = 20.0


def _previews_written(root: Path, since: float) -> None:
    """Wait for the poster, GIF and contact sheet the daemon makes after the render, so they slow no later step."""
    files = [root / "out" / f"{VIDEO}.{suffix}" for suffix in ("poster.png", "preview.gif", "sheet.png")]
    wait_until(lambda: all(p.exists() and p.stat().st_mtime >= since for p in files), "the previews of hello", 180)


def first_after_init(_ws: Workspace, runs: int) -> list[Row]:
    plain_init, warm_init, npx, ours = [], [], [], []
    for number in range(1, runs + 1):
        folder = Path(tempfile.mkdtemp(prefix="vidgen-bench-init-"))
        plain, warm = folder / "plain", folder / "warm"
        try:
            plain_init.append(run([*VIDGEN, "init", str(plain), "--no-warm", "--quiet"], folder))
            warm_init.append(run([*VIDGEN, "init", str(warm), "--quiet"], folder))
            npx.append(run(["npx", "remotion", "render", VIDEO, "out/hello-npx.mp4", "--log=error"], plain))
            since = time.time()
            ours.append(run([*VIDGEN, "render", VIDEO], warm))
            _previews_written(warm, since)
            log(
                "init",
                f"run {number}: vidgen init --no-warm {plain_init[-1]:.2f} s, vidgen init {warm_init[-1]:.2f} s;"
                f" npx remotion render {npx[-1]:.2f} s, first vidgen render {ours[-1]:.2f} s",
            )
        finally:
            for root in (plain, warm):
                if (root / ".vidgen").is_dir():
                    stop_daemon_if_any(root)
            shutil.rmtree(folder, ignore_errors=True)
    added = Series([w - p for w, p in zip(warm_init, plain_init, strict=True)])
    init_row = Row(
        "`vidgen init` (npm ci included): what warming the render cache adds",
        Series(warm_init).show(),
        f"`--no-warm` {Series(plain_init).show()}",
        f"+{added.show()}",
        f"<= +{ADDED_TARGET_S:g} s",
        added.median <= ADDED_TARGET_S,
    )
    first = ratio_row(
        "first `vidgen render hello` after init (npx: its first after `--no-warm`)", Series(ours), "npx", Series(npx), 0.75
    )
    return [init_row, first]


if __name__ == "__main__":
    sys.exit(main(__doc__ or "", [first_after_init]))
