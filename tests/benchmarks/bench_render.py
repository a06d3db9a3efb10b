"""`vidgen render` in a new process against `npx remotion render`: the first of a workspace, and a later one.

    python tests/benchmarks/bench_render.py [--workspace PATH] [--runs 3]

cold  The first render of a workspace: no daemon (`vidgen daemon stop`), and the workspace as
      `vidgen init` left it with the video in it: `.vidgen/` and `out/` emptied, and webpack's
      persistent cache (`node_modules/.cache/`) deleted before each side's run, so both start
      from an empty webpack cache, as right after `npm ci`. Against `npx remotion render` from
      the same state. Target <= 1.0.
kept  `vidgen render` after an edit with no daemon running but the workspace's state and caches kept
      (as after the daemon's idle exit), against `npx remotion render` of the same edit (its webpack
      cache warm). Reported, no target.
warm  A later `vidgen render` after an edit of the source, in a new process, the daemon warm,
      against `npx remotion render` of the same edit (its webpack cache warm). Target <= 0.5.
      Skipped when this vidgen has no daemon (`vidgen daemon --help` fails).
back-to-back  Two `vidgen render`s of two edits, the second started as soon as the first returns (the
      daemon warm, the first render's poster, GIF and contact sheet still being made), the second
      timed, against `npx remotion render` of the second edit. Target <= 0.5: the previews of a
      render never slow the next one. Skipped without a daemon.

The disk cache is warmed for both alike by one untimed run of each. A vidgen run counts until its
command returns; before the next run, the benchmark waits for the poster, GIF and contact sheet
(which the daemon may still be writing) so they never slow the other side's run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    NAME,
    VIDGEN,
    BenchError,
    Row,
    Series,
    daemon_pid,
    edit,
    has_daemon,
    log,
    main,
    npx_render,
    ratio_row,
    reset_to_first_render,
    run,
    skipped,
    stop_daemon,
    wait_until,
)

from vidgen.workspace.project import Workspace  # noqa: E402

RENDER = [*VIDGEN, "render", NAME]


def previews_written(ws: Workspace, since: float) -> None:
    """Wait until the poster, the GIF and the contact sheet of the reference are newer than `since` (wall clock)."""
    files = [ws.out_dir / f"{NAME}.{suffix}" for suffix in ("poster.png", "preview.gif", "sheet.png")]

    def written() -> bool:
        return all(path.exists() and path.stat().st_mtime >= since for path in files)

    wait_until(written, "the poster, GIF and contact sheet of the render", timeout_s=180)


def render_with_vidgen(ws: Workspace) -> float:
    """A `vidgen render` of the reference in a new process: its time; then its previews are waited for."""
    since = time.time()
    elapsed = run(RENDER, ws.root)
    previews_written(ws, since)
    return elapsed


def cold(ws: Workspace, runs: int) -> list[Row]:
    measure = "first `vidgen render` of a workspace (no daemon; empty webpack cache both sides)"
    daemon = has_daemon(ws.root)

    def first_render_state() -> None:
        if daemon:
            stop_daemon(ws.root)
        reset_to_first_render(ws)

    first_render_state()
    run(npx_render(), ws.root)  # untimed: the disk cache, for both alike
    first_render_state()
    render_with_vidgen(ws)
    npx, ours = [], []
    for number in range(1, runs + 1):
        first_render_state()
        npx.append(run(npx_render(), ws.root))
        first_render_state()
        ours.append(render_with_vidgen(ws))
        log("cold", f"run {number}: npx remotion render {npx[-1]:.2f} s, vidgen render {ours[-1]:.2f} s")
    return [ratio_row(measure, Series(ours), "npx", Series(npx), 1.0)]


def after_edits(ws: Workspace, runs: int, step: str, first_variant: int, before: Callable[[], None]) -> tuple[Series, Series]:
    """Per run: `before`, an edit, then `npx remotion render` and `vidgen render` of it; (vidgen, npx) times."""
    video = ws.video(NAME)
    npx, ours = [], []
    for number in range(1, runs + 1):
        before()
        edit(video, first_variant + number)
        npx.append(run(npx_render(), ws.root))
        ours.append(render_with_vidgen(ws))
        log(step, f"run {number}: npx remotion render {npx[-1]:.2f} s, vidgen render {ours[-1]:.2f} s")
    return Series(ours), Series(npx)


def kept(ws: Workspace, runs: int) -> list[Row]:
    measure = "`vidgen render` after an edit, no daemon running, caches and state kept"
    daemon = has_daemon(ws.root)
    ours, npx = after_edits(ws, runs, "kept", 50, lambda: stop_daemon(ws.root) if daemon else None)
    row = ratio_row(measure, ours, "npx", npx, 1.0)
    row.target, row.met = "reported", None
    return [row]


def warm(ws: Workspace, runs: int) -> list[Row]:
    measure = "later `vidgen render` after an edit (new process, daemon warm)"
    if not has_daemon(ws.root):
        return [skipped(measure, "this vidgen has no render daemon (`vidgen daemon --help` fails)")]
    edit(ws.video(NAME), 0)
    render_with_vidgen(ws)  # untimed: starts the daemon if none runs, and warms it on this video
    daemon = daemon_pid(ws.root)
    ours, npx = after_edits(ws, runs, "warm", 0, lambda: None)
    # A command that cannot reach the daemon renders in its own process: that would be no warm render.
    if daemon is None or daemon_pid(ws.root) != daemon:
        raise BenchError("the render daemon did not serve every run (see `vidgen daemon status` and .vidgen/)")
    return [ratio_row(measure, ours, "npx", npx, 0.5)]


def back_to_back(ws: Workspace, runs: int) -> list[Row]:
    measure = "back-to-back `vidgen render`s after an edit (daemon warm, the first's previews under way)"
    if not has_daemon(ws.root):
        return [skipped(measure, "this vidgen has no render daemon (`vidgen daemon --help` fails)")]
    video = ws.video(NAME)
    edit(video, 100)
    run(npx_render(), ws.root)  # untimed: npx's webpack cache warm, as after the steps before (and when run alone)
    render_with_vidgen(ws)  # untimed: starts the daemon if none runs, and warms it on this video
    daemon = daemon_pid(ws.root)
    npx, ours = [], []
    for number in range(1, runs + 1):
        second = 100 + 2 * number  # edits neither side has seen
        edit(video, second)
        npx.append(run(npx_render(), ws.root))
        edit(video, second - 1)
        since = time.time()
        run(RENDER, ws.root)  # the first: it returns before its previews are made
        pending = [kind for kind, made in _previews_made(ws, since).items() if not made]
        edit(video, second)
        ours.append(render_with_vidgen(ws))  # the second, at once; then every preview is waited for
        log(
            "back-to-back",
            f"run {number}: npx remotion render {npx[-1]:.2f} s, second vidgen render {ours[-1]:.2f} s"
            f" (the first's previews under way when it started: {', '.join(pending) or 'none'})",
        )
    if daemon is None or daemon_pid(ws.root) != daemon:
        raise BenchError("the render daemon did not serve every run (see `vidgen daemon status` and .vidgen/)")
    return [ratio_row(measure, Series(ours), "npx", Series(npx), 0.5)]


def _previews_made(ws: Workspace, since: float) -> dict[str, bool]:
    """Which of the reference's previews (poster, GIF, contact sheet) were written since `since` (wall clock)."""
    made = {}
    for suffix in ("poster.png", "preview.gif", "sheet.png"):
        path = ws.out_dir / f"{NAME}.{suffix}"
        made[suffix.split(".")[0]] = path.exists() and path.stat().st_mtime >= since
    return made


if __name__ == "__main__":
    sys.exit(main(__doc__ or "", [cold, kept, warm, back_to_back]))
