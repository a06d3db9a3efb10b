"""Narration as part of the video: the model writes `narration.json` (scenes of text), vidgen speaks each
line, measures it, and generates `narration.ts`, a typed module the video imports to place each line's
`<Audio>` and size its `Sequence`s. The picture is timed to the voice, not the other way round.

`narration.json` comes from the model: it is parsed as hostile input (types, sizes, names), and its
audio lands only in `public/<video>/narration/`, which vidgen owns.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..check import diagnostics
from ..check.constraints import config_fps
from ..errors import StructuredError, UsageError
from ..media import assets
from ..media import probe as media
from ..settings import VoiceSettings
from ..workspace.files import atomic_write
from ..workspace.project import NARRATION_MODULE, Video
from . import voice, word_timing

SOURCE = "narration.json"
MODULE = NARRATION_MODULE
MAX_SCENES = 40
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_PHRASE_END = re.compile(r"(?<=[.,;:!?])\s+")
MAX_PHRASE_WORDS = 7


@dataclass(frozen=True)
class Phrase:
    text: str
    start_s: float  # from the start of its scene
    end_s: float


@dataclass(frozen=True)
class Scene:
    id: str
    text: str
    audio: str  # as staticFile() takes it
    from_frame: int
    frames: int  # the scene's Sequence: the line, then the gap
    speech_frames: int  # until the last sound of the line
    phrases: tuple[Phrase, ...]
    words: tuple[tuple[str, int], ...] = ()  # each word and its first frame, from the start of its scene
    timing: str = word_timing.PROPORTIONAL  # where the word frames came from: the voice's events or a split


@dataclass(frozen=True)
class Timeline:
    fps: float
    scenes: tuple[Scene, ...]

    @property
    def total_frames(self) -> int:
        return sum(scene.frames for scene in self.scenes)

    @property
    def word_timing(self) -> str:
        """ "espeak" when every line's words were timed by the voice's own events, else "proportional"."""
        timings = {scene.timing for scene in self.scenes}
        return timings.pop() if len(timings) == 1 else word_timing.PROPORTIONAL


def wanted(video: Video) -> bool:
    return (video.folder / SOURCE).is_file()


def prepare(video: Video, settings: VoiceSettings, cache: Path) -> Timeline | StructuredError:
    """Speak every line (cached), place the audio, and (re)write narration.ts; or the error to repair."""
    lines = read(video)
    if isinstance(lines, StructuredError):
        return lines
    fps = config_fps(video.entry) or 30
    speaker = voice.voice_for(settings)
    target = video.workspace.root / "public" / video.name / "narration"
    scenes, start = [], 0
    keep: set[str] = set()
    for scene_id, text in lines:
        try:
            speech = voice.speak(speaker, text, cache)
        except UsageError as exc:
            return diagnostics.make("sound", f"scene {scene_id!r}: {exc}", video, file=video.folder / SOURCE)
        audio_name = f"{scene_id}-{speech.path.stem[:8]}.wav"
        keep.add(audio_name)
        assets.place(speech.path, target / audio_name, replace=True)  # the name carries the content's hash
        frames = math.ceil((speech.duration_s + settings.gap_s) * fps)
        speech_frames = min(frames, math.ceil(speech.voiced_s * fps))
        heard = word_timing.from_events(text, speech.path, speech.voiced_s)
        starts = heard or word_timing.proportional(text, speech.voiced_s)
        phrases = tuple(_phrases(text, speech.voiced_s, starts))
        words = tuple(word_timing.frames(text, starts, fps))
        timing = word_timing.ESPEAK if heard else word_timing.PROPORTIONAL
        audio = f"{video.name}/narration/{audio_name}"
        scenes.append(Scene(scene_id, text, audio, start, frames, speech_frames, phrases, words, timing))
        start += frames
    for stale in target.glob("*.wav") if target.is_dir() else ():
        if stale.name not in keep:
            stale.unlink(missing_ok=True)
    timeline = Timeline(fps, tuple(scenes))
    module = video.folder / MODULE
    text = typescript(timeline)
    if not module.is_file() or module.read_text(errors="replace") != text:
        atomic_write(module, text)
    return timeline


def read(video: Video) -> list[tuple[str, str]] | StructuredError:
    """The (id, text) lines of narration.json, or the error naming what is wrong and where."""
    path = video.folder / SOURCE

    def problem(message: str, line: int | None = None) -> StructuredError:
        return diagnostics.make("sound", message, video, file=path, line=line)

    if path.is_symlink() or not path.is_file():
        return problem(f"{SOURCE} must be a plain file in the video folder")
    if path.stat().st_size > 256 * 1024:
        return problem(f"{SOURCE} is over 256 KiB: narration is a few lines per scene")
    text = path.read_text(errors="replace")
    example = '[{"id": "intro", "text": "Welcome."}, {"id": "growth", "text": "Sales doubled."}]'
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return problem(f"{SOURCE} is not valid JSON ({exc.msg})", exc.lineno)
    except RecursionError:  # thousands of "[" fit well within the size limit
        return problem(f"{SOURCE} is nested too deeply: write a flat list of scenes, e.g. {example}")
    if not isinstance(data, list) or not data:
        return problem(f"{SOURCE} must be a list of scenes, e.g. {example}")
    if len(data) > MAX_SCENES:
        return problem(f"{SOURCE} has {len(data)} scenes, over {MAX_SCENES}: merge some")
    seen: set[str] = set()
    lines = []
    for index, scene in enumerate(data):
        at = _line_of_scene(text, index)
        if not isinstance(scene, dict) or set(scene) - {"id", "text"} or not {"id", "text"} <= set(scene):
            return problem(f'scene {index + 1} must be an object with exactly "id" and "text", e.g. {example}', at)
        scene_id, line = scene["id"], scene["text"]
        if not isinstance(scene_id, str) or not _ID.match(scene_id):
            return problem(f"scene {index + 1}'s id must be lowercase letters, digits and '-', e.g. \"intro\"", at)
        if scene_id in seen:
            return problem(f"scene id {scene_id!r} is used twice: give each scene its own id", at)
        if not isinstance(line, str) or not line.strip() or len(line) > voice.MAX_CHARS:
            return problem(f'scene {scene_id!r} needs a "text" of 1 to {voice.MAX_CHARS} characters', at)
        seen.add(scene_id)
        lines.append((scene_id, " ".join(line.split())))
    return lines


def typescript(timeline: Timeline) -> str:
    """The generated module: data only, typed, with one helper to find a scene by id."""
    scenes = ",\n".join(
        "  {"
        f"id: {json.dumps(s.id)}, text: {json.dumps(s.text)}, audio: staticFile({json.dumps(s.audio)}), "
        f"from: {s.from_frame}, durationInFrames: {s.frames}, speechInFrames: {s.speech_frames},\n"
        "    captions: ["
        + ", ".join(
            f"{{text: {json.dumps(p.text)}, startMs: {round(p.start_s * 1000)}, endMs: {round(p.end_s * 1000)}, "
            f"timestampMs: null, confidence: null}}"
            for p in s.phrases
        )
        + "],\n    words: ["
        + ", ".join(f"{{text: {json.dumps(word)}, frame: {frame}}}" for word, frame in s.words)
        + "]}"
        for s in timeline.scenes
    )
    return f"""// Generated by vidgen from narration.json on every check: change narration.json, not this file.
import {{staticFile}} from 'remotion';
import type {{Caption}} from '@remotion/captions';

export type NarrationScene = {{
  id: string;
  text: string;
  audio: string; // play with <Audio src={{scene.audio}} /> inside the scene's Sequence
  from: number; // the scene's first frame in the video
  durationInFrames: number; // the line, then a short pause: size the scene's Sequence with it
  speechInFrames: number;
  captions: Caption[]; // phrase by phrase, in ms from the start of the scene
  words: {{text: string; frame: number}}[]; // each word's first frame, from the start of the scene
}};

// How the word frames were found: "espeak" from espeak-ng's own word events, to the frame; "proportional"
// splits the measured line by its characters (a voice that reports no word times), so a word may come a few
// frames early or late. The line's length is measured either way.
export const WORD_TIMING: "espeak" | "proportional" = {json.dumps(timeline.word_timing)};

export const NARRATION_FPS = {timeline.fps:g};
export const scenes: NarrationScene[] = [
{scenes},
];
// The video's length: use it as config.durationInFrames.
export const totalFrames = {timeline.total_frames};

export const sceneById = (id: string): NarrationScene => {{
  const found = scenes.find((scene) => scene.id === id);
  if (!found) throw new Error(`narration.json has no scene '${{id}}'`);
  return found;
}};
"""


def srt(timeline: Timeline) -> str:
    """Captions as SubRip, one cue per phrase, at the times the video plays them."""
    cues, number = [], 1
    for scene in timeline.scenes:
        offset = scene.from_frame / timeline.fps
        for phrase in scene.phrases:
            cues.append(f"{number}\n{_srt_time(offset + phrase.start_s)} --> {_srt_time(offset + phrase.end_s)}\n{phrase.text}\n")
            number += 1
    return "\n".join(cues)


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _phrases(text: str, voiced_s: float, starts: tuple[float, ...]) -> list[Phrase]:
    """The line cut at punctuation (and every few words); each phrase from its first word's start to the next's."""
    pieces: list[list[int]] = []  # each phrase's word indexes
    index = 0
    for sentence in _PHRASE_END.split(text):
        count = len(sentence.split())
        size = math.ceil(count / max(1, math.ceil(count / MAX_PHRASE_WORDS)))  # even chunks: no lone last word
        pieces.extend(list(range(index + i, min(index + i + size, index + count))) for i in range(0, count, size))
        index += count
    words = text.split()
    phrases = []
    for n, piece in enumerate(pieces):
        end = starts[pieces[n + 1][0]] if n + 1 < len(pieces) else voiced_s
        phrase = " ".join(words[i] for i in piece)
        phrases.append(Phrase(phrase, round(starts[piece[0]], 3), round(max(end, starts[piece[0]]), 3)))
    return phrases


def words_at(text: str, voiced_s: float, fps: float) -> list[tuple[str, int]]:
    """Each word of a line and the frame it starts on: the measured line split in proportion to characters."""
    return word_timing.frames(text, word_timing.proportional(text, voiced_s), fps)


def _line_of_scene(text: str, index: int) -> int | None:
    """The line of the index-th `"id"` key, for a pointer into narration.json."""
    found = list(re.finditer(r'"id"\s*:', text))
    return text.count("\n", 0, found[index].start()) + 1 if index < len(found) else None


def length_problem(timeline: Timeline, frames: int) -> str | None:
    """The video must last as long as its narration: checked with the composition, before any frame."""
    if frames >= timeline.total_frames:
        return None
    return (
        f"config durationInFrames {frames} ({frames / timeline.fps:.1f} s) is shorter than the narration"
        f" ({timeline.total_frames / timeline.fps:.1f} s): use totalFrames from ./narration"
    )


def sound_problem(timeline: Timeline | None, heard: media.Sound, video_s: float, music: bool = False) -> str | None:
    """What is wrong with the rendered sound: missing, silent, cut short, or a line cut by its Sequence.

    Under music a cut line leaves no silence to find, so that check needs a narration-only video.
    """
    if heard.codec is None:
        what = (
            "each scene's audio with <Audio src={scene.audio} />" if timeline else "the music with <Audio src={MUSIC_SRC} loop />"
        )
        return f"the video has no sound although it should: play {what}"
    if heard.max_volume_db < SILENT_DB:
        return "the video's sound is silent: check that each <Audio> is rendered and not muted or at volume 0"
    if abs(heard.duration_s - video_s) > 0.25:
        return f"the sound lasts {heard.duration_s:.1f} s but the video {video_s:.1f} s"
    if timeline is None or music:
        return None
    for scene in timeline.scenes:
        start = scene.from_frame / timeline.fps
        speech_s = scene.speech_frames / timeline.fps
        # Just before the line's last sound: silent there means the line was cut before its end.
        probe = start + max(0.0, speech_s - 0.15)
        cut = next((s for s, e in heard.silences if start + 0.05 < s <= probe <= e), None)
        if cut is not None:
            return (
                f"scene {scene.id!r}'s narration lasts {speech_s:.1f} s but its Sequence is {cut - start:.1f} s:"
                f" use durationInFrames from ./narration (sceneById({json.dumps(scene.id)}).durationInFrames)"
            )
    return None


SILENT_DB = -50.0


def picture_drift(timeline: Timeline, heard: media.Sound, leads: list[float]) -> float:
    """The largest gap, in frames, between where a scene starts in the picture and where its line is heard
    in the rendered sound (less the silence its clip starts with, `leads`): 0 when the voice is on cue.

    A line is heard at the end of the silence around its scene's first frame; a scene whose start no
    silence reaches (the line before it runs on) is measured as on cue, which verify's cut check covers.
    """
    worst = 0.0
    for scene, lead in zip(timeline.scenes, leads, strict=True):
        start = scene.from_frame / timeline.fps
        onset = next((end for begin, end in heard.silences if begin <= start + 0.02 and end > start), start + lead)
        worst = max(worst, abs(onset - start - lead) * timeline.fps)
    return round(worst, 2)
