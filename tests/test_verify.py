"""Verify fails a video only when it shows nothing, never because it is dark (real renders)."""

from __future__ import annotations

import pytest

from vidgen import render
from vidgen.session import Session

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
