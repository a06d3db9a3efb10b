"""The API sheet the model reads: small enough to send every time, and every example in it passes the ladder.

The examples are the sheet's own code blocks (```tsx example:NAME), so the sheet cannot drift from what works.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vidgen import ladder, media, render, resources
from vidgen.session import Session

SHEET = resources.template_dir() / "API.md"


def example(name: str) -> str:
    return SHEET.read_text().split(f"```tsx example:{name}\n", 1)[1].split("```", 1)[0]


def test_the_sheet_stays_under_four_thousand_tokens() -> None:
    # 13.6k characters were 3,870 tokens (o200k_base, gpt-tokenizer): about 3.5 characters a token.
    assert len(SHEET.read_text()) <= 14_000


def test_every_package_the_sheet_names_is_a_dependency_and_back() -> None:
    import json

    package = json.loads((resources.template_dir() / "package.json").read_text())
    table = SHEET.read_text().split("## Packages", 1)[1].split("\n## ", 1)[0]
    for name in package["dependencies"]:
        assert f"`{name}`" in table, f"{name} is importable but the sheet does not say what it is for"


@pytest.mark.parametrize(("name", "frames"), [("scenes", 150), ("chart", 30), ("fonts", 30)])
def test_the_sheets_examples_pass_the_ladder(session: Session, make_video, name: str, frames: int) -> None:
    video = make_video(f"sheet-{name}", {"index.tsx": example(name)})
    checked = ladder.run(session, video)
    assert checked.error is None, checked.error
    assert checked.composition is not None and checked.composition.frames == frames
    assert len(checked.stills) == session.settings.render.sample_stills


def test_the_font_example_measures_the_loaded_font_and_fits_the_frame(qa_session: Session, make_video) -> None:
    """Measured before Inter loaded, the title would be sized for the fallback font; the layout QA sees it cut."""
    video = make_video("sheet-fonts-qa", {"index.tsx": example("fonts")})
    checked = ladder.run(qa_session, video)
    assert checked.error is None, checked.error
    assert [f.kind for f in checked.findings if f.severity == "error"] == []


def test_the_3d_example_renders_a_spinning_cube(session: Session, make_video, tmp_path: Path) -> None:
    video = make_video("sheet-three", {"index.tsx": example("three")})
    result = render.render(session, video, output=tmp_path / "cube.mp4", previews=False)
    assert result.error is None, result.error
    probe = media.probe(result.output, session.workspace)
    assert (probe.width, probe.height, probe.frames) == (640, 360, 30)
    stills = {s["frame"]: hashlib.sha256(Path(s["path"]).read_bytes()).hexdigest() for s in ladder.run(session, video).stills}
    # Frames 0 and 29 are half a turn apart and look alike; the frames between show other faces.
    assert len(set(stills.values())) >= 3, "the cube should turn"


EXTRAS = """\
import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';
import {line} from 'd3-shape';
import {makeTransform, rotate, translate} from '@remotion/animation-utils';
import {Trail} from '@remotion/motion-blur';
import {evolvePath} from '@remotion/paths';

export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};
const POINTS: [number, number][] = [[40, 300], [200, 120], [360, 220], [600, 60]];

const Extras: React.FC = () => {
  const frame = useCurrentFrame();
  const progress = interpolate(frame, [0, 29], [0, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  const path = line()(POINTS) ?? '';
  const {strokeDasharray, strokeDashoffset} = evolvePath(progress, path);
  return (
    <AbsoluteFill style={{backgroundColor: '#0b1320'}}>
      <svg width={640} height={360}>
        <path d={path} fill="none" stroke="#4ade80" strokeWidth={4} strokeDasharray={strokeDasharray} strokeDashoffset={strokeDashoffset} />
      </svg>
      <Trail layers={4} lagInFrames={0.5} trailOpacity={0.6}>
        <div style={{position: 'absolute', width: 60, height: 60, background: '#f7b733', transform: makeTransform([translate(40 + progress * 480, 150), rotate(progress * 180)])}} />
      </Trail>
    </AbsoluteFill>
  );
};

export default Extras;
"""


def test_the_other_packages_the_sheet_lists_pass_the_ladder(session: Session, make_video) -> None:
    """d3-shape, @remotion/animation-utils and @remotion/motion-blur, named in the sheet's table but not its examples."""
    checked = ladder.run(session, make_video("sheet-extras", {"index.tsx": EXTRAS}))
    assert checked.error is None, checked.error
    assert len(checked.stills) == session.settings.render.sample_stills
