"""A storyboarded video's scorecard: scenes first try, repair turns per scene, the voice against the picture
in frames, model time at once and one after another; for `new --storyboard`, and summed in a batch."""

from __future__ import annotations

import json
from pathlib import Path

from vidgen.agent import story, story_demo
from vidgen.batch import file as batchfile
from vidgen.batch import report, runner
from vidgen.batch.manifest import Manifest, path_for
from vidgen.engine.session import Session
from vidgen.media import probe as media
from vidgen.model.scripted import ScriptedModel
from vidgen.settings import Limits
from vidgen.sound import narration
from vidgen.workspace import resources

from .helpers import model


def _timeline() -> narration.Timeline:
    scenes = tuple(narration.Scene(i, "x", "", start, 30, 20, ()) for i, start in (("a", 0), ("b", 30), ("c", 60)))
    return narration.Timeline(30, scenes)


def test_the_drift_is_where_each_line_is_heard_against_its_scene_s_first_frame() -> None:
    timeline = _timeline()
    on_cue = media.Sound("aac", 3.0, -5.0, ((0.7, 1.0), (1.7, 2.0), (2.7, 3.0)))
    assert narration.picture_drift(timeline, on_cue, [0.0, 0.0, 0.0]) == 0
    late = media.Sound("aac", 3.0, -5.0, ((0.7, 1.0), (1.7, 2.2), (2.7, 3.0)))  # scene c's line heard 0.2 s late
    assert narration.picture_drift(timeline, late, [0.0, 0.0, 0.0]) == 6
    assert narration.picture_drift(timeline, late, [0.0, 0.0, 0.2]) == 0  # its clip starts with 0.2 s of silence
    early = media.Sound("aac", 3.0, -5.0, ((0.6, 0.9), (2.7, 3.0)))  # a's gap ends before b: b's line runs on
    assert narration.picture_drift(timeline, early, [0.0, 0.0, 0.0]) == 0


CARD = {
    "turns": 1,
    "scenes": {},
    "scene_count": 4,
    "scenes_first_try": 3,
    "repair_turns": {"plan": 0, "scenes": 2, "end": 0, "voice": 0},
    "scenes_model_s": 8.0,
    "scenes_wall_s": 2.0,
    "model_s_at_once": 6.5,
    "model_s_one_by_one": 10.5,
    "drift_frames": 0,
    "scene_drift_frames": 0.4,
}


def test_a_batch_scorecard_sums_its_storyboarded_videos_and_ignores_a_damaged_entry(tmp_path: Path) -> None:
    other = {**CARD, "scene_count": 3, "scenes_first_try": 3, "repair_turns": {"a": 0}, "scene_drift_frames": 0.8}
    damaged = {"scene_count": "4", "repair_turns": ["x"], "scene_drift_frames": True, "model_s_at_once": None}
    entries = [
        {"name": "one", "status": "rendered", "attempts": [{"stage": None}], "storyboard": CARD},
        {"name": "two", "status": "rendered", "attempts": [{"stage": None}], "storyboard": other},
        {"name": "three", "status": "failed", "attempts": [{"stage": "render"}], "storyboard": damaged},
        {"name": "four", "status": "rendered", "attempts": [{"stage": None}]},
    ]
    card = runner.scorecard(entries)
    assert card["storyboard"] == {
        "videos": 3,
        "scenes": 7,
        "scenes_first_try": 6,
        "repair_turns": 2,
        "max_scene_drift_frames": 0.8,
        "model_s_at_once": 13.0,
        "model_s_one_by_one": 21.0,
    }
    line = runner.describe_scorecard(card)
    assert "storyboarded 3: scenes first try 6/7, 2 scene repair turns, voice vs picture at most 0.8 frames" in line
    assert "model 13.0 s at once (21.0 s one after another)" in line
    assert runner.scorecard(entries[3:])["storyboard"] is None
    page = report.write(tmp_path / "r.html", "long", tmp_path, entries, {}, 1.0, runner.describe_scorecard(card))
    html = page.read_text()
    assert "storyboard: 3/4 scenes first try; repair turns: scenes 2; voice vs picture at most 0.4 frames" in html
    assert html.count("storyboard: ") == 2  # the damaged entry's card is left out, the page still written


def test_the_shipped_long_ideas_are_five_storyboarded_items_of_45_to_120_seconds() -> None:
    items, problems = batchfile.read(resources.prompts_dir() / "examples" / "long-ideas.yaml", Limits())
    assert problems == [] and len(items) == 5
    assert all(45 <= (i.shape.seconds or 0) <= 120 for i in items)
    assert all(story.wanted(i.storyboard, i.shape.seconds, 20) for i in items)
    items, problems = batchfile.read(_write(Path("/tmp"), '{"prompt": "p", "storyboard": "maybe"}\n'), Limits())
    assert [str(p) for p in problems] == ["line 1: 'storyboard' must be true or false"]


def _write(folder: Path, text: str) -> Path:
    path = folder / f"vidgen-story-{abs(hash(text))}.jsonl"
    path.write_text(text)
    return path


def test_a_batch_item_with_storyboard_is_planned_and_scored_scene_by_scene(session: Session, fresh, tmp_path: Path) -> None:
    video = fresh("story-batch")
    lines = {"intro": "One.", "middle": "Two.", "outro": "Three."}
    # The scenes get no reply at all: the item fails alone before any render, its scenes counted as not first try.
    script = story_demo.StoryScript([json.dumps(story_demo.board(lines))], {})
    batch = tmp_path / "long.jsonl"
    batch.write_text(json.dumps({"prompt": "three tiny scenes", "name": video.name, "storyboard": True, "size": "640x360"}))
    items, _ = batchfile.read(batch, Limits())
    manifest = Manifest(path_for(session.workspace, batch), batch)
    work = runner.plan(session.workspace, items, manifest, resume=False, retry_failed=False)
    with ScriptedModel(script) as server:
        run = runner.BatchRun(session, model(server), manifest, 1, 0, lambda *_: None)
        done = [future.result() for future in run.start(work.run)]
        run.shutdown()
    assert [d.status for d in done] == ["failed"]
    assert script.asked[0] == "storyboard" and set(script.asked[1:]) == set(lines)  # planned, then each scene asked
    entry = manifest.get(items[0].key)
    assert "scenes/" in entry["error"]["message"] and "the model gave no reply" in entry["error"]["message"]
    card = Manifest(manifest.path, batch).get(items[0].key)["storyboard"]  # as a later report reads it back
    assert (card["turns"], card["scene_count"], card["scenes_first_try"], card["scene_drift_frames"]) == (1, 3, 0, None)
    assert runner.scorecard([entry])["storyboard"]["scenes"] == 3
