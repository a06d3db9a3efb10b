"""Layout QA benchmark: what the layout stage adds to `vidgen check` of a 10 s, 1280x720 video.

    python tests/benchmarks/bench_layout.py [--workspace PATH] [--runs 3]

In one warm render service, each run edits the video (so it is rebundled, as after a real edit)
and checks it with layout QA, then edits and checks it again without. Prints, as median and
spread (min..max) over the runs: the layout stage's time in the ladder (what QA adds: it starts
while the stills render and is waited for after them), the QA request alone on the same bundle
(page start-up and every sampled frame), and the whole check with and without QA.
Target: the layout stage adds at most 1.5 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import prepare  # noqa: E402

from vidgen import ladder, layout, settings  # noqa: E402
from vidgen.session import Session  # noqa: E402

NAME = "bench-layout"
# Ten seconds of a typical model-written video: a title, a subtitle, bars with value and name labels.
REFERENCE = """\
import React from 'react';
import {AbsoluteFill, interpolate, spring, useCurrentFrame, useVideoConfig} from 'remotion';

export const config = {durationInFrames: 300, fps: 30, width: 1280, height: 720};

const HUE = 210;
const DATA = [38, 64, 51, 83, 72, 95];
const NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun'];

const Chart: React.FC = () => {
  const frame = useCurrentFrame();
  const {fps} = useVideoConfig();
  const rise = spring({frame, fps, config: {damping: 200}});
  const grow = interpolate(frame, [30, 150], [0, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{backgroundColor: `hsl(${HUE}, 40%, 12%)`, fontFamily: 'sans-serif', padding: 60}}>
      <div style={{color: 'white', fontSize: 56, fontWeight: 800, opacity: rise}}>Monthly active users</div>
      <div style={{color: '#f7b733', fontSize: 28, marginTop: 8}}>First half of 2025, in thousands</div>
      <div style={{display: 'flex', alignItems: 'flex-end', gap: 40, flex: 1, paddingTop: 40}}>
        {DATA.map((value, i) => (
          <div key={NAMES[i]} style={{flex: 1, display: 'flex', flexDirection: 'column', alignItems: 'center'}}>
            <div style={{color: 'white', fontSize: 24, marginBottom: 8}}>{Math.round(value * grow)}k</div>
            <div style={{width: '100%', height: value * 3.5 * grow, backgroundColor: '#fc4a1a', borderRadius: 6}} />
            <div style={{color: '#c8d0e0', fontSize: 22, marginTop: 10}}>{NAMES[i]}</div>
          </div>
        ))}
      </div>
    </AbsoluteFill>
  );
};

export default Chart;
"""


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):5.2f} s  (spread {min(values):.2f}..{max(values):.2f})"


def main() -> None:
    args, ws, video = prepare(__doc__ or "", NAME, REFERENCE)

    loaded = settings.load(ws.root)
    without_qa = replace(loaded, qa=replace(loaded.qa, enabled=False))
    stage, alone, with_qa, plain = [], [], [], []
    with Session.open(ws, loaded) as session:
        assert ladder.run(session, video).error is None  # warm: browser, webpack cache, the video's chunk
        frames = ladder.sample_frames(300, layout.sample_count(300, 30, loaded.qa))
        for run in range(args.runs):
            video.entry.write_text(REFERENCE.replace("const HUE = 210", f"const HUE = {211 + run}"))
            started = time.monotonic()
            result = ladder.run(session, video)
            with_qa.append(time.monotonic() - started)
            assert result.error is None and not result.findings, (result.error, result.findings)
            stage.append(result.timings["layout"])

            started = time.monotonic()
            layout.inspect(session, video, frames, 10 / len(frames))
            alone.append(time.monotonic() - started)

            video.entry.write_text(REFERENCE.replace("const HUE = 210", f"const HUE = {231 + run}"))
            session.settings = without_qa
            started = time.monotonic()
            assert ladder.run(session, video).error is None
            plain.append(time.monotonic() - started)
            session.settings = loaded
            print(
                f"run {run + 1}: layout stage {stage[-1]:.2f}s  QA alone {alone[-1]:.2f}s  check {with_qa[-1]:.2f}s"
                f"  check --no-qa {plain[-1]:.2f}s",
                file=sys.stderr,
            )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"10 s, 1280x720, 30 fps; {len(frames)} frames inspected; {args.runs} runs; load average {load:.1f} on {os.cpu_count()} cores"
    )
    print(f"layout stage in check       {spread(stage)}   target <= 1.5 s")
    print(f"layout QA request alone     {spread(alone)}")
    print(f"check with QA               {spread(with_qa)}")
    print(f"check --no-qa               {spread(plain)}")


if __name__ == "__main__":
    main()
