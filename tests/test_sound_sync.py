"""A render's sound is heard on its frame: Remotion's AAC priming (media/sound_sync.py) is skipped by an edit list.

A 1 ms click at a known frame, rendered whole and in two chunks, decoded as any player decodes it: the click must be
heard within a millisecond of its frame. On a Remotion whose priming is not 2,048 samples these fail."""

from __future__ import annotations

import struct
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidgen.engine.session import Session
from vidgen.media import probe as media
from vidgen.media import sound_sync
from vidgen.render import video as render
from vidgen.render.options import RenderOptions

from .helpers import MOVING, component

RATE = 48000
CLICK = "sync-click.wav"


@pytest.fixture
def click(workspace) -> Iterator[Path]:
    """public/sync-click.wav: a 1 ms click at its very start, then silence."""
    path = workspace.root / "public" / CLICK
    samples = [0] * (RATE // 2)
    samples[:48] = [20000 if i % 2 == 0 else -20000 for i in range(48)]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    yield path
    path.unlink(missing_ok=True)


def clicking_at(frame: int) -> str:
    """A 30-frame video whose sound is the click at `frame`."""
    sound = f"<Sequence from={{{frame}}}><Audio src={{staticFile('{CLICK}')}} /></Sequence>"
    body = MOVING.replace("</AbsoluteFill>", f"  {sound}\n  </AbsoluteFill>")
    return component(body, imports="import {Audio, Sequence, staticFile} from 'remotion';")


def heard_at_ms(mp4: Path, tmp_path: Path) -> float:
    """When the click is first heard, decoded the way players decode (the edit list honoured)."""
    decoded = tmp_path / "sound.wav"
    subprocess.run(
        [media.ffmpeg_path(), "-v", "error", "-y", "-i", str(mp4), "-map", "0:a", "-ac", "1", "-ar", str(RATE), str(decoded)],
        check=True,
    )
    with wave.open(str(decoded)) as sound:
        count = sound.getnframes()
        samples = struct.unpack(f"<{count}h", sound.readframes(count))
    return next(i for i, value in enumerate(samples) if abs(value) > 2000) * 1000 / RATE


@pytest.mark.parametrize(("frame", "chunks"), [(15, 1), (5, 2)])
def test_the_click_is_heard_on_its_frame(session: Session, make_video, click, tmp_path: Path, frame: int, chunks: int) -> None:
    video = make_video(f"sync-click-{chunks}", {"index.tsx": clicking_at(frame)})
    result = render.render(session, video, previews=False, options=RenderOptions(chunks=chunks))
    assert result.error is None and result.output is not None, result.error
    # Without the edit list the click came 42.7 ms (2,048 samples) late, whole or in chunks.
    assert abs(heard_at_ms(result.output, tmp_path) - frame * 1000 / 30) < 1.0


def test_a_video_without_sound_is_left_as_it_is(session: Session, make_video) -> None:
    video = make_video("sync-silent", {"index.tsx": component(MOVING, frames=10)})
    result = render.render(session, video, previews=False)
    assert result.error is None and result.output is not None, result.error
    before = result.output.read_bytes()
    assert sound_sync.align(result.output, session.workspace) is False
    assert result.output.read_bytes() == before
