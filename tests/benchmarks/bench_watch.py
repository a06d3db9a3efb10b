"""Watch benchmark: from a save to the first still, and to the finished MP4, against plain Remotion.

    python tests/benchmarks/bench_watch.py [--workspace PATH] [--runs 3]

A real `vidgen watch` runs on the reference composition (3 s, 1280x720, 30 fps). Each run
saves an edit and times, from the save, the first preview still and the finished MP4; in
the same run, with watch idle, a fresh `npx remotion render` of the same composition is
timed. Prints medians and the ratio, with the targets: first still <= 1.5 s, MP4 <= 0.6 x CLI.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import NAME, REFERENCE, prepare, timed  # noqa: E402


def wait_until(condition, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.02)
    raise TimeoutError("watch did not get there in time")


def modified_after(path: Path, moment: float) -> bool:
    try:
        return path.stat().st_mtime > moment
    except FileNotFoundError:
        return False


def first_still_after(stills: Path, moment: float) -> bool:
    return any(modified_after(p, moment) for p in stills.glob("frame-0*.jpeg")) if stills.exists() else False


def main() -> None:
    args, ws, video = prepare(__doc__ or "")
    output = ws.out_dir / f"{NAME}.mp4"
    stills = ws.state_dir / "stills" / NAME
    npx = ["npx", "remotion", "render", NAME, "out/bench-cli.mp4", "--log=error"]
    timed(npx, ws.root)  # warm the disk and webpack caches

    watch = subprocess.Popen(
        [sys.executable, "-m", "vidgen", "watch", NAME],
        cwd=ws.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cli, first_still, mp4 = [], [], []
    try:
        wait_until(lambda: output.exists(), timeout=300)
        time.sleep(2)
        for run in range(args.runs):
            cli.append(timed(npx, ws.root))
            wall = time.time()
            video.entry.write_text(REFERENCE.replace("const HUE = 210", f"const HUE = {220 + run}"))
            saved = time.monotonic()
            still_at = wait_until(lambda moment=wall: first_still_after(stills, moment))
            done_at = wait_until(lambda moment=wall: modified_after(output, moment))
            first_still.append(still_at - saved)
            mp4.append(done_at - saved)
            print(f"run {run + 1}: cli {cli[-1]:.2f}s  first still {first_still[-1]:.2f}s  mp4 {mp4[-1]:.2f}s", file=sys.stderr)
            time.sleep(1)
    finally:
        watch.send_signal(2)
        watch.wait(timeout=60)
        video.entry.write_text(REFERENCE)
    m_cli, m_still, m_mp4 = (statistics.median(v) for v in (cli, first_still, mp4))
    print(f"reference: 3 s, 1280x720, 30 fps; {args.runs} runs; medians")
    print(f"npx remotion render            {m_cli:6.2f} s")
    print(f"save -> first still (watch)    {m_still:6.2f} s               (target <= 1.50 s)")
    print(f"save -> finished MP4 (watch)   {m_mp4:6.2f} s   ratio {m_mp4 / m_cli:.2f}  (target <= 0.60)")


if __name__ == "__main__":
    main()
