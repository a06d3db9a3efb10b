"""A scene that the composition's length cuts off fails the composition stage, with its frames and its line."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

from vidgen.engine.session import Session
from vidgen.render import ladder
from vidgen.workspace.project import Video, Workspace

from .helpers import videos_written

pytestmark = pytest.mark.render


def series(durations: str, frames: int = 60) -> str:
    """A video of three scenes in a <Series>: `durations` are the three durationInFrames."""
    intro, step, outro = durations.split()
    return f"""
import React from 'react';
import {{AbsoluteFill, Series}} from 'remotion';

export const config = {{durationInFrames: {frames}, fps: 30, width: 640, height: 360}};

const Intro: React.FC = () => <AbsoluteFill style={{{{backgroundColor: '#203060'}}}} />;
const Step: React.FC = () => <AbsoluteFill style={{{{backgroundColor: '#f7b733'}}}} />;

const Video: React.FC = () => (
  <Series>
    <Series.Sequence durationInFrames={{{intro}}}>
      <Intro />
    </Series.Sequence>
    <Series.Sequence durationInFrames={{{step}}} offset={{5}}>
      <Step />
    </Series.Sequence>
    <Series.Sequence durationInFrames={{{outro}}} name="outro">
      <AbsoluteFill style={{{{backgroundColor: '#fc4a1a'}}}} />
    </Series.Sequence>
  </Series>
);

export default Video;
"""


# Sequences that end with the video or never end: none is cut off. The premounted one is mounted
# 15 frames early and ends exactly on the last frame.
OPEN_ENDED = """
import React from 'react';
import {AbsoluteFill, Sequence} from 'remotion';

export const config = {durationInFrames: 60, fps: 30, width: 640, height: 360};

const Video: React.FC = () => (
  <AbsoluteFill style={{backgroundColor: '#203060'}}>
    <Sequence from={20}>
      <AbsoluteFill style={{backgroundColor: '#f7b733'}} />
    </Sequence>
    <Sequence from={40} durationInFrames={20} premountFor={15}>
      <AbsoluteFill style={{backgroundColor: '#fc4a1a'}} />
    </Sequence>
  </AbsoluteFill>
);

export default Video;
"""

# A later scene (frames 30 on, no end) holds a badge whose own Sequence starts 40 frames into it:
# at frame 70 of a 60-frame video. Only mounting the later scene shows it.
NESTED = """
import React from 'react';
import {AbsoluteFill, Sequence} from 'remotion';
import {Badge} from './Badge';

export const config = {durationInFrames: 60, fps: 30, width: 640, height: 360};

const Video: React.FC = () => (
  <AbsoluteFill style={{backgroundColor: '#203060'}}>
    <Sequence durationInFrames={30}>
      <AbsoluteFill style={{backgroundColor: '#f7b733'}} />
    </Sequence>
    <Sequence from={30}>
      <Badge />
    </Sequence>
  </AbsoluteFill>
);

export default Video;
"""

BADGE = """
import React from 'react';
import {Sequence} from 'remotion';

export const Badge: React.FC = () => (
  <div style={{position: 'absolute', left: 40, top: 40, fontSize: 30, color: 'white'}}>
    <Sequence from={40} durationInFrames={10} layout="none">
      <span>New</span>
    </Sequence>
  </div>
);
"""
BADGE_LINE = 6

SOURCES = {
    "tl-long": {"index.tsx": series("20 15 25")},  # 0-20, 25-40 (after an offset of 5), 40-65
    "tl-two": {"index.tsx": series("20 40 20")},  # 0-20, 25-65, 65-85
    "tl-fit": {"index.tsx": series("20 15 20")},  # 0-20, 25-40, 40-60: ends on the last frame
    "tl-open": {"index.tsx": OPEN_ENDED},
    "tl-nested": {"index.tsx": NESTED, "Badge.tsx": BADGE},
}


def line_of(text: str, marker: str) -> int:
    """The line of `marker` in a source as the video's file holds it."""
    lines = textwrap.dedent(text).lstrip().splitlines()
    return next(number for number, line in enumerate(lines, 1) if marker in line)


@pytest.fixture(scope="module")
def videos(workspace: Workspace) -> Iterator[dict[str, Video]]:
    """Every video of this file written at once, so that one bundle serves them all."""
    with videos_written(workspace, SOURCES) as made:
        yield made


def test_a_series_longer_than_the_composition_fails_with_the_scene_its_frames_and_line(session: Session, videos) -> None:
    result = ladder.run(session, videos["tl-long"])
    error = result.error
    assert error is not None and (error.stage, error.code) == ("composition", "config"), error
    outro = line_of(SOURCES["tl-long"]["index.tsx"], 'name="outro"')
    config = line_of(SOURCES["tl-long"]["index.tsx"], "export const config")
    assert error.message == (
        f"the Series ends at frame 65 but the composition has 60 frames: the scene 'outro' (frames 40-65,"
        f" index.tsx:{outro}) is cut off; make durationInFrames (index.tsx:{config}) 65 or shorten the scenes"
    )
    assert (error.file, error.line) == ("index.tsx", outro)
    assert result.stills == [] and "stills" not in result.timings  # stopped before any frame was drawn


def test_every_cut_scene_is_named_and_the_first_is_the_line(session: Session, videos) -> None:
    error = ladder.run(session, videos["tl-two"], stills=ladder.Stills.NONE).error
    source = SOURCES["tl-two"]["index.tsx"]
    step, outro = line_of(source, "<Step />") - 1, line_of(source, 'name="outro"')
    assert error is not None and error.stage == "composition", error
    assert "the Series ends at frame 85 but the composition has 60 frames" in error.message
    assert (
        f"the scenes <Step> (frames 25-65, index.tsx:{step}) and 'outro' (frames 65-85, index.tsx:{outro}) are cut off"
        in error.message
    )
    assert "make durationInFrames" in error.message and " 85 or shorten the scenes" in error.message
    assert (error.file, error.line) == ("index.tsx", step)


@pytest.mark.parametrize("name", ["tl-fit", "tl-open", "hello"])
def test_scenes_that_fit_or_never_end_pass(session: Session, videos, workspace: Workspace, name: str) -> None:
    video = videos.get(name) or workspace.video(name)
    result = ladder.run(session, video, stills=ladder.Stills.NONE)
    assert result.error is None, result.error
    assert result.composition is not None


def test_a_sequence_nested_in_a_later_scene_that_starts_after_the_end_is_found(session: Session, videos) -> None:
    error = ladder.run(session, videos["tl-nested"], stills=ladder.Stills.NONE).error
    assert error is not None and error.stage == "composition", error
    badge = line_of(BADGE, "<Sequence")
    assert (error.file, error.line) == ("Badge.tsx", badge)
    assert error.message.startswith(
        f"the Sequence at Badge.tsx:{badge} starts at frame 70 but the composition has 60 frames (0-59): it is never shown;"
    )
    assert error.message.endswith(" 80 or start it earlier")
