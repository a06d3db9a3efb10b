"""`vidgen render --chunks N`: frame ranges rendered at once and joined with Remotion's combineChunks.

The joined video must be the single render's: the same frames (decoded and compared one by one) and the
same sound, with no click where the chunks meet. Frames cannot be bit-equal: each chunk is its own x264
encode (its own first keyframe, its own rate control), so the decoded pixels of a chunked and a single
render differ by what the encoder chose, a level or two, never by what was drawn; the comparison allows
that and no more (a frame drawn at the wrong time, or a missing or doubled frame, is tens of levels off).
"""

from __future__ import annotations

import json
import math
import subprocess
import threading
from array import array
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from vidgen.engine.messages import Composition
from vidgen.engine.protocol import RenderArgs
from vidgen.errors import Cancelled, UsageError
from vidgen.media.probe import ffmpeg_path
from vidgen.render import options

from .helpers import component, vidgen

FRAMES, FPS, SIZE = 40, 30, (640, 360)
# A block that moves every frame over a hue that changes every frame: a frame out of place shows.
DRAWN = """
const x = interpolate(frame, [0, 39], [0, 540]);
return (
  <AbsoluteFill style={{backgroundColor: `hsl(${frame * 9}, 60%, 40%)`}}>
    <Audio src={staticFile('chunky/tone.wav')} />
    <div style={{position: 'absolute', left: x, top: 130, width: 100, height: 100, backgroundColor: '#f7b733'}} />
    <div style={{position: 'absolute', left: 20, top: 20, color: 'white', fontSize: 48}}>{frame}</div>
  </AbsoluteFill>
);
"""


# ------------------------------------------------------------------ the options, no render


def test_chunks_are_checked_before_any_work() -> None:
    options.check_chunks(None, "gif", None)
    options.check_chunks(1, "prores", None)
    options.check_chunks(4, "h264", None)
    for chunks, codec, frames, fragment in (
        (0, "h264", None, "--chunks 0"),
        (-2, "h264", None, "--chunks -2"),
        (2, "gif", None, "not gif"),
        (2, "vp9", None, "not vp9"),
        (2, "prores", None, "not prores"),
        (2, "h264", (0, 9), "whole video"),
    ):
        with pytest.raises(UsageError, match=fragment):
            options.check_chunks(chunks, codec, frames)
    with pytest.raises(UsageError, match="more than the video's 40 frames"):
        options.RenderOptions(chunks=41).check_chunk_count(Composition(640, 360, 30, 40))
    assert not options.RenderOptions(chunks=3).variant  # the same video, so recorded as it
    assert options.RenderOptions(chunks=1).wire(Composition(640, 360, 30, 40))["chunks"] is None


def test_the_automatic_count_splits_only_long_videos_on_big_machines() -> None:
    short, long = Composition(640, 360, 30, 300), Composition(640, 360, 30, 30 * 60)
    assert options.auto_chunks(long, 2) == 1  # this machine: one render already uses its cores
    assert options.auto_chunks(short, 16) == 1
    assert options.auto_chunks(long, 8) == 2
    assert options.auto_chunks(long, 64) == 4
    auto = options.with_configured_chunks(options.RenderOptions(), 0, "h264", long, 16)
    assert auto.chunks == 4
    # vidgen.toml's count is for the renders that can be chunked; a flag wins.
    assert options.with_configured_chunks(options.RenderOptions(), 3, "vp9", long, 16).chunks is None
    assert options.with_configured_chunks(options.RenderOptions(frames=(0, 9)), 3, "h264", long, 16).chunks is None
    assert options.with_configured_chunks(options.RenderOptions(chunks=2), 3, "h264", long, 16).chunks == 2


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory):
    from vidgen.workspace import project as workspace_module

    return workspace_module.create(tmp_path_factory.mktemp("bare") / "ws", install=False)


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--chunks", "0"], "--chunks 0"),
        (["--chunks", "2", "--codec", "gif"], "not gif"),
        (["--chunks", "2", "--codec", "prores"], "not prores"),
        (["--chunks", "2", "--codec", "vp9"], "not vp9"),
        (["--chunks", "2", "--frames", "0-9"], "whole video"),
        (["--chunks", "2", "--still", "3"], "--still"),
    ],
)
def test_bad_chunks_are_one_line_usage_errors(bare, flags: list[str], fragment: str) -> None:
    done = vidgen("render", "hello", *flags, "--json", cwd=bare.root)
    payload = json.loads(done.stdout)
    assert done.returncode == 2 and payload["error"]["code"] == "usage", payload
    assert fragment in payload["error"]["message"] and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not list(bare.out_dir.glob("*")) and not list((bare.state_dir / "staging").glob("*"))


def test_chunks_in_vidgen_toml_below_zero_are_a_usage_error(bare) -> None:
    config = bare.root / "vidgen.toml"
    text = config.read_text()
    try:
        config.write_text(text.replace("chunks = 0", "chunks = -1"))
        done = vidgen("render", "hello", "--json", cwd=bare.root)
        assert done.returncode == 2 and "render.chunks is -1" in json.loads(done.stdout)["error"]["message"]
    finally:
        config.write_text(text)


# ------------------------------------------------------------------ real renders


def decoded_frames(path: Path) -> list[Image.Image]:
    raw = subprocess.run(
        [ffmpeg_path(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    size = SIZE[0] * SIZE[1] * 3
    assert len(raw) % size == 0
    return [Image.frombytes("RGB", SIZE, raw[at : at + size]) for at in range(0, len(raw), size)]


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def decoded_sound(path: Path) -> list[float]:
    raw = subprocess.run(
        [ffmpeg_path(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "48000", "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return [sample / 32768 for sample in array("h", raw)]  # s16le: this machine is little-endian


@pytest.fixture(scope="module")
def chunky(session, workspace, tmp_path_factory: pytest.TempPathFactory):
    """The video, and its single render to compare the chunked ones with."""
    from vidgen.render import video as render

    folder = workspace.root / "public" / "chunky"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_path(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=48000",
         "-af", "volume=0.5", str(folder / "tone.wav")],
        check=True,
    )  # fmt: skip
    video = workspace.video("chunky")
    video.folder.mkdir(parents=True, exist_ok=True)
    imports = "import {Audio, staticFile} from 'remotion';"
    (video.folder / "index.tsx").write_text(component(DRAWN, frames=FRAMES, fps=FPS, imports=imports))
    out = tmp_path_factory.mktemp("chunks")
    single = render.render(session, video, output=out / "single.mp4", previews=False, options=options.RenderOptions(chunks=1))
    assert single.error is None, single.error
    yield video, out, single.output
    import shutil

    shutil.rmtree(video.folder, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.render
@pytest.mark.parametrize(("chunks", "starts"), [(2, [20]), (3, [14, 28])])  # 40 frames: 20+20, 14+14+12
def test_chunks_make_the_single_renders_frames_and_sound(session, chunky, chunks: int, starts: list[int]) -> None:
    from vidgen.render import video as render

    video, out, single = chunky
    result = render.render(
        session, video, output=out / f"chunks-{chunks}.mp4", previews=False, options=options.RenderOptions(chunks=chunks)
    )
    assert result.error is None, result.error
    one, joined = decoded_frames(single), decoded_frames(result.output)
    assert len(joined) == len(one) == FRAMES
    for index in range(FRAMES):
        difference = mean_difference(one[index], joined[index])
        # Encoder-level only: on average under a level, and the next frame (what a shifted frame would be) far more.
        assert difference < 1.0, (index, difference)
        if index + 1 < FRAMES:
            assert mean_difference(one[index + 1], joined[index]) > 5 * max(difference, 0.5), index
    staging = session.workspace.state_dir / "staging"
    assert not list(staging.glob("*.chunk-*")), "chunk files were left"

    # The sound: the single render's, sample for sample but AAC's rounding, and smooth across every join.
    # The joined track may run up to two AAC frames (2048 samples, 43 ms) past the single one's end:
    # each chunk's sound is padded to AAC frame boundaries, and the last pad stays, silent, after the video.
    tone, sound = decoded_sound(single), decoded_sound(result.output)
    assert 0 <= len(sound) - len(tone) <= 2048, (len(tone), len(sound))
    peak = max(abs(sample) for sample in tone)
    assert peak > 0.02  # the tone is there
    # The steepest step of a 440 Hz sine: 2*pi*440/48000 of its peak; a click is many times that.
    smooth = 2 * math.pi * 440 / 48000 * peak * 1.3
    for start in starts:
        at = start * 48000 // FPS
        near, alone = sound[at - 480 : at + 480], tone[at - 480 : at + 480]  # 10 ms either side of the join
        steepest = max(abs(b - a) for a, b in zip(near, near[1:], strict=False))
        assert steepest < smooth, f"a click at frame {start}: a step of {steepest / peak:.3f} of the peak"
        changed = max(abs(a - b) for a, b in zip(near, alone, strict=True))
        assert changed < 0.02 * peak, f"the sound is shifted or changed at frame {start} (by {changed / peak:.3f} of the peak)"
    # Over the whole video but its last AAC frame (1024 samples, 21 ms). Both files skip the encoder's priming
    # (media/sound_sync.py), so each one's tail ends inside the video: combineChunks's last chunk falls silent
    # about 12 ms before the video's end, the single render's at its end (measured with a tone to the end).
    end = FRAMES * 48000 // FPS - 1024
    whole = max(abs(a - b) for a, b in zip(sound[:end], tone[:end], strict=True))
    assert whole < 0.02 * peak, f"the sound differs from the single render's by {whole / peak:.3f} of its peak"


@pytest.mark.render
def test_cancelling_a_chunked_render_leaves_no_chunk_files(session, chunky) -> None:
    video, _, _ = chunky
    staging = session.workspace.state_dir / "staging"
    output = staging / "chunky-cancelled.mp4"
    request: list[int] = []
    cancelled = threading.Event()

    def on_progress(_event: object) -> None:
        if request and not cancelled.is_set():
            cancelled.set()
            session.service.cancel(request[0])

    args = RenderArgs(name=video.name, output=str(output), codec="h264", timeout_ms=30_000, chunks=3)
    with pytest.raises(Cancelled):
        session.service.render(args, timeout_s=300, on_progress=on_progress, on_start=request.append)
    assert cancelled.is_set()
    assert not output.exists() and not list(staging.glob("chunky-cancelled*")), list(staging.iterdir())
