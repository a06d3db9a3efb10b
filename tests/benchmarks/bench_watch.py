"""`vidgen watch`: from a save to the first still, and to the MP4 in place, against `npx remotion render`.

    python tests/benchmarks/bench_watch.py [--workspace PATH] [--runs 3]

A real `vidgen watch` runs on the reference video. Each run saves an edit and times, from the
save, the first preview still of the new code and the finished MP4 in out/; in the same run,
with watch idle (its previews written), a new `npx remotion render` of the same code is timed.
Targets: save -> MP4 <= 0.5 x npx; save -> first still <= 1.0 s (issue 24; it was 1.5 s before).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import previews_written  # noqa: E402
from benchlib import (  # noqa: E402
    NAME,
    VIDGEN,
    BenchError,
    Row,
    Series,
    edit,
    log,
    main,
    npx_render,
    ratio_row,
    run,
    wait_until,
)

from vidgen.workspace.project import Workspace  # noqa: E402


def modified_since(path: Path, moment: float) -> bool:
    try:
        return path.stat().st_mtime >= moment
    except FileNotFoundError:
        return False


def watch(ws: Workspace, runs: int) -> list[Row]:
    video = ws.video(NAME)
    output = ws.out_dir / f"{NAME}.mp4"
    stills = ws.state_dir / "stills" / NAME
    edit(video, 100)
    started = time.time()
    process = subprocess.Popen(
        [*VIDGEN, "watch", NAME],
        cwd=ws.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def exited() -> bool:
        """False while watch runs; its end is an error (raised), never a value to wait for."""
        if process.poll() is not None:
            raise BenchError(f"`vidgen watch {NAME}` exited (code {process.returncode})")
        return False

    def first_still_since(moment: float) -> bool:
        exited()
        return stills.exists() and any(modified_since(p, moment) for p in stills.glob("frame-*.jpeg"))

    npx, first_still, mp4 = [], [], []
    try:
        wait_until(lambda: exited() or modified_since(output, started), "watch's first render", timeout_s=600)
        previews_written(ws, started)
        for number in range(1, runs + 1):
            npx.append(run(npx_render(), ws.root))
            saved_wall = time.time()
            edit(video, 100 + number)
            saved = time.monotonic()
            still_at = wait_until(lambda moment=saved_wall: first_still_since(moment), "a still after the save")
            done_at = wait_until(lambda moment=saved_wall: exited() or modified_since(output, moment), "the MP4 after the save")
            first_still.append(still_at - saved)
            mp4.append(done_at - saved)
            previews_written(ws, saved_wall)
            log(
                "watch",
                f"run {number}: npx {npx[-1]:.2f} s, save -> first still {first_still[-1]:.2f} s, save -> MP4 {mp4[-1]:.2f} s",
            )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return [
        ratio_row("`vidgen watch`: save -> MP4 in place", Series(mp4), "npx", Series(npx), 0.5),
        Row(
            "`vidgen watch`: save -> first still",
            Series(first_still).show(),
            target="<= 1.00 s",
            met=Series(first_still).median <= 1.0,
        ),
    ]


if __name__ == "__main__":
    sys.exit(main(__doc__ or "", [watch]))
