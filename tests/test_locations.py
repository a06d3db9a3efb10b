"""Findings name the line of the JSX element itself: the bundle stamps each element with its file and line."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator

import pytest
from PIL import Image, ImageChops

from vidgen.engine.protocol import StillArgs
from vidgen.engine.session import Session
from vidgen.render import ladder
from vidgen.workspace.project import Video, Workspace

from .helpers import videos_written

pytestmark = pytest.mark.render

# 'Engineer' is written three times before the element that shows it (its <div> on line 14): a
# search for the text finds the comment on line 4.
ENGINEER = """
import React from 'react';
import {AbsoluteFill} from 'remotion';

// The Engineer card: the word Engineer slides in from the right.
export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};

const ROLE = 'Engineer';

const Card: React.FC = () => (
  <AbsoluteFill style={{backgroundColor: '#203060'}}>
    <div style={{position: 'absolute', left: 40, top: 40, fontSize: 30, color: 'white'}}>
      {ROLE === 'Engineer' ? 'Team' : 'Guests'}
    </div>
    <div
      style={{position: 'absolute', left: 520, top: 150, fontSize: 40, color: 'white', whiteSpace: 'nowrap'}}
    >
      Engineer
    </div>
  </AbsoluteFill>
);

export default Card;
"""
ENGINEER_LINE = 14  # the `<div` of the text that runs off the right edge

# One component drawn three times; the third step runs off the right edge. Its text is written in
# index.tsx (the title prop) and shown by the <div> on Step.tsx's line 10.
STEP = """
import React from 'react';

type Props = {title: string; left: number};

// A step of the process: its number and title.
export const Step: React.FC<Props> = ({title, left}) => {
  const number = title.length;
  return (
    <div style={{position: 'absolute', left, top: 150, width: 150}}>
      <div style={{fontSize: 34, color: 'white', whiteSpace: 'nowrap', fontFamily: 'sans-serif'}}>{title}</div>
      <div style={{fontSize: 20, color: '#f7b733'}}>{number}</div>
    </div>
  );
};
"""
STEP_LINE = 10

STEPS = """
import React from 'react';
import {AbsoluteFill} from 'remotion';
import {Step} from './Step';

export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};

const Process: React.FC = () => (
  <AbsoluteFill style={{backgroundColor: '#1d2b64'}}>
    <Step title="Plan" left={40} />
    <Step title="Build" left={230} />
    <Step title="Deploy everywhere" left={420} />
  </AbsoluteFill>
);

export default Process;
"""

SOURCES = {
    "loc-engineer": {"index.tsx": ENGINEER},
    "loc-steps": {"index.tsx": STEPS, "Step.tsx": STEP},
}


@pytest.fixture
def session(qa_session: Session) -> Session:
    return qa_session


@pytest.fixture(scope="module")
def videos(workspace: Workspace) -> Iterator[dict[str, Video]]:
    """Every video of this file written at once, so that one bundle serves them all."""
    with videos_written(workspace, SOURCES) as made:
        yield made


def test_a_text_written_on_several_lines_is_found_at_its_element(session: Session, videos) -> None:
    result = ladder.run(session, videos["loc-engineer"])
    error = result.error
    assert error is not None and error.stage == "layout", error
    assert "'Engineer'" in error.message and "right edge" in error.message
    assert (error.file, error.line) == ("index.tsx", ENGINEER_LINE)
    assert f"(div in index.tsx:{ENGINEER_LINE})" in error.message


def test_a_component_drawn_three_times_points_at_its_own_element(session: Session, videos) -> None:
    result = ladder.run(session, videos["loc-steps"])
    error = result.error
    assert error is not None and error.stage == "layout", error
    assert "'Deploy everywhere'" in error.message and "right edge" in error.message
    assert (error.file, error.line) == ("Step.tsx", STEP_LINE)
    located = {(f.file, f.line) for f in result.findings if "Deploy everywhere" in f.message}
    assert located == {("Step.tsx", STEP_LINE)}


# The throw sits on the line of a stamped <div>, after the attribute the bundle inserts there.
THROWS = """
import React from 'react';
import {AbsoluteFill, useCurrentFrame} from 'remotion';

export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};

const Video: React.FC = () => {
  const frame = useCurrentFrame();
  return (
    <AbsoluteFill style={{backgroundColor: '#203060'}}>
      <div style={{color: 'white'}}>{(() => { if (frame >= 10) throw new Error('no label for this frame'); return 'ok'; })()}</div>
    </AbsoluteFill>
  );
};

export default Video;
"""


def test_a_runtime_error_keeps_its_line(session: Session, make_video) -> None:
    video = make_video("loc-throws", {"index.tsx": THROWS})
    error = ladder.run(session, video).error
    assert error is not None and (error.stage, error.code, error.frame) == ("stills", "runtime", 10), error
    assert "no label for this frame" in error.message
    throw = next(n for n, line in enumerate(textwrap.dedent(THROWS).lstrip().splitlines(), 1) if "throw new" in line)
    assert (error.file, error.line) == ("index.tsx", throw)  # the <div>'s line, where it throws
    text = (video.folder / "index.tsx").read_text()
    assert "data-vg-src" not in text  # the stamp lives in the bundle only


def test_the_stamps_change_no_pixel(session: Session, workspace: Workspace, make_video) -> None:
    """A still from the service (stamped) equals Remotion's own `npx remotion still` (no stamps) pixel for pixel."""
    video = make_video("loc-pixels", {"index.tsx": ENGINEER, "Step.tsx": STEP})
    assert ladder.run(session, video, stills=ladder.Stills.NONE).error is None  # bundled with the stamps
    ours = workspace.state_dir / "stills" / "loc-pixels.png"  # where the jailed service may write
    ours.parent.mkdir(parents=True, exist_ok=True)
    session.service.still(StillArgs(video.name, 0, str(ours), 8000), timeout_s=120)
    # `npx remotion still` bundles with Remotion's own configuration, which knows nothing of the stamp.
    theirs = workspace.root / "out" / "loc-pixels.png"
    done = subprocess.run(
        ["npx", "remotion", "still", "src/index.ts", video.name, str(theirs), "--frame=0", "--log=error"],
        cwd=workspace.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(ours) as a, Image.open(theirs) as b:
        assert a.size == b.size == (640, 360)
        assert ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None
    theirs.unlink()
    ours.unlink()
