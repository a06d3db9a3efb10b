"""Render-engine benchmark: vidgen against plain `npx remotion render`, same machine, same run.

    python tests/benchmarks/bench_render.py [--workspace PATH] [--runs 3]

On one reference composition (3 s, 1280x720, 30 fps) it times, as medians over --runs:
  cli    `npx remotion render` of the composition (a new process each time)
  cold   `vidgen render` in a new process (new service, new browser)
  warm   a re-render in one warm service after an edit to the source (ladder + render + verify + previews)
  still  from that edit to the first preview still
and prints the ratios with the targets: cold/cli <= 1.10, warm/cli <= 0.60, still <= 1.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from vidgen import render, settings, workspace  # noqa: E402
from vidgen.session import Session  # noqa: E402

NAME = "bench-reference"
REFERENCE = """\
import React from 'react';
import {AbsoluteFill, interpolate, spring, useCurrentFrame, useVideoConfig} from 'remotion';
import {Circle} from '@remotion/shapes';

export const config = {durationInFrames: 90, fps: 30, width: 1280, height: 720};

const HUE = 210;

const Reference: React.FC = () => {
  const frame = useCurrentFrame();
  const {fps} = useVideoConfig();
  const pop = spring({frame, fps, config: {damping: 200}});
  const x = interpolate(frame, [0, 89], [-400, 400]);
  return (
    <AbsoluteFill style={{justifyContent: 'center', alignItems: 'center', background: `hsl(${HUE}, 40%, 15%)`}}>
      <div style={{fontFamily: 'sans-serif', fontSize: 96, color: 'white', opacity: pop}}>Benchmark {frame}</div>
      <div style={{position: 'absolute', transform: `translateX(${x}px)`, top: 480}}>
        <Circle radius={60 * pop} fill="#f7b733" />
      </div>
    </AbsoluteFill>
  );
};

export default Reference;
"""


def timed(command: list[str], cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.monotonic() - started


def prepare(
    description: str, name: str = NAME, source: str = REFERENCE
) -> tuple[argparse.Namespace, workspace.Workspace, workspace.Video]:
    """The arguments the benchmarks take, and the workspace with the reference video in it."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, help="an existing workspace (default: a new one in a temp folder)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = args.workspace or Path(tempfile.mkdtemp(prefix="vidgen-bench-")) / "ws"
    ws = workspace.Workspace(root.resolve()) if args.workspace else workspace.create(root, log=lambda _l: None)
    video = ws.video(name)
    video.folder.mkdir(parents=True, exist_ok=True)
    video.entry.write_text(source)
    return args, ws, video


def main() -> None:
    args, ws, video = prepare(__doc__ or "")
    vidgen = [sys.executable, "-m", "vidgen"]
    npx = ["npx", "remotion", "render", NAME, "out/bench-cli.mp4", "--log=error"]

    # One untimed pass of each warms the disk caches and webpack's persistent cache for both alike.
    timed(npx, ws.root)
    timed([*vidgen, "render", NAME], ws.root)

    cli, cold, warm, still = [], [], [], []
    with Session.open(ws, settings.load(ws.root)) as session:
        assert render.render(session, video).error is None
        for run in range(args.runs):
            cli.append(timed(npx, ws.root))
            cold.append(timed([*vidgen, "render", NAME], ws.root))

            first_still: list[float] = []
            video.entry.write_text(REFERENCE.replace("const HUE = 210", f"const HUE = {211 + run}"))
            edited = time.monotonic()

            def on_event(kind: str, _data: dict, start: float = edited, seen: list[float] = first_still) -> None:
                if kind == "still" and not seen:
                    seen.append(time.monotonic() - start)

            result = render.render(session, video, on_event=on_event)
            assert result.error is None, result.error
            warm.append(time.monotonic() - edited)
            still.append(first_still[0])
            print(
                f"run {run + 1}: cli {cli[-1]:.2f}s  cold {cold[-1]:.2f}s  warm {warm[-1]:.2f}s  first still {still[-1]:.2f}s",
                file=sys.stderr,
            )
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
    video.entry.write_text(REFERENCE)

    m = {name: statistics.median(values) for name, values in {"cli": cli, "cold": cold, "warm": warm, "still": still}.items()}
    print(f"reference: 3 s, 1280x720, 30 fps; {args.runs} runs; medians; last warm stages: {stages}")
    print(f"npx remotion render     {m['cli']:6.2f} s")
    print(f"vidgen render (cold)    {m['cold']:6.2f} s   ratio {m['cold'] / m['cli']:.2f}  (target <= 1.10)")
    print(f"warm re-render (edit)   {m['warm']:6.2f} s   ratio {m['warm'] / m['cli']:.2f}  (target <= 0.60)")
    print(f"first still after edit  {m['still']:6.2f} s               (target <= 1.50 s)")


if __name__ == "__main__":
    main()
