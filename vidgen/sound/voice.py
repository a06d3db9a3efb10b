"""Voices: text in, a WAV file out, measured. Offline espeak-ng by default; any OpenAI-compatible
`/audio/speech` endpoint otherwise. Every line is cached by voice and text, so an edit that changes
one line of narration synthesizes only that line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from ..engine.sandbox import confined
from ..errors import UsageError, VoiceError
from ..media import probe as media
from ..model import providers
from ..settings import VoiceSettings
from . import word_timing

MAX_CHARS = 2000  # one line of narration; a longer one is a scene to split, not a line
# What an endpoint may send for one line: 2,000 characters are about 3 minutes of speech, ~8 MiB as
# 24 kHz 16-bit mono WAV; 64 MiB leaves room for 48 kHz stereo, and is refused as it streams in.
MAX_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Speech:
    path: Path
    duration_s: float  # the whole file
    voiced_s: float  # until the last sound, without the trailing silence
    lead_s: float = 0.0  # until the first sound


class Voice(Protocol):
    identity: str  # what the cache key is made of: the provider, model, voice and speed

    def synthesize(self, text: str, target: Path) -> None: ...


class Espeak:
    """Debian's espeak-ng: offline, robotic, always there (`make setup` installs it)."""

    def __init__(self, voice: str = "en-us", speed: int = 165) -> None:
        self.voice, self.speed = voice or "en-us", speed
        self.identity = f"espeak-events:{self.voice}:{self.speed}"  # a WAV and its word events

    def synthesize(self, text: str, target: Path) -> None:
        """The line as WAV, and beside it espeak-ng's own word events (word_timing.events_path)."""
        if not self._with_events(text, target):
            self._program(text, target)

    def _with_events(self, text: str, target: Path) -> bool:
        """libespeak-ng through espeak_events.py, jailed like the program; False when there is no library."""
        partial = target.with_name(f".{target.name}.partial")
        events = word_timing.events_path(target)
        python = os.path.realpath(sys.executable)
        command = [python, "-I", "-S", "-c", _EVENTS_PROGRAM, self.voice, str(self.speed), str(partial), str(events)]
        readable = [Path(os.path.realpath(sys.base_prefix))]  # the interpreter and its standard library
        done = subprocess.run(
            confined(command, [target.parent], readable), input=text, capture_output=True, text=True, timeout=120
        )
        if done.returncode == 0 and partial.is_file() and events.is_file():
            partial.replace(target)
            return True
        partial.unlink(missing_ok=True)
        events.unlink(missing_ok=True)
        if done.returncode == 4:
            raise VoiceError(f"espeak-ng has no voice {self.voice!r}: check [voice] voice (espeak-ng --voices)")
        return False  # no library (or it failed): the program speaks, and the words are timed in proportion

    def _program(self, text: str, target: Path) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise UsageError("espeak-ng is not installed: apt-get install -y espeak-ng (or set [voice] provider in vidgen.toml)")
        partial = target.with_name(f".{target.name}.partial")
        # The text goes on stdin, so a line that starts with "-" is never taken for an option.
        done = subprocess.run(
            confined([binary, "-v", self.voice, "-s", str(self.speed), "--stdin", "-w", str(partial)], [target.parent]),
            input=text,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0 or not partial.is_file():
            partial.unlink(missing_ok=True)
            first = (done.stderr.strip().splitlines() or ["no output"])[0][:200]
            raise VoiceError(f"espeak-ng failed for voice {self.voice!r}: {first}; check [voice] voice (espeak-ng --voices)")
        partial.replace(target)


_EVENTS_PROGRAM = (Path(__file__).with_name("espeak_events.py")).read_text()


class HttpSpeech:
    """Any OpenAI-compatible `POST /audio/speech`, with the model's key handling.

    `timeout_s` bounds the whole request, from connecting to the last byte, and `max_bytes` its answer:
    an endpoint that trickles, stalls or never stops is cut off, whatever it sends.
    """

    def __init__(
        self, endpoint: providers.Endpoint, model: str, voice: str, timeout_s: float = 120, max_bytes: int = MAX_BYTES
    ) -> None:
        self.endpoint, self.model, self.voice, self.timeout_s, self.max_bytes = endpoint, model, voice, timeout_s, max_bytes
        self.identity = f"http:{endpoint.base_url}:{model}:{voice}"

    def synthesize(self, text: str, target: Path) -> None:
        received = target.with_name(f".{target.name}.received")
        try:
            self._receive(text, received)
            _to_wav(received, target)
        finally:
            received.unlink(missing_ok=True)

    def _receive(self, text: str, into: Path) -> None:
        """The endpoint's answer, streamed into a file; VoiceError past the deadline or the size limit."""
        where = self.endpoint.base_url
        headers = {"Authorization": f"Bearer {self.endpoint.api_key}"} if self.endpoint.api_key else {}
        headers["Accept-Encoding"] = "identity"  # what is counted is then what is read (a gzipped answer counts decoded)
        body = {"model": self.model, "input": text, "voice": self.voice, "response_format": "wav"}
        late = f"the voice endpoint {where} did not finish its answer within {self.timeout_s:g} s: check that it is up, or set another [voice] provider"
        large = (
            f"the voice endpoint {where} sent over {self.max_bytes / 2**20:g} MiB for one line: check [voice] base_url and model"
        )
        deadline = time.monotonic() + self.timeout_s
        with _Watchdog(self.timeout_s) as watchdog:
            try:
                with (
                    httpx.Client(timeout=self.timeout_s, auth=self.endpoint.auth, follow_redirects=False) as client,
                    client.stream(
                        "POST", f"{where}/audio/speech", json=body, headers=headers, extensions={"trace": watchdog.trace}
                    ) as response,
                ):
                    if response.status_code != 200:
                        raise VoiceError(f"the voice endpoint {where} answered HTTP {response.status_code}: check [voice]")
                    declared = response.headers.get("Content-Length", "")
                    if declared.isdigit() and int(declared) > self.max_bytes:
                        raise VoiceError(large)
                    size = 0
                    with open(into, "wb") as out:
                        for chunk in response.iter_bytes():
                            size += len(chunk)
                            if size > self.max_bytes:
                                raise VoiceError(large)
                            if time.monotonic() > deadline:
                                raise VoiceError(late)
                            out.write(chunk)
            except httpx.HTTPError as exc:
                if watchdog.fired:
                    raise VoiceError(late) from None
                raise VoiceError(f"the voice endpoint {where} did not answer ({type(exc).__name__})") from None
            # A body without a length ends when the connection does: one the watchdog cut is not whole.
            if watchdog.fired:
                raise VoiceError(late)


class _Watchdog:
    """Cuts a request's connection when its time is up, even while the server sends nothing at all.

    httpx's timeouts bound each read, not the request: a byte every few seconds keeps them happy forever.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: holds the connection's socket from the moment it is connected."""
        if event != "connection.connect_tcp.complete":
            return
        connected = info["return_value"].get_extra_info("socket")
        with self._lock:
            # A duplicate: TLS wraps the socket and detaches this object, but the connection is the same.
            self._socket = connected.dup()
            if self.fired:
                self._cut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._cut()

    def _cut(self) -> None:
        if self._socket is None:
            return
        try:
            # shutdown, not close: it wakes a read blocked in another thread at once.
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the connection is already gone


def voice_for(settings: VoiceSettings) -> Voice:
    if settings.provider in ("", "espeak"):
        return Espeak(settings.voice, settings.speed)
    endpoint = providers.resolve(settings.provider, settings.base_url)
    return HttpSpeech(endpoint, settings.model or "tts-1", settings.voice or "alloy")


def speak(voice: Voice, text: str, cache: Path) -> Speech:
    """The line as speech, from the cache when this voice said this text before."""
    if not text.strip() or len(text) > MAX_CHARS:
        raise UsageError(f"a narration line must have 1 to {MAX_CHARS} characters (got {len(text)}): split it into scenes")
    key = hashlib.sha256(f"{voice.identity}\n{text}".encode()).hexdigest()[:24]
    target = cache / f"{key}.wav"
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        voice.synthesize(text, target)
    try:
        return measure(target)
    except (wave.Error, EOFError, ValueError):
        target.unlink(missing_ok=True)
        raise VoiceError("the voice produced audio that is not a readable WAV file") from None


def measure(path: Path) -> Speech:
    """Length, and where the sound starts and ends (the first and last samples above 1% of full scale)."""
    with wave.open(str(path), "rb") as audio:
        rate, width, channels, count = audio.getframerate(), audio.getsampwidth(), audio.getnchannels(), audio.getnframes()
        frames = audio.readframes(count)
    if rate <= 0 or count <= 0:
        raise ValueError("empty audio")
    duration = count / rate
    if width != 2:
        return Speech(path, duration, duration)
    samples = array("h", frames[: len(frames) - len(frames) % 2])
    threshold = 328
    last = next((i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > threshold), 0)
    first = next((i for i in range(len(samples)) if abs(samples[i]) > threshold), 0)
    return Speech(path, duration, (last // channels + 1) / rate, first // channels / rate)


def _to_wav(source: Path, target: Path) -> None:
    """Whatever audio the endpoint sent (WAV, MP3, ...), as 16-bit mono WAV; VoiceError when it is not audio."""
    found = media.describe(source)
    if found is None or not found.has_audio:
        raise VoiceError("the voice endpoint sent something that is not audio")
    partial = target.with_name(f".{target.name}.partial.wav")
    done = subprocess.run(
        [
            media.ffmpeg_path(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(source),
            "-ac",
            "1",
            "-c:a",
            "pcm_s16le",
            str(partial),
        ],
        capture_output=True,
        timeout=120,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise VoiceError("the voice endpoint's audio could not be converted to WAV")
    partial.replace(target)
