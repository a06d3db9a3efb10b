"""Frames per second of vidgen's render op against Remotion's own `renderMedia`, on the same bundle.

    python tests/benchmarks/bench_fps.py [--workspace PATH] [--runs 3]

One warm render service (in this process, as a command's session) checks the reference video,
which bundles it; then each run times the service's `render` op alone (the request's round trip:
no ladder, verification or previews) and `render_media.mjs`, which calls Remotion's
`selectComposition` + `renderMedia` with Remotion's defaults on that same bundle with the same
Chromium (`find_browser()`), timing `renderMedia` alone. Both files are checked with ffprobe.
Target: vidgen's frames per second >= 0.95 x renderMedia's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import NAME, STEP_TIMEOUT_S, BenchError, Row, Series, log, main, ratio_row, reference_frames  # noqa: E402

from vidgen import settings
from vidgen.engine.browser import find_browser  # noqa: E402
from vidgen.engine.protocol import RenderArgs  # noqa: E402
from vidgen.engine.session import Session  # noqa: E402
from vidgen.media import probe as media
from vidgen.workspace.project import Workspace  # noqa: E402

SCRIPT = Path(__file__).resolve().with_name("render_media.mjs")


def newest_bundle(ws: Workspace) -> Path:
    """This process's service's newest build, .vidgen/bundle/<this pid>-<token>/<generation>/ (builds.mjs; the
    folder is named by the Python process that started the service, vidgen/engine/service.py)."""
    root = ws.state_dir / "bundle"
    builds = [folder for folder in root.glob(f"{os.getpid()}-*/*") if folder.name.isdigit() and (folder / "index.html").exists()]
    if not builds:
        raise BenchError(f"the render service left no build in {root}/{os.getpid()}-*")
    return max(builds, key=lambda folder: folder.stat().st_mtime)


def checked_frames(ws: Workspace, path: Path, expected: int, who: str) -> None:
    frames = media.probe(path, ws).frames
    if frames != expected:
        raise BenchError(f"{who} wrote {frames} frames instead of {expected}")


def render_media(ws: Workspace, bundle: Path, output: Path, browser: str) -> float:
    """Remotion's renderMedia time on the bundle, as render_media.mjs measured it."""
    done = subprocess.run(
        ["node", str(SCRIPT), str(bundle), NAME, str(output), browser],
        cwd=ws.root,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
    )
    if done.returncode != 0:
        raise BenchError(f"render_media.mjs failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def fps(ws: Workspace, runs: int) -> list[Row]:
    loaded = settings.load(ws.root)
    browser = find_browser(loaded.render.browser)
    # The service writes only inside .vidgen/stills and .vidgen/staging (its jail); renderMedia's file beside it.
    staging = ws.state_dir / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    ours_output, theirs_output = staging / "bench-fps-vidgen.mp4", staging / "bench-fps-remotion.mp4"
    ours, theirs = [], []
    with Session.open(ws, loaded) as session:
        frames = reference_frames(session, ws)  # bundles the video, opens the browser, knows the composition
        bundle = newest_bundle(ws)
        args = RenderArgs(
            NAME, str(ours_output), "h264", int(loaded.render.frame_timeout_s * 1000), loaded.render.concurrency or None
        )
        for number in range(1, runs + 1):
            started = time.monotonic()
            session.service.render(args, timeout_s=loaded.render.render_timeout_s)
            ours.append(frames / (time.monotonic() - started))
            theirs.append(frames / render_media(ws, bundle, theirs_output, browser))
            checked_frames(ws, ours_output, frames, "vidgen's render op")
            checked_frames(ws, theirs_output, frames, "renderMedia")
            log("fps", f"run {number}: vidgen render op {ours[-1]:.1f} fps, renderMedia {theirs[-1]:.1f} fps ({frames} frames)")
    for path in (ours_output, theirs_output):
        path.unlink(missing_ok=True)
    row = ratio_row(
        "render throughput: vidgen's render op / Remotion's renderMedia",
        Series(ours),
        "renderMedia",
        Series(theirs),
        0.95,
        at_most=False,
    )
    row.vidgen, row.against = f"{Series(ours).show('fps', 1)}", f"renderMedia {Series(theirs).show('fps', 1)}"
    return [row]


if __name__ == "__main__":
    sys.exit(main(__doc__ or "", [fps]))
