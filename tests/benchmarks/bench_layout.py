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

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import BenchError, Row, Series, add_video, log, main  # noqa: E402

from vidgen import settings
from vidgen.check import layout
from vidgen.engine.session import Session  # noqa: E402
from vidgen.render import ladder  # noqa: E402
from vidgen.workspace.project import Workspace  # noqa: E402

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
    <AbsoluteFill style={{backgroundColor: `hsl(${HUE}, 40%, 12%)`, fontFamily: 'sans-serif', padding: 72}}>
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


def layout_qa(ws: Workspace, runs: int) -> list[Row]:
    video = add_video(ws, NAME, REFERENCE)
    loaded = settings.load(ws.root)
    without_qa = replace(loaded, qa=replace(loaded.qa, enabled=False))
    stage, alone, with_qa, plain = [], [], [], []
    with Session.open(ws, loaded) as session:
        warmed = ladder.run(session, video)  # warm: browser, webpack cache, the video's chunk
        if warmed.error is not None:
            raise BenchError(f"{NAME} does not check: {warmed.error.message}")
        frames = ladder.sample_frames(300, layout.sample_count(300, 30, loaded.qa))
        for number in range(1, runs + 1):
            video.entry.write_text(REFERENCE.replace("const HUE = 210", f"const HUE = {210 + number}"))
            started = time.monotonic()
            result = ladder.run(session, video)
            with_qa.append(time.monotonic() - started)
            if result.error is not None or result.findings:
                raise BenchError(f"{NAME} should check clean: {result.error or result.findings}")
            stage.append(result.timings["layout"])

            started = time.monotonic()
            layout.inspect(session, video, frames, 10 / len(frames))
            alone.append(time.monotonic() - started)

            video.entry.write_text(REFERENCE.replace("const HUE = 210", f"const HUE = {230 + number}"))
            session.settings = without_qa
            started = time.monotonic()
            if ladder.run(session, video).error is not None:
                raise BenchError(f"{NAME} does not check without layout QA")
            plain.append(time.monotonic() - started)
            session.settings = loaded
            log(
                "layout",
                f"run {number}: layout stage {stage[-1]:.2f} s, QA alone {alone[-1]:.2f} s, check {with_qa[-1]:.2f} s,"
                f" check --no-qa {plain[-1]:.2f} s",
            )
    shape = f"10 s, 1280x720, {len(frames)} frames inspected"
    return [
        Row(
            f"layout QA: the layout stage in `vidgen check` ({shape})",
            Series(stage).show(),
            target="<= 1.50 s",
            met=Series(stage).median <= 1.5,
        ),
        Row("layout QA: the QA request alone", Series(alone).show()),
        Row("layout QA: `vidgen check` with QA / without", Series(with_qa).show(), f"--no-qa {Series(plain).show()}"),
    ]


if __name__ == "__main__":
    sys.exit(main(__doc__ or "", [layout_qa]))
