"""The sound of a local render, put back in time with its picture.

Remotion 4.0.527's local renders (whole or in chunks) begin their AAC track with 2,048 samples of the
encoder's priming (42.7 ms at 48 kHz) and no edit list that says so: every player plays the sound 1.3
frames (at 30 fps) after its picture. Measured with a click at a known frame; tests/test_sound_sync.py
fails on a Remotion whose priming differs. Copying the streams with an edit list that skips the priming
fixes it without encoding anything again.
"""

from __future__ import annotations

import os
from pathlib import Path

import ffmpeg

from ..workspace.project import Workspace
from .probe import ffprobe_path
from .yielding import run_ffmpeg

PRIMING_SAMPLES = 2048


def align(path: Path, workspace: Workspace) -> bool:
    """Skip the priming of the AAC track of the MP4 at `path`, in place; whether there was one to skip.
    A file without AAC sound is left as it is; so is one ffmpeg cannot copy (its sound stays 43 ms late)."""
    info = ffmpeg.probe(str(path), cmd=ffprobe_path(workspace))
    sound = next((s for s in info["streams"] if s.get("codec_type") == "audio"), None)
    if sound is None or sound.get("codec_name") != "aac":
        return False
    rate = int(sound.get("sample_rate") or 48000)
    aligned = path.with_name(f".{path.stem}.aligned{path.suffix}")
    picture = ffmpeg.input(str(path)).video
    # A negative offset starts the sound before 0: the MP4 muxer writes that as the edit list's media time.
    early = ffmpeg.input(str(path), itsoffset=f"{-PRIMING_SAMPLES / rate:.9f}").audio
    stream = ffmpeg.output(picture, early, str(aligned), c="copy", map_metadata=0, movflags="+faststart").overwrite_output()
    try:
        run_ffmpeg(stream, None)
        os.replace(aligned, path)
    except ffmpeg.Error:
        return False
    finally:
        aligned.unlink(missing_ok=True)
    return True
