"""A render in chunks (`vidgen render --chunks 2`) against one render of the same video, on one warm service.

    python tests/benchmarks/bench_chunks.py [--workspace PATH] [--runs 3]

One warm render service (in this process, as a command's session) checks the reference video, which
bundles it; then each run times the service's `render` op alone (the request's round trip: no ladder,
verification or previews) once whole and once with `chunks: 2` (two frame ranges rendered at once, each
with half the concurrency, joined with Remotion's `combineChunks`). Both files are checked with ffprobe.
Reported, no target: the row is what `[render] chunks`'s automatic rule (1 on small machines) rests on.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fps import checked_frames  # noqa: E402
from benchlib import NAME, BenchError, Row, Series, log, main, ratios, reference_frames  # noqa: E402

from vidgen import settings  # noqa: E402
from vidgen.engine.protocol import RenderArgs  # noqa: E402
from vidgen.engine.session import Session  # noqa: E402
from vidgen.workspace.project import Workspace  # noqa: E402

CHUNKS = 2


def chunks(ws: Workspace, runs: int) -> list[Row]:
    loaded = settings.load(ws.root)
    staging = ws.state_dir / "staging"  # where the jailed service may write
    staging.mkdir(parents=True, exist_ok=True)
    single_output, chunked_output = staging / "bench-chunks-single.mp4", staging / "bench-chunks-2.mp4"
    single, chunked = [], []
    with Session.open(ws, loaded) as session:
        frames = reference_frames(session, ws)  # bundles the video, opens the browser, knows the composition
        timeout_ms, concurrency = int(loaded.render.frame_timeout_s * 1000), loaded.render.concurrency or None
        whole = RenderArgs(NAME, str(single_output), "h264", timeout_ms, concurrency)
        split = RenderArgs(NAME, str(chunked_output), "h264", timeout_ms, concurrency, chunks=CHUNKS)
        for number in range(1, runs + 1):
            for args, seconds in ((whole, single), (split, chunked)):
                started = time.monotonic()
                session.service.render(args, timeout_s=loaded.render.render_timeout_s)
                seconds.append(time.monotonic() - started)
            checked_frames(ws, single_output, frames, "the single render")
            checked_frames(ws, chunked_output, frames, f"the render in {CHUNKS} chunks")
            log("chunks", f"run {number}: single {single[-1]:.2f} s, {CHUNKS} chunks {chunked[-1]:.2f} s ({frames} frames)")
    for path in (single_output, chunked_output):
        path.unlink(missing_ok=True)
    leftovers = sorted(staging.glob("bench-chunks-*.chunk-*"))
    if leftovers:
        raise BenchError(f"the chunked render left its chunk files: {', '.join(p.name for p in leftovers)}")
    return [
        Row(
            f"render op with --chunks {CHUNKS} / one render (reported: sets [render] chunks' automatic rule)",
            Series(chunked).show(),
            f"one render {Series(single).show()}",
            ratios(Series(chunked), Series(single)).show(unit=""),
        )
    ]


if __name__ == "__main__":
    sys.exit(main(__doc__ or "", [chunks]))
