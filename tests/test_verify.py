"""Verify fails a video only when it shows nothing or never moves as the eye sees it, never when dark or small (real renders)."""

from __future__ import annotations

import pytest

from vidgen.engine.session import Session
from vidgen.render import video as render

from .helpers import component

pytestmark = pytest.mark.render

# A dark, sparse design as models write them: navy, one thin dashed route, small dots, 16 px labels.
# blackdetect (pix_th=0.10) called it "all black from start to end"; 0.5% of its pixels are content.
DARK_MAP = """
const dash = interpolate(frame, [0, 59], [0, -40]);
const t = interpolate(frame, [0, 59], [0, 1], {extrapolateRight: 'clamp'});
return (
  <AbsoluteFill style={{backgroundColor: '#0b1a3a'}}>
    <svg width={640} height={360} style={{position: 'absolute'}}>
      <path d="M 100 280 Q 320 200 540 210" stroke="#8fb3ff" strokeWidth={1} fill="none" strokeDasharray="6 6" strokeDashoffset={dash} />
      <circle cx={80} cy={280} r={3} fill="#e8eefc" />
      <circle cx={560} cy={200} r={3} fill="#e8eefc" />
      <circle cx={80 + 480 * t} cy={280 - 80 * t} r={2.5} fill="#ffd166" />
    </svg>
    <div style={{position: 'absolute', left: 60, top: 292, color: '#c8d4f0', fontSize: 16, fontFamily: 'sans-serif'}}>Lisbon</div>
    <div style={{position: 'absolute', left: 540, top: 212, color: '#c8d4f0', fontSize: 16, fontFamily: 'sans-serif'}}>Oslo</div>
  </AbsoluteFill>
);
"""


def test_a_dark_minimal_video_passes_verify(session: Session, make_video) -> None:
    video = make_video("verify-dark", {"index.tsx": component(DARK_MAP, frames=60)})
    result = render.render(session, video, previews=False)
    assert result.error is None, result.error
    assert result.status == "rendered" and result.output.exists()


@pytest.mark.parametrize(
    ("name", "body", "words"),
    [
        ("verify-empty", "return <AbsoluteFill />;", "all black"),
        ("verify-black", "return <AbsoluteFill style={{backgroundColor: '#000'}} />;", "all black"),
        ("verify-navy", "return <AbsoluteFill style={{backgroundColor: '#0b1a3a'}} />;", "nothing visible"),
    ],
)
def test_videos_that_show_nothing_still_fail(session: Session, make_video, name: str, body: str, words: str) -> None:
    video = make_video(name, {"index.tsx": component(body, frames=45)})
    result = render.render(session, video, previews=False)
    assert result.error is not None and result.error.stage == "verify"
    assert words in result.error.message and "nothing visible" in result.error.message
    if words == "nothing visible":
        assert "black" not in result.error.message and "#0a193a" in result.error.message
    assert result.output is None


# A small dot moving along a route over a still background, as a map video draws it: 12 px, 8 px a frame,
# beside a still label. freezedetect's noise floor was a mean over the whole frame, so this read as
# "frozen from start to end" at 1280x720 and larger.
DOT = """
const x = interpolate(frame, [START, END], [80, 80 + DISTANCE], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
return (
  <AbsoluteFill style={{backgroundColor: '#0b1a3a'}}>
    <div style={{position: 'absolute', left: 60, top: 40, color: '#c8d4f0', fontSize: 32, fontFamily: 'sans-serif'}}>Lisbon to Oslo</div>
    <div style={{position: 'absolute', left: x, top: 200, width: 12, height: 12, borderRadius: 6, backgroundColor: '#ffd166'}} />
  </AbsoluteFill>
);
"""


def dot(*, start: int = 0, end: int = 29, distance: int = 240) -> str:
    """DOT, its dot still until frame `start`, then moving `distance` px until frame `end`."""
    return DOT.replace("START", str(start)).replace("END", str(end)).replace("DISTANCE", str(distance))


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080), (800, 600)])
def test_a_small_dot_moving_on_a_still_background_passes(session: Session, make_video, width: int, height: int) -> None:
    video = make_video(f"verify-dot-{width}", {"index.tsx": component(dot(), width=width, height=height)})
    result = render.render(session, video, previews=False)
    assert result.error is None, result.error
    assert result.status == "rendered"


def test_a_video_still_for_its_first_half_then_moving_is_not_frozen(session: Session, make_video) -> None:
    video = make_video("verify-late", {"index.tsx": component(dot(start=30, end=59), width=1280, height=720, frames=60)})
    result = render.render(session, video, previews=False)
    assert result.error is None, result.error


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (640, 360)])
def test_a_truly_frozen_video_fails_as_frozen(session: Session, make_video, width: int, height: int) -> None:
    video = make_video(f"verify-still-{width}", {"index.tsx": component(dot(distance=0), width=width, height=height)})
    result = render.render(session, video, previews=False)
    assert result.error is not None and result.error.stage == "verify"
    assert "frozen from start to end" in result.error.message
    assert result.output is None


# Changes no eye sees, of the size of the noise h264 leaves on a still image. A textured still across
# the encoder's keyframe at frame 250: the new keyframe redraws the texture with noise of up to 39 levels
# on single pixels (freezedetect saw a freeze end there, and passed the video). A background that flickers
# by two levels a channel every frame: a mean over the frame above freezedetect's floor, so it passed too.
TEXTURE = """
return (
  <AbsoluteFill style={{background: 'linear-gradient(135deg, #1d3557, #e76f51 50%, #a8dadc)'}}>
    <svg width={640} height={360} style={{position: 'absolute', opacity: 0.6}}>
      <filter id="texture"><feTurbulence type="turbulence" baseFrequency={0.05} numOctaves={4} seed={3} /></filter>
      <rect width={640} height={360} filter="url(#texture)" />
    </svg>
    <div style={{position: 'absolute', left: 40, top: 40, color: 'white', fontSize: 40, fontFamily: 'serif'}}>Quarterly results</div>
  </AbsoluteFill>
);
"""
FLICKER = """
return (
  <AbsoluteFill style={{backgroundColor: frame % 2 === 0 ? '#0b1a3a' : '#0d1c3c'}}>
    <div style={{position: 'absolute', left: 60, top: 40, color: '#c8d4f0', fontSize: 32, fontFamily: 'sans-serif'}}>Lisbon to Oslo</div>
  </AbsoluteFill>
);
"""


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("verify-keyframe", component(TEXTURE, frames=260)),
        ("verify-flicker", component(FLICKER, width=1280, height=720, frames=45)),
    ],
)
def test_a_video_whose_only_change_is_encoder_noise_is_frozen(session: Session, make_video, name: str, source: str) -> None:
    video = make_video(name, {"index.tsx": source})
    result = render.render(session, video, previews=False)
    assert result.error is not None and result.error.stage == "verify", result.error
    assert "frozen from start to end" in result.error.message
