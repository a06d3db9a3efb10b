"""Word frames from espeak-ng's own word events (the offline voice), and the proportional split as the
fallback that says so: what narration.ts tells a scene about when each word is heard."""

from __future__ import annotations

import json
from pathlib import Path

from vidgen.settings import VoiceSettings
from vidgen.sound import narration, voice, word_timing
from vidgen.workspace.project import Workspace

# Two sentences with a long pause between them: a split by characters cannot know the pause, the voice does.
LINE = "Wait. Now listen to the words that come after this long pause, spoken quickly."


def _video(tmp_path: Path, text: str = LINE):
    root = tmp_path / "ws"
    (root / "src" / "videos" / "talk").mkdir(parents=True)
    video = Workspace(root).video("talk")
    video.entry.write_text("export const config = {durationInFrames: 1, fps: 30, width: 640, height: 360};\n")
    (video.folder / "narration.json").write_text(json.dumps([{"id": "only", "text": text}]))
    return video


def test_espeak_words_time_the_frames_inside_the_clip(tmp_path: Path) -> None:
    video = _video(tmp_path)
    timeline = narration.prepare(video, VoiceSettings(), tmp_path / "cache")
    assert isinstance(timeline, narration.Timeline)
    scene = timeline.scenes[0]
    assert scene.timing == "espeak" and timeline.word_timing == "espeak"
    clip = voice.measure(video.workspace.root / "public" / scene.audio)
    program = tmp_path / "program.wav"  # the same sound as the espeak-ng program's, byte for byte: only the events are new
    voice.Espeak()._program(LINE, program)
    assert program.read_bytes() == clip.path.read_bytes()
    frames = [frame for _, frame in scene.words]
    assert [word for word, _ in scene.words] == LINE.split()
    assert frames == sorted(frames) and frames[0] == 0  # monotonic, from the first sound
    assert all(0 <= f < clip.duration_s * 30 for f in frames)  # every word inside the clip
    assert frames[-1] < scene.speech_frames  # the last word starts before the line's last sound
    split = narration.words_at(LINE, clip.voiced_s, 30)
    assert frames != [f for _, f in split]  # the voice's times, not the split's
    # "Now" comes after the sentence's pause: the voice puts it later than the characters would
    assert frames[1] > split[1][1]
    module = (video.folder / "narration.ts").read_text()
    assert 'export const WORD_TIMING: "espeak" | "proportional" = "espeak";' in module
    assert f'{{text: "Now", frame: {frames[1]}}}' in module
    # captions start at their first word's event: the second sentence's first phrase at "Now"
    assert scene.phrases[1].text.startswith("Now") and round(scene.phrases[1].start_s * 30) >= frames[1] - 1


def test_without_word_events_the_split_is_used_and_says_so(tmp_path: Path) -> None:
    video = _video(tmp_path)
    cache = tmp_path / "cache"
    first = narration.prepare(video, VoiceSettings(), cache)
    assert isinstance(first, narration.Timeline)
    events = next(cache.glob("*.words.json"))
    for damaged in ('{"words": [["a", 1]]}', "[", '{"words": []}', json.dumps({"words": [[0, 5]] * 3}) + "x"):
        events.write_text(damaged)  # the cache is read as untrusted: a damaged entry is no events
        again = narration.prepare(video, VoiceSettings(), cache)
        assert isinstance(again, narration.Timeline)
        assert again.scenes[0].timing == "proportional" and again.word_timing == "proportional"
        clip = voice.measure(next(cache.glob("*.wav")))
        assert list(again.scenes[0].words) == narration.words_at(LINE, clip.voiced_s, 30)
        assert 'WORD_TIMING: "espeak" | "proportional" = "proportional";' in (video.folder / "narration.ts").read_text()


def test_a_word_without_its_own_event_starts_with_the_next_one_heard(tmp_path: Path) -> None:
    wav = tmp_path / "line.wav"
    text = "Ten — 1,000 ok"
    # espeak-ng reports nothing for the dash and two words ("one", "thousand") for 1,000
    word_timing.events_path(wav).write_text(json.dumps({"rate": 22050, "words": [[0, 0], [6, 400], [7, 650], [12, 900]]}))
    assert word_timing.from_events(text, wav, 1.2) == (0.0, 0.4, 0.4, 0.9)
    assert word_timing.from_events(text, wav, 0.5) == (0.0, 0.4, 0.4, 0.5)  # never past the line's last sound
    assert word_timing.frames(text, (0.0, 0.4, 0.4, 0.9), 30) == [("Ten", 0), ("—", 12), ("1,000", 12), ("ok", 27)]
