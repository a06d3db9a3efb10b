"""Narration: lines spoken offline (espeak-ng) or by an /audio/speech endpoint, the picture timed to them,
captions written, and a video that cuts a line short or says nothing fails verify."""

from __future__ import annotations

import io
import json
import math
import re
import threading
import time
import wave
from array import array
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from vidgen.engine.session import Session
from vidgen.errors import StructuredError, VoiceError
from vidgen.media import probe as media
from vidgen.model import providers
from vidgen.render import video as render
from vidgen.settings import VoiceSettings
from vidgen.sound import narration, voice
from vidgen.workspace.project import Workspace

LINES = [{"id": "intro", "text": "One."}, {"id": "middle", "text": "Two, and a half."}, {"id": "outro", "text": "Three."}]


def _video(tmp_path: Path, lines: object = LINES, fps: int = 30):
    root = tmp_path / "ws"
    (root / "src" / "videos" / "talk").mkdir(parents=True, exist_ok=True)
    video = Workspace(root).video("talk")
    video.entry.write_text(f"export const config = {{durationInFrames: 1, fps: {fps}, width: 640, height: 360}};\n")
    (video.folder / "narration.json").write_text(lines if isinstance(lines, str) else json.dumps(lines, indent=1))
    return video


def test_lines_are_spoken_timed_and_written_as_a_typed_module(tmp_path: Path) -> None:
    video = _video(tmp_path)
    timeline = narration.prepare(video, VoiceSettings(), tmp_path / "cache")
    assert isinstance(timeline, narration.Timeline)
    scenes = timeline.scenes
    assert [s.id for s in scenes] == ["intro", "middle", "outro"]
    # Each Sequence starts where the last ended, and lasts the whole clip plus the gap.
    assert [s.from_frame for s in scenes] == [0, scenes[0].frames, scenes[0].frames + scenes[1].frames]
    for scene in scenes:
        clip = voice.measure(video.workspace.root / "public" / scene.audio)
        assert scene.frames == math.ceil((clip.duration_s + 0.4) * 30)
        assert 0 < scene.speech_frames < scene.frames
    module = (video.folder / "narration.ts").read_text()
    assert f"export const totalFrames = {timeline.total_frames};" in module
    assert re.search(
        r'id: "middle", text: "Two, and a half.", audio: staticFile\("talk/narration/middle-[0-9a-f]{8}\.wav"\)', module
    )
    assert f"from: {scenes[1].from_frame}, durationInFrames: {scenes[1].frames}" in module


def test_an_edit_speaks_only_the_changed_line(tmp_path: Path) -> None:
    video = _video(tmp_path)
    cache = tmp_path / "cache"
    narration.prepare(video, VoiceSettings(), cache)
    assert len(list(cache.glob("*.wav"))) == 3
    changed = [dict(line) for line in LINES]
    changed[2]["text"] = "Four."
    (video.folder / "narration.json").write_text(json.dumps(changed))
    before = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.wav")}
    narration.prepare(video, VoiceSettings(), cache)
    after = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.wav")}
    assert len(after) == 4 and all(after[name] == mtime for name, mtime in before.items())
    # The old line's audio is gone from public/, the new one is there.
    placed = sorted(p.name.split("-")[0] for p in (video.workspace.root / "public" / "talk" / "narration").iterdir())
    assert placed == ["intro", "middle", "outro"]


def test_captions_are_phrases_at_the_times_the_video_plays_them(tmp_path: Path) -> None:
    video = _video(tmp_path, [{"id": "only", "text": "First part, second part. And a last sentence here."}])
    timeline = narration.prepare(video, VoiceSettings(), tmp_path / "cache")
    cues = narration.srt(timeline).strip().split("\n\n")
    assert [cue.splitlines()[2] for cue in cues] == ["First part,", "second part.", "And a last sentence here."]
    assert cues[0].splitlines()[1].startswith("00:00:00,000 --> 00:00:00,")
    ends = [cue.splitlines()[1].split(" --> ")[1] for cue in cues]
    last_end = int(ends[-1][-3:]) / 1000 + int(ends[-1][6:8])
    assert last_end == pytest.approx(timeline.scenes[0].speech_frames / 30, abs=0.05)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('[{"id": "a", "text": "x"},\n oops]', 2, "narration.json is not valid JSON"),
        ('{"id": "a", "text": "x"}', None, "must be a list of scenes"),
        ("[]", None, "must be a list of scenes"),
        ('[\n{"id": "a", "text": "x"},\n{"id": "Bad Id", "text": "y"}]', 3, "scene 2's id must be lowercase"),
        ('[\n{"id": "a", "text": "x"},\n{"id": "a", "text": "y"}]', 3, "scene id 'a' is used twice"),
        ('[{"id": "a", "text": ""}]', 1, "scene 'a' needs a \"text\""),
        ('[{"id": "a", "text": 42}]', 1, "scene 'a' needs a \"text\""),
        ('[{"id": "a", "text": "x", "voice": "evil"}]', 1, 'exactly "id" and "text"'),
        ('[["a", "x"]]', None, 'exactly "id" and "text"'),
        (json.dumps([{"id": f"s{i}", "text": "x"} for i in range(41)]), None, "41 scenes, over 40"),
        (json.dumps([{"id": "a", "text": "x" * 2001}]), 1, "1 to 2000 characters"),
        ("[" * 100_000, None, "narration.json is nested too deeply: write a flat list of scenes"),
    ],
)
def test_a_bad_narration_file_is_an_error_at_its_line(tmp_path: Path, text: str, line: int | None, fragment: str) -> None:
    video = _video(tmp_path, text)
    error = narration.prepare(video, VoiceSettings(), tmp_path / "cache")
    assert isinstance(error, StructuredError)
    assert (error.stage, error.file, error.line) == ("sound", "narration.json", line)
    assert fragment in error.message
    assert not (video.folder / "narration.ts").exists()


def test_a_narration_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    video = _video(tmp_path)
    (video.folder / "narration.json").unlink()
    (video.folder / "narration.json").symlink_to("/etc/hostname")
    error = narration.prepare(video, VoiceSettings(), tmp_path / "cache")
    assert isinstance(error, StructuredError) and error.message == "narration.json must be a plain file in the video folder"


def _wav_bytes(seconds: float = 0.8, rate: int = 16000) -> bytes:
    samples = array("h", (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


class _SpeechServer:
    """An OpenAI-style /audio/speech endpoint on 127.0.0.1 that answers with real audio (or what a test says).

    `body` may be a function that writes the whole answer itself, for endpoints that misbehave while sending.
    """

    def __init__(self, body: bytes | Callable[[BaseHTTPRequestHandler], None], status: int = 200) -> None:
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                owner.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(self.rfile.read(length))}
                )
                if callable(body):
                    body(self)
                    return
                self.send_response(status)
                self.send_header("Content-Type", "audio/wav")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_an_http_voice_speaks_through_the_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGEN_API_KEY", "sk-voice-test")
    server = _SpeechServer(_wav_bytes(0.8))
    try:
        speaker = voice.voice_for(VoiceSettings(provider="openai", base_url=server.base_url, model="tts-1", voice="alloy"))
        speech = voice.speak(speaker, "Hello there.", tmp_path / "cache")
    finally:
        server.close()
    assert speech.duration_s == pytest.approx(0.8, abs=0.01)
    (request,) = server.requests
    assert request["path"] == "/v1/audio/speech"
    assert request["body"] == {"model": "tts-1", "input": "Hello there.", "voice": "alloy", "response_format": "wav"}
    assert request["headers"]["Authorization"] == "Bearer sk-voice-test"
    assert "sk-voice-test" not in repr(speaker.endpoint)


@pytest.mark.parametrize(("body", "status", "fragment"), [(b"<html>oops</html>", 200, "not audio"), (b"{}", 500, "HTTP 500")])
def test_an_http_voice_that_sends_no_audio_is_a_clear_error(tmp_path: Path, body: bytes, status: int, fragment: str) -> None:
    server = _SpeechServer(body, status)
    try:
        speaker = voice.HttpSpeech(providers.Endpoint("custom", server.base_url, None, False), "tts-1", "alloy")
        with pytest.raises(VoiceError, match=fragment):
            voice.speak(speaker, "Hello.", tmp_path / "cache")
    finally:
        server.close()
    assert list((tmp_path / "cache").glob("*")) == []


def _trickle(part: str, every_s: float = 0.3) -> Callable[[BaseHTTPRequestHandler], None]:
    """An answer that sends one byte at a time, slower than any deadline, of its headers or of its body."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 1000000\r\n\r\n"
        try:
            if part == "body":
                handler.wfile.write(head)
            for byte in (head if part == "headers" else b"R" * 1_000_000)[:200]:
                handler.wfile.write(bytes([byte]))
                time.sleep(every_s)
        except OSError:  # the client gave up: what the test wants
            pass

    return respond


@pytest.mark.parametrize("part", ["headers", "body"])
def test_an_http_voice_that_trickles_is_cut_off_at_the_deadline(tmp_path: Path, part: str) -> None:
    """Each byte comes well within httpx's per-read timeout; only a deadline on the whole request ends it."""
    server = _SpeechServer(_trickle(part))
    try:
        speaker = voice.HttpSpeech(providers.Endpoint("custom", server.base_url, None, False), "tts-1", "alloy", timeout_s=1.0)
        started = time.monotonic()
        with pytest.raises(VoiceError) as caught:
            voice.speak(speaker, "Hello.", tmp_path / "cache")
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert str(caught.value) == (
        f"the voice endpoint {server.base_url} did not finish its answer within 1 s: check that it is up, or set another [voice] provider"
    )
    assert elapsed < 3.0, elapsed  # the trickle would last a minute
    assert list((tmp_path / "cache").glob("*")) == []


@pytest.fixture
def bytes_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every piece of a response body httpx hands to vidgen."""
    sizes: list[int] = []
    original = httpx.Response.iter_bytes

    def counted(self: httpx.Response, chunk_size: int | None = None) -> Iterator[bytes]:
        for chunk in original(self, chunk_size):
            sizes.append(len(chunk))
            yield chunk

    monkeypatch.setattr(httpx.Response, "iter_bytes", counted)
    return sizes


@pytest.mark.parametrize("declared", [False, True])
def test_an_http_voice_that_sends_without_end_is_refused_at_the_limit(
    tmp_path: Path, bytes_read: list[int], declared: bool
) -> None:
    """2 GB offered, with or without a Content-Length saying so: vidgen reads no more than its limit."""
    sent: list[int] = []
    done = threading.Event()

    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "audio/wav")
        if declared:
            handler.send_header("Content-Length", str(2 * 2**30))
        handler.end_headers()
        block, total = bytes(64 * 1024), 0
        try:
            while total < 2 * 2**30:
                handler.wfile.write(block)
                total += len(block)
        except OSError:
            pass
        finally:
            sent.append(total)
            done.set()

    server = _SpeechServer(endless)
    try:
        speaker = voice.HttpSpeech(providers.Endpoint("custom", server.base_url, None, False), "tts-1", "alloy", timeout_s=30)
        started = time.monotonic()
        with pytest.raises(VoiceError) as caught:
            voice.speak(speaker, "Hello.", tmp_path / "cache")
        elapsed = time.monotonic() - started
        assert done.wait(10)
    finally:
        server.close()
    assert (
        str(caught.value)
        == f"the voice endpoint {server.base_url} sent over 64 MiB for one line: check [voice] base_url and model"
    )
    assert elapsed < 15, elapsed
    if declared:
        assert sum(bytes_read) == 0  # the Content-Length alone is enough to refuse
    else:
        assert voice.MAX_BYTES < sum(bytes_read) <= voice.MAX_BYTES + 2**20
    # What left the server is what vidgen read plus what the kernels buffered on both sides: far from 2 GB.
    assert sent[0] < 2 * voice.MAX_BYTES
    assert list((tmp_path / "cache").glob("*")) == []


NARRATED = """\
import React from 'react';
import {AbsoluteFill, Audio, Sequence, interpolate, useCurrentFrame} from 'remotion';
import {scenes, totalFrames} from './narration';

export const config = {durationInFrames: totalFrames, fps: 30, width: 640, height: 360};

const Picture: React.FC<{label: string}> = ({label}) => {
  const frame = useCurrentFrame();
  const x = interpolate(frame, [0, 20], [40, 400], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{backgroundColor: '#1d3557'}}>
      <div style={{position: 'absolute', left: x, top: 150, color: 'white', fontSize: 40}}>{label}</div>
    </AbsoluteFill>
  );
};

const Talk: React.FC = () => (
  <AbsoluteFill>
    {scenes.map((scene) => (
      <Sequence key={scene.id} from={scene.from} durationInFrames={SCENE_LENGTH}>
        <Audio src={scene.audio} />
        <Picture label={scene.id} />
      </Sequence>
    ))}
  </AbsoluteFill>
);

export default Talk;
"""


@pytest.mark.render
def test_a_narrated_video_renders_with_its_voice_and_captions(session: Session, make_video, tmp_path: Path) -> None:
    video = make_video(
        "narrated", {"index.tsx": NARRATED.replace("SCENE_LENGTH", "scene.durationInFrames"), "narration.json": json.dumps(LINES)}
    )
    result = render.render(session, video, output=tmp_path / "narrated.mp4", previews=False)
    assert result.error is None, result.error
    timeline = narration.prepare(video, session.settings.voice, session.workspace.state_dir / "voice")
    assert result.composition.frames == timeline.total_frames
    heard = media.sound(result.output, session.workspace)
    assert heard.codec == "aac" and heard.max_volume_db > -30
    assert heard.duration_s == pytest.approx(timeline.total_frames / 30, abs=0.1)
    # Each later line starts where narration.ts says: a silence (the gap) ends right there.
    for scene in timeline.scenes[1:]:
        start = scene.from_frame / 30
        assert any(abs(end - start) < 0.12 for _start, end in heard.silences), (start, heard.silences)
    captions = (tmp_path / "narrated.srt").read_text()
    assert result.captions == tmp_path / "narrated.srt" and captions == narration.srt(timeline)
    assert "\nTwo,\n" in captions and "\nand a half.\n" in captions  # phrases break at commas


@pytest.mark.render
def test_a_line_cut_short_by_its_sequence_fails_verify(session: Session, make_video, tmp_path: Path) -> None:
    video = make_video("narrated-cut", {"index.tsx": NARRATED.replace("SCENE_LENGTH", "12"), "narration.json": json.dumps(LINES)})
    result = render.render(session, video, output=tmp_path / "cut.mp4", previews=False)
    assert result.error is not None and result.error.stage == "verify"
    assert re.match(
        r"scene 'middle''s narration lasts 1\.\d s but its Sequence is 0\.\d s: use durationInFrames", result.error.message
    )
    assert not (tmp_path / "cut.mp4").exists()


@pytest.mark.render
def test_a_video_shorter_than_its_narration_fails_before_any_frame(session: Session, make_video) -> None:
    source = NARRATED.replace("SCENE_LENGTH", "scene.durationInFrames").replace(
        "durationInFrames: totalFrames", "durationInFrames: 30"
    )
    video = make_video("narrated-short", {"index.tsx": source, "narration.json": json.dumps(LINES)})
    result = render.check(session, video)
    assert (result.error.stage, result.error.line) == ("composition", 5)
    assert "is shorter than the narration" in result.error.message and "use totalFrames from ./narration" in result.error.message


WITH_MUSIC = (
    NARRATED.replace("SCENE_LENGTH", "scene.durationInFrames")
    .replace(
        "import {scenes, totalFrames} from './narration';",
        "import {scenes, totalFrames} from './narration';\nimport {MUSIC_SRC, musicVolume} from './music';",
    )
    .replace(
        "  <AbsoluteFill>\n    {scenes.map(",
        "  <AbsoluteFill>\n    <Audio src={MUSIC_SRC} loop volume={(f) => musicVolume(f, totalFrames)} />\n    {scenes.map(",
    )
)


def _band_level(path: Path, start: float, seconds: float) -> float:
    """Mean level (dB) of the 5 kHz band, where the music is and the voice hardly is."""
    import subprocess

    done = subprocess.run(
        [
            media.ffmpeg_path(),
            "-hide_banner",
            "-nostdin",
            "-ss",
            f"{start:.3f}",
            "-t",
            f"{seconds:.3f}",
            "-i",
            str(path),
            "-vn",
            "-af",
            "bandpass=f=5000:width_type=h:w=150,volumedetect",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(re.search(r"mean_volume: (-?[\d.]+) dB", done.stderr)[1])


@pytest.mark.render
def test_music_ducks_under_the_narration_and_fades_out(session: Session, make_video, tmp_path: Path) -> None:
    from vidgen.sound import music

    tone = tmp_path / "tone.wav"
    import subprocess

    subprocess.run(
        [
            media.ffmpeg_path(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=5000:duration=2",
            str(tone),
        ],
        check=True,
    )
    video = make_video("narrated-music", {"index.tsx": WITH_MUSIC, "narration.json": json.dumps(LINES)})
    music.add(video, tone)
    result = render.render(session, video, output=tmp_path / "music.mp4", previews=False)
    assert result.error is None, result.error
    timeline = narration.prepare(video, session.settings.voice, session.workspace.state_dir / "voice")
    middle = timeline.scenes[1]
    start, speech_end = middle.from_frame / 30, (middle.from_frame + middle.speech_frames) / 30
    under_voice = _band_level(result.output, start + 0.2, 0.5)
    alone = _band_level(result.output, speech_end + 0.35, (middle.from_frame + middle.frames) / 30 - speech_end - 0.4)
    # 0.6 -> 0.15 is 12 dB; the voice adds a little to the band.
    assert alone - under_voice > 8, (alone, under_voice)
    end = timeline.total_frames / 30
    assert _band_level(result.output, end - 0.15, 0.12) < alone - 10  # faded out
    # The music was looped past its 2 s: it still plays in the last scene.
    outro = timeline.scenes[2]
    assert outro.from_frame / 30 > 2.0
    assert _band_level(result.output, (outro.from_frame + outro.speech_frames) / 30 + 0.3, 0.2) > -60
    (session.workspace.root / "public" / video.name / "music.wav").unlink()
