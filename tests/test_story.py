"""A storyboarded video: the plan checked like any reply, every scene from its own model call, a broken scene
repaired alone, and each scene exactly as long as its spoken line (plus the gap)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from vidgen.agent import story, story_demo, story_files
from vidgen.agent.story_files import Frame
from vidgen.agent.storyboard import parse
from vidgen.engine.session import Session
from vidgen.errors import StructuredError
from vidgen.media import probe as media
from vidgen.model.scripted import ScriptedModel
from vidgen.sound import narration, voice
from vidgen.workspace.project import Workspace

from .helpers import model, model_flags, vidgen

LINES = {"intro": "One.", "middle": "Two.", "outro": "Three."}
BOARD = json.dumps(story_demo.board(LINES), indent=2)
TINY = Frame(640, 360, 30)


def _scripts(middle_breaks: bool = True, delay_s: float = 0.0) -> story_demo.StoryScript:
    sources = {scene_id: [story_demo.scene_source(scene_id)] for scene_id in LINES}
    if middle_breaks:
        sources["middle"].insert(0, story_demo.scene_source("middle", bug=True))
    return story_demo.StoryScript([BOARD], sources, delay_s=delay_s)


def _workspace(tmp_path: Path) -> Workspace:
    (tmp_path / "src" / "videos").mkdir(parents=True)
    return Workspace(tmp_path)


def test_a_refused_storyboard_goes_back_with_its_one_line_error(tmp_path: Path) -> None:
    hostile = json.dumps({**json.loads(BOARD), "scenes": [{"id": "../../x"}] * 3})
    script = story_demo.StoryScript([hostile, BOARD], {})
    video = _workspace(tmp_path).video("talk")
    outcome = story.StoryResult("talk")
    with ScriptedModel(script) as server:
        board = story.plan(model(server), video, "an idea", TINY, None, 2, outcome)
    assert board is not None and [s.id for s in board.scenes] == list(LINES)
    assert outcome.storyboard_turns == 2 and script.asked == ["storyboard", "storyboard"]
    sent = server.requests[-1]["body"]["messages"]
    assert sent[-1]["role"] == "user"
    assert (
        sent[-1]["content"].startswith("storyboard.json line ")
        and "scenes[0]: must be an object with exactly" in sent[-1]["content"]
    )
    assert "../../x" not in sent[-1]["content"]
    request = sent[0]["content"]  # the plan's prompt names the shipped fonts and the frame
    assert '"Inter" and "Roboto Mono"' in request and "640x360" in request


def test_a_storyboard_that_is_never_valid_fails_without_a_scene(tmp_path: Path) -> None:
    script = story_demo.StoryScript(["[]", "{}"], {})
    outcome = story.StoryResult("talk")
    with ScriptedModel(script) as server:
        board = story.plan(model(server), _workspace(tmp_path).video("talk"), "an idea", TINY, None, 1, outcome)
    assert board is None and not outcome.ok
    assert outcome.error is not None and outcome.error.one_line().count("\n") == 0
    assert "storyboard.json line 1" in outcome.error.message


def test_the_root_plays_each_scene_for_its_narration_and_errors_find_their_scene(tmp_path: Path) -> None:
    board = parse(BOARD)
    root = story_files.root_tsx(board, TINY)
    assert "import SceneMiddle from './scenes/middle';" in root
    assert "durationInFrames: totalFrames, fps: 30, width: 640, height: 360" in root
    assert "<Series.Sequence key={scene.id} durationInFrames={scene.durationInFrames}>" in root
    assert '"accent": "#f7b733"' in story_files.design_ts(board.design)
    spoken = tuple(
        narration.Scene(s.id, s.narration, "", start, 30, 20, ()) for s, start in zip(board.scenes, (0, 30, 60), strict=True)
    )
    timeline = narration.Timeline(30, spoken)
    at_file = StructuredError("typecheck", "bad", file="scenes/outro.tsx", line=3)
    at_frame = StructuredError("stills", "threw", frame=45)
    elsewhere = StructuredError("typecheck", "bad", file="index.tsx")
    assert story.scene_of(board, timeline, at_file) == board.scene("outro")
    assert story.scene_of(board, timeline, at_frame) == board.scene("middle")
    assert story.scene_of(board, timeline, elsewhere) is None


def test_colours_outside_the_palette_are_flagged_by_line(tmp_path: Path) -> None:
    board = parse(BOARD)
    video = _workspace(tmp_path).video("talk")
    story_files.write(video, board, TINY)
    (video.folder / "scenes" / "intro.tsx").write_text("const a = '#F7B733';\nconst b = '#fff';\nconst c = '#ff0000';\n")
    (video.folder / "scenes" / "middle.tsx").write_text(story_demo.scene_source("middle"))
    warnings = story_files.off_palette(video, board)
    assert warnings == [
        "scenes/intro.tsx line 3: a colour outside the storyboard's palette; use design.palette from ../design"
    ]  # #fff is the palette's #ffffff; the placeholder outro and the demo scene use only the design


def test_scenes_are_built_at_once_and_a_broken_one_is_repaired_alone(session: Session, fresh) -> None:
    video = fresh("story-tiny")
    script = _scripts(delay_s=1.0)  # each scene reply takes a second: three at once take about one
    outcome = story.StoryResult(video.name)
    with ScriptedModel(script) as server:
        client = model(server)
        board = story.plan(client, video, "three tiny scenes", TINY, None, 2, outcome)
        assert board is not None
        story.build(session, client, video, board, TINY, outcome, jobs=3, max_repairs=2, render=True)
    assert outcome.ok, outcome.error
    turns = {scene_id: t.turns for scene_id, t in outcome.scenes.items()}
    assert turns == {"intro": 1, "middle": 2, "outro": 1}
    assert sorted(script.asked) == ["intro", "middle", "middle", "outro", "storyboard"]
    # The repair request holds the storyboard and the middle scene only: no other scene's code or request.
    repair = server.requests[script.asked.index("middle", script.asked.index("middle") + 1)]["body"]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "scenes/middle.tsx" in repair[-1]["content"] and "typecheck" in repair[-1]["content"]
    sent = json.dumps(repair)
    assert "sceneById('intro')" not in sent and "sceneById('outro')" not in sent
    assert 'Your scene: \\"intro\\"' not in sent and 'Your scene: \\"outro\\"' not in sent
    # Each scene lasts its measured line plus the gap, to the frame; the video is their sum.
    timeline = narration.prepare(video, session.settings.voice, session.workspace.state_dir / "voice")
    assert isinstance(timeline, narration.Timeline)
    gap = session.settings.voice.gap_s
    for spoken in timeline.scenes:
        clip = voice.measure(video.workspace.root / "public" / spoken.audio)
        assert spoken.frames == math.ceil((clip.duration_s + gap) * 30)
    assert outcome.result is not None and outcome.result.output is not None
    probed = media.probe(outcome.result.output, video.workspace)
    assert probed.frames == timeline.total_frames == sum(s.frames for s in timeline.scenes)
    assert (probed.width, probed.height) == (640, 360)
    summary = outcome.to_json()["storyboard"]
    assert summary["scenes"]["middle"] == {**summary["scenes"]["middle"], "turns": 2, "repairs": 1, "first_try": False}
    assert summary["scenes"]["intro"]["first_try"] is True
    assert summary["drift_frames"] == 0
    assert summary["scenes_model_s"] >= 4.0 and summary["scenes_wall_s"] < 2.5  # 4 scene turns; the first 3 at once
    assert outcome.model_turns() == 5
    # The scorecard: scenes first try, repair turns per scene, the voice heard on each scene's first frame
    # (to within a frame, measured in the rendered sound), and the model time at once and one after another.
    assert (summary["scenes_first_try"], summary["scene_count"]) == (2, 3)
    assert summary["repair_turns"] == {"intro": 0, "middle": 1, "outro": 0}
    # Under a frame: 1.28 before the MP4 skipped the AAC priming (media/sound_sync.py).
    assert summary["scene_drift_frames"] is not None and summary["scene_drift_frames"] < 1.0, summary["scene_drift_frames"]
    assert summary["model_s_one_by_one"] - summary["model_s_at_once"] > 1.5  # two of the three first replies overlapped
    assert story.describe(summary).startswith("storyboard: 2/3 scenes first try; repair turns: middle 1; voice vs picture")


def test_new_plans_a_storyboard_over_min_seconds_and_storyboard_prints_it(workspace: Workspace, fresh) -> None:
    video = fresh("story-cli")
    with ScriptedModel(_scripts(middle_breaks=False)) as server:
        args = ["new", "tiny story", "--name", video.name, "--seconds", "25", "--size", "640x360", "--no-render"]
        done = vidgen(*args, "--json", *model_flags(server), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["storyboard"]["turns"] == 1
    assert all(s["first_try"] for s in result["storyboard"]["scenes"].values())
    assert "1. intro (~2 s): scene 1" in done.stderr  # the storyboard is shown before the scenes are built
    shown = vidgen("storyboard", video.name, cwd=workspace.root)
    assert shown.returncode == 0 and shown.stdout.startswith("How vidgen builds a longer video\n")
    (video.folder / "storyboard.json").write_text('{"title": "x", "title": "y"}')
    broken = vidgen("storyboard", video.name, cwd=workspace.root)
    assert broken.returncode != 0 and broken.stderr.count("\n") == 1 and "a key twice" in broken.stderr
