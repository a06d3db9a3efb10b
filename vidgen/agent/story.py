"""A longer video by storyboard: the model plans it (storyboard.json), the voice times it, and each scene is
its own file from its own model call, repaired alone.

`plan` asks for the storyboard and checks it like any reply; `build` writes what vidgen derives from it
(narration.json, design.ts, the root), speaks the lines, asks for every scene at once (at most `jobs`
calls in flight), then runs the ladder on the whole video: an error in a scene's file (or at a frame
inside its time) goes back to that scene's own conversation, which holds the storyboard and that scene
only, never the others' code.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..check import diagnostics
from ..check.constraints import Constraints
from ..engine.session import Session
from ..errors import ModelError, ReplyError, StoryboardError, StructuredError
from ..media import probe
from ..model.client import ModelClient
from ..sound import narration, voice
from ..workspace import history, transcript
from ..workspace.project import Video
from . import brand, loop, prompts, replies, story_files, writer
from .story_files import Frame
from .storyboard import Scene, Storyboard
from .storyboard import parse as parse_storyboard


@dataclass
class SceneTurns:
    """One scene's conversation and what it cost."""

    scene: Scene
    messages: list[dict[str, str]]
    spent: loop.LoopResult  # its own usage and model time: the scenes run on threads
    turns: int = 0  # model turns, the first included
    repairs: int = 0  # ladder errors sent back to it
    error: StructuredError | None = None  # its last reply could not be written
    first_s: float = 0.0  # model time until its first reply could be written (the part asked at once)
    asked: bool = True  # False: kept from the last build, its conversation started only for a repair

    @property
    def first_try(self) -> bool:
        """Its first reply was written and no error of the ladder came back to it."""
        return self.asked and self.turns == 1 and self.repairs == 0 and self.error is None

    @property
    def repair_turns(self) -> int:
        """Its turns after the first request: replies that could not be written, and the ladder's errors."""
        return max(0, self.turns - 1) if self.asked else self.turns

    def to_dict(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "repairs": self.repairs,  # ladder errors sent back; turns - 1 counts replies that could not be written too
            "first_try": self.first_try,
            "model_s": round(self.spent.model_s, 2),
        }


@dataclass
class StoryResult(loop.LoopResult):
    scenes: dict[str, SceneTurns] = field(default_factory=dict)
    scenes_wall_s: float = 0.0  # the scenes' first replies, asked at once
    storyboard_turns: int = 0
    drift_frames: int | None = None  # the composition's length less the narration's (0: the picture is the voice's)
    scene_drift_frames: float | None = None  # the largest gap between a scene's start and its line, heard in the render
    storyboard_s: float = 0.0  # model time of the storyboard's turns

    def model_turns(self) -> int:
        return self.storyboard_turns + sum(t.turns for t in self.scenes.values())

    def scorecard(self) -> dict[str, Any]:
        """The storyboard's part of a scorecard, for `new --storyboard --json`, the demo and each batch item."""
        model_s = sum(t.spent.model_s for t in self.scenes.values())
        later_s = sum(t.spent.model_s - t.first_s for t in self.scenes.values())  # repairs: one scene at a time
        return {
            "turns": self.storyboard_turns,
            "scenes": {scene_id: turns.to_dict() for scene_id, turns in self.scenes.items()},
            "scene_count": len(self.scenes),
            "scenes_first_try": sum(t.first_try for t in self.scenes.values()),
            "repair_turns": {scene_id: t.repair_turns for scene_id, t in self.scenes.items()},
            "scenes_model_s": round(model_s, 2),  # one call after another would have taken this long
            "scenes_wall_s": round(self.scenes_wall_s, 2),  # what it took, at once
            "model_s_at_once": round(self.storyboard_s + self.scenes_wall_s + later_s, 2),
            "model_s_one_by_one": round(self.storyboard_s + model_s, 2),
            "drift_frames": self.drift_frames,
            "scene_drift_frames": self.scene_drift_frames,
        }

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "storyboard": self.scorecard()}


def describe(card: dict[str, Any]) -> str:
    """A storyboard scorecard in one line for people."""
    repaired = ", ".join(f"{scene_id} {n}" for scene_id, n in card["repair_turns"].items() if n) or "none"
    drift = card["scene_drift_frames"]
    heard = f"; voice vs picture at most {drift:g} frames" if drift is not None else ""
    return (
        f"storyboard: {card['scenes_first_try']}/{card['scene_count']} scenes first try; repair turns: {repaired}{heard};"
        f" model {card['model_s_at_once']:.1f} s at once ({card['model_s_one_by_one']:.1f} s one after another)"
    )


def wanted(asked: bool, seconds: float | None, min_seconds: float) -> bool:
    """Whether a video is planned by storyboard: asked for, or a length over `[storyboard] min_seconds`."""
    return asked or (min_seconds > 0 and seconds is not None and seconds > min_seconds)


def plan(
    client: ModelClient,
    video: Video,
    idea: str,
    frame: Frame,
    seconds: float | None,
    max_repairs: int,
    outcome: StoryResult,
    on_event: loop.Events = loop._quiet,
) -> Storyboard | None:
    """The model's storyboard, checked; a refused one goes back with its one-line error, within the budget.

    None when every turn was refused (the last error is the outcome's).
    """
    kit = brand.read(video.workspace.root)  # before any model call: a bad brand.json is the user's to fix
    messages = [prompts.storyboard_request(idea, seconds, frame.width, frame.height, kit.describe() if kit else "")]
    board = ask_storyboard(client, video, messages, max_repairs, outcome, on_event)
    return kit.applied(board) if kit is not None and board is not None else board


def ask_storyboard(
    client: ModelClient,
    video: Video,
    messages: list[dict[str, str]],
    max_repairs: int,
    outcome: StoryResult,
    on_event: loop.Events = loop._quiet,
) -> Storyboard | None:
    """A storyboard from the conversation `messages` opens, each refused reply sent back with its error."""
    for attempt in range(max_repairs + 1):
        on_event("model", {"attempt": attempt + 1, "kind": "storyboard"})
        asked = outcome.model_s
        completion = loop.ask(client, messages, outcome, on_event)
        outcome.storyboard_s += outcome.model_s - asked
        outcome.storyboard_turns += 1
        entry = loop.keep_reply(video, "storyboard", client.options.model, messages[-2], completion)
        try:
            return parse_storyboard(_json_of(completion.content, video.name))
        except StoryboardError as exc:
            error = diagnostics.make("parse", str(exc), video, line=exc.line)
            transcript.settle(video, entry, error=error.to_dict())
            outcome.attempts.append(loop.Attempt(error.stage, error))
            on_event("attempt", {"attempt": attempt + 1, "error": error, "last": attempt == max_repairs})
            messages.append(
                {"role": "user", "content": f"{exc}\n\nSend the whole corrected storyboard.json in one fenced block."}
            )
    return None


def _json_of(reply: str, name: str) -> str:
    """The storyboard's text: its fenced block (```json storyboard.json), else the whole reply."""
    try:
        blocks = replies.parse(reply, name, require_index=False)
    except ReplyError:
        return reply.strip()
    named = [b for b in blocks if b.path == "storyboard.json"] or [b for b in blocks if b.language == "json"] or blocks
    return named[0].text


def build(
    session: Session,
    client: ModelClient,
    video: Video,
    board: Storyboard,
    frame: Frame,
    outcome: StoryResult,
    *,
    jobs: int = 3,
    max_repairs: int = 3,
    render: bool = True,
    idea: str = "",
    on_event: loop.Events = loop._quiet,
    only: frozenset[str] | None = None,
    recorded_as: str = "new",
) -> StoryResult:
    """Write, speak, generate every scene at once (or only the scenes `only` names: the others keep their
    files, and get a conversation only if an error comes back to them), then check and repair scene by scene."""
    kit = brand.read(video.workspace.root)
    story_files.write(video, board, frame)
    timeline = narration.prepare(video, session.settings.voice, session.workspace.state_dir / "voice")
    if isinstance(timeline, StructuredError):
        outcome.attempts.append(loop.Attempt(timeline.stage, timeline))
        return outcome
    lock = threading.Lock()

    def shown(kind: str, data: dict[str, Any]) -> None:
        with lock:
            on_event(kind, data)

    kept: dict[str, SceneTurns] = {}
    for index, scene in enumerate(board.scenes):
        values = _scene_values(video, board, scene, index, timeline, frame)
        opening = prompts.scene_request({**values, "logo": kit.logo if kit is not None else None})
        messages = [prompts.system(session.workspace), opening]
        if only is None or scene.id in only:
            outcome.scenes[scene.id] = SceneTurns(scene, messages, loop.LoopResult(video.name))
        else:  # its reply is the file it has: a repair continues from there
            messages.append({"role": "assistant", "content": story_files.fenced_scene(video, scene)})
            kept[scene.id] = SceneTurns(scene, messages, loop.LoopResult(video.name), asked=False)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="scene") as pool:
        written = list(pool.map(lambda t: _reply(client, video, t, max_repairs, shown), outcome.scenes.values()))
    outcome.scenes_wall_s = time.monotonic() - started
    for turns in outcome.scenes.values():
        turns.first_s = turns.spent.model_s
    request = loop.Request("new", video, idea, Constraints(fps=frame.fps, width=frame.width, height=frame.height), render=render)
    try:
        if all(written):
            story_files.keep_built(video, board, frame)
            _check_and_repair(session, client, request, board, timeline, outcome, max_repairs, shown, kept, recorded_as)
            if outcome.ok and outcome.result is not None and outcome.result.output is not None:
                outcome.scene_drift_frames = _heard_drift(video, timeline, outcome.result.output)
        else:
            failed = next(t.error for t in outcome.scenes.values() if t.error is not None)
            outcome.attempts.append(loop.Attempt(failed.stage if failed else None, failed))
    finally:
        for turns in outcome.scenes.values():
            outcome.usage.add(turns.spent.usage)
            outcome.model_s += turns.spent.model_s
            outcome.model = turns.spent.model or outcome.model
    return outcome


def _heard_drift(video: Video, timeline: narration.Timeline, output: Path) -> float | None:
    """How far the rendered voice is from the scenes' starts (narration.picture_drift); None without sound."""
    try:
        heard = probe.sound(output, video.workspace)
        leads = [voice.measure(video.workspace.root / "public" / scene.audio).lead_s for scene in timeline.scenes]
    except Exception:  # ffprobe's own errors included: the scorecard goes on without this number
        return None
    return narration.picture_drift(timeline, heard, leads)


def _scene_values(
    video: Video, board: Storyboard, scene: Scene, index: int, timeline: narration.Timeline, frame: Frame
) -> dict[str, object]:
    spoken = timeline.scenes[index]
    words = ", ".join(f"{word} {at}" for word, at in spoken.words)
    return {
        "name": video.name,
        "file": scene.file,
        "storyboard": board.to_json().strip(),
        "scene": scene,
        "scene_id_json": f'"{scene.id}"',
        "number": index + 1,
        "count": len(board.scenes),
        "frames": spoken.frames,
        "speech_frames": spoken.speech_frames,
        "fps": frame.fps,
        "seconds": f"{spoken.frames / frame.fps:.2f}",
        "width": frame.width,
        "height": frame.height,
        "words": words,
        "design": story_files.design_ts(board.design).strip(),
    }


def _reply(client: ModelClient, video: Video, turns: SceneTurns, max_repairs: int, on_event: loop.Events) -> bool:
    """Ask until the scene's reply can be written (its file and only its file), within its budget."""
    scene = turns.scene
    while turns.turns <= max_repairs:
        kind = f"scene {scene.id}" + (" repair" if turns.turns or not turns.asked else "")
        on_event("model", {"attempt": turns.turns + 1, "kind": kind})
        turns.turns += 1
        try:
            completion = loop.ask(client, turns.messages, turns.spent, on_event)
        except ModelError as exc:
            turns.error = diagnostics.make("parse", f"{scene.file}: the model gave no reply ({exc})", video)
            return False
        entry = loop.keep_reply(video, kind, client.options.model, turns.messages[-2], completion)
        try:
            blocks = replies.parse(completion.content, video.name, require_index=False)
            if [b.path for b in blocks] != [scene.file]:
                raise ReplyError(
                    "refused", f"send exactly one file, {scene.file}: vidgen writes the root, design.ts and narration"
                )
            writer.write(video, blocks)
            turns.error = None
            return True
        except ReplyError as exc:
            turns.error = diagnostics.make("parse", str(exc), video)
            transcript.settle(video, entry, error=turns.error.to_dict())
            turns.messages.append(prompts.repair(turns.error, format_problem=exc.kind != "refused"))
    return False


def scene_of(board: Storyboard, timeline: narration.Timeline, error: StructuredError) -> Scene | None:
    """The scene an error belongs to: its file, else the scene on screen at its frame; None when neither says."""
    for scene in board.scenes:
        if error.file == scene.file:
            return scene
    if error.file is None and error.frame is not None:
        for scene, spoken in zip(board.scenes, timeline.scenes, strict=True):
            if spoken.from_frame <= error.frame < spoken.from_frame + spoken.frames:
                return scene
    return None


def _check_and_repair(
    session: Session,
    client: ModelClient,
    request: loop.Request,
    board: Storyboard,
    timeline: narration.Timeline,
    outcome: StoryResult,
    max_repairs: int,
    on_event: loop.Events,
    kept: dict[str, SceneTurns],
    recorded_as: str,
) -> None:
    """The ladder on the whole video; each error goes to its scene alone, until it passes or a budget runs out."""
    video = request.video
    version = history.record(video, recorded_as, request.prompt, status="written")
    while True:
        outcome.result = loop.timed_check(session, request, outcome, on_event, sheet_now=False)
        error, composition = outcome.result.error, outcome.result.composition
        if composition is not None:
            outcome.drift_frames = composition.frames - timeline.total_frames
        history.update(version, status="ok" if error is None else f"failed at {error.stage}")
        outcome.attempts.append(loop.Attempt(error.stage if error else None, error, len(outcome.result.retried)))
        scene = scene_of(board, timeline, error) if error is not None else None
        if scene is not None and scene.id in kept:  # a scene kept from the last build: its conversation starts now
            outcome.scenes[scene.id] = kept.pop(scene.id)
        turns = outcome.scenes[scene.id] if scene is not None else None
        if error is None:
            for warning in story_files.off_palette(video, board):
                outcome.warnings.append(warning)
                on_event("warning", {"message": warning})
        if error is None or turns is None or turns.turns > max_repairs:
            return
        on_event("attempt", {"attempt": len(outcome.attempts), "error": error, "last": False})
        turns.repairs += 1
        turns.messages.append(prompts.repair(error, format_problem=False))
        if not _reply(client, video, turns, max_repairs, on_event):
            if turns.error is not None:
                outcome.attempts.append(loop.Attempt(turns.error.stage, turns.error))
            return
        version = history.record(video, "repair", "repair", status="written")
