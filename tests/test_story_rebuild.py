"""`vidgen storyboard NAME --rebuild`: a storyboard edited by hand is read as hostile input, and only the
scenes whose entries changed are asked for again and re-spoken; the user's files are kept as a version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidgen.agent import story, story_demo, story_edit, story_files, story_rebuild
from vidgen.agent.story_files import Frame
from vidgen.agent.storyboard import parse
from vidgen.engine.session import Session
from vidgen.model.scripted import ScriptedModel
from vidgen.sound import narration
from vidgen.workspace import history
from vidgen.workspace.project import Video, Workspace

from .helpers import assert_one_line_error, model, vidgen

LINES = {"intro": "One.", "middle": "Two.", "outro": "Three."}
TINY = Frame(640, 360, 30)


def _built(video: Video) -> dict:
    """A video as a build leaves it: storyboard, derived files, each scene's file, and the last built storyboard."""
    board = parse(json.dumps(story_demo.board(LINES)))
    story_files.write(video, board, TINY)
    for scene in board.scenes:
        (video.folder / scene.file).write_text(story_demo.scene_source(scene.id))
    story_files.keep_built(video, board, TINY)
    return json.loads((video.folder / "storyboard.json").read_text())


def _edit(video: Video, data: dict) -> None:
    (video.folder / "storyboard.json").write_text(json.dumps(data, indent=2))


def test_only_new_changed_or_unwritten_scenes_are_touched(tmp_path: Path) -> None:
    (tmp_path / "src" / "videos").mkdir(parents=True)
    video = Workspace(tmp_path).video("talk")
    data = _built(video)
    assert story_rebuild.changes(video).nothing
    data["design"]["palette"]["accent"] = "#00aa00"  # design.ts changes; no scene is asked for
    data["title"] = "Another title"
    _edit(video, data)
    assert story_rebuild.changes(video).nothing
    intro, middle, outro = data["scenes"]
    middle = {**middle, "narration": "Two and a bit."}
    extra = {**intro, "id": "extra", "narration": "A new scene."}
    _edit(video, {**data, "scenes": [middle, intro, extra]})  # reordered, one changed, one new, one removed
    found = story_rebuild.changes(video)
    assert (found.touched, found.removed, found.compared, found.frame) == (("middle", "extra"), ("outro",), True, TINY)
    (video.folder / "scenes" / "intro.tsx").unlink()  # a scene whose file is gone is built again
    assert story_rebuild.changes(video).touched == ("middle", "intro", "extra")
    for damaged in ("{", json.dumps({"frame": {"width": True, "height": 1, "fps": 1}, "storyboard": {}}), "[" * 50_000):
        (video.folder / story_files.BUILT).write_text(damaged)  # nothing to trust: every scene, the root's frame
        found = story_rebuild.changes(video)
        assert (found.touched, found.compared, found.frame) == (("middle", "intro", "extra"), False, TINY)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda text: text.replace('"id": "middle"', '"id": "../../etc/passwd"'), "scenes[1].id: must match"),
        (lambda text: text.replace('"title": ', '"title": "x", "title": '), "a key twice"),
        (lambda text: text.replace('"One."', json.dumps("x" * 500)), "scenes[0].narration: must be 1 to 400 characters"),
        (lambda text: text[: len(text) // 2], "is not valid JSON"),
        (lambda text: text + " " * 70_000, "over 64 KiB"),
    ],
)
def test_a_bad_hand_edit_is_one_line_and_changes_nothing(workspace: Workspace, fresh, change, fragment: str) -> None:
    video = fresh("story-hand-edit")
    _built(video)
    text = change((video.folder / "storyboard.json").read_text())
    (video.folder / "storyboard.json").write_text(text)
    before = {p.name: p.read_bytes() for p in video.folder.rglob("*") if p.is_file()}
    done = vidgen("storyboard", video.name, "--rebuild", "--provider", "ollama", cwd=workspace.root)
    assert_one_line_error(done, 2, "storyboard.json", fragment, "fix it and run again (nothing was changed)")
    assert "passwd" not in done.stderr and "x" * 50 not in done.stderr  # nothing of the file is quoted back
    assert {p.name: p.read_bytes() for p in video.folder.rglob("*") if p.is_file()} == before


def test_a_storyboard_that_is_a_link_is_refused(workspace: Workspace, fresh, tmp_path: Path) -> None:
    video = fresh("story-hand-link")
    _built(video)
    secret = tmp_path / "secret.json"
    secret.write_text((video.folder / "storyboard.json").read_text())
    (video.folder / "storyboard.json").unlink()
    (video.folder / "storyboard.json").symlink_to(secret)
    done = vidgen("storyboard", video.name, "--rebuild", cwd=workspace.root)
    assert_one_line_error(done, 2, "storyboard.json: is missing or not a plain file", "nothing was changed")


def test_a_rebuild_asks_only_for_the_changed_scenes_and_re_speaks_only_their_lines(session: Session, fresh) -> None:
    video = fresh("story-rebuild")
    data = _built(video)
    first = narration.prepare(video, session.settings.voice, session.workspace.state_dir / "voice")
    assert isinstance(first, narration.Timeline)
    intro, middle, _outro = data["scenes"]
    extra = {**intro, "id": "extra", "narration": "A new scene at the end."}
    _edit(video, {**data, "scenes": [intro, {**middle, "narration": "Two, said again."}, extra]})
    # The user also broke the intro's code by hand: it is not asked for, until the checks find its error.
    (video.folder / "scenes" / "intro.tsx").write_text(story_demo.scene_source("intro", bug=True))
    sources = {s: [story_demo.scene_source(s)] for s in ("middle", "extra", "intro")}
    script = story_demo.StoryScript([], sources)
    outcome = story.StoryResult(video.name)
    with ScriptedModel(script) as server:
        found = story_rebuild.changes(video)
        story_rebuild.rebuild(session, model(server), video, found, outcome, jobs=2, max_repairs=1, render=False)
    assert outcome.ok, outcome.error
    assert sorted(script.asked[:2]) == ["extra", "middle"] and script.asked[2:] == ["intro"]  # intro only for its error
    repair = server.requests[2]["body"]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "const late: number = 'a string';" in repair[2]["content"]  # its own file, as it was on disk
    assert "scenes/intro.tsx" in repair[3]["content"] and "sceneById('middle')" not in str(repair)
    card = outcome.scorecard()
    assert (card["scene_count"], card["scenes_first_try"], card["repair_turns"]) == (3, 2, {"middle": 0, "extra": 0, "intro": 1})
    assert not (video.folder / "scenes" / "outro.tsx").exists()  # removed; kept in the history
    assert any("scenes/outro.tsx" in v.files() for v in history.versions(video))  # `vidgen undo` gives it back
    again = narration.prepare(video, session.settings.voice, session.workspace.state_dir / "voice")
    assert isinstance(again, narration.Timeline)
    assert again.scenes[0].audio == first.scenes[0].audio  # the same line: the same clip
    assert again.scenes[1].audio != first.scenes[1].audio  # a new line: spoken again
    assert [s.id for s in again.scenes] == ["intro", "middle", "extra"]
    assert story_rebuild.changes(video).nothing  # what was built is now the last build


def test_edit_changes_the_storyboard_first_then_builds_only_the_scenes_it_touched(session: Session, fresh) -> None:
    video = fresh("story-edit")
    data = _built(video)
    intro, middle, outro = data["scenes"]
    extra = {**intro, "id": "recap", "narration": "So: one, two, three.", "purpose": "recap"}
    changed = {**data, "scenes": [intro, outro, middle, extra]}  # reordered, and a scene added at the end
    kept = {s: (video.folder / "scenes" / f"{s}.tsx").read_bytes() for s in LINES}
    script = story_demo.StoryScript(
        ["not json", json.dumps(changed), json.dumps(changed, indent=1)], {"recap": [story_demo.scene_source("recap")]}
    )
    outcome = story.StoryResult(video.name)
    with ScriptedModel(script) as server:
        done = story_edit.edit(
            session, model(server), video, "add a recap at the end", outcome, jobs=2, max_repairs=1, render=False
        )
        assert done is outcome and outcome.ok, outcome.error
        assert script.asked == ["storyboard", "storyboard", "recap"]  # a refused reply went back; then only the new scene
        request = server.requests[0]["body"]["messages"][0]["content"]
        assert "add a recap at the end" in request and '"narration": "Two."' in request
        assert server.requests[1]["body"]["messages"][-1]["content"].startswith("storyboard.json")  # its one-line error
        assert {s: (video.folder / "scenes" / f"{s}.tsx").read_bytes() for s in LINES} == kept
        root = (video.folder / "index.tsx").read_text()
        assert root.index("SceneOutro,") < root.index("SceneMiddle,") < root.index("SceneRecap]")  # the new order
        spoken = json.loads((video.folder / "narration.json").read_text())
        assert [line["id"] for line in spoken] == ["intro", "outro", "middle", "recap"]
        # The model sends the storyboard back as it is: nothing is built; the instruction is for the code.
        again = story.StoryResult(video.name)
        before = {p.name: p.read_bytes() for p in video.folder.rglob("*") if p.is_file()}
        brighter = "make it brighter"
        assert story_edit.edit(session, model(server), video, brighter, again, jobs=2, max_repairs=1, render=False) is None
        assert {p.name: p.read_bytes() for p in video.folder.rglob("*") if p.is_file()} == before
        assert script.asked[-1] == "storyboard" and again.scenes == {}


def test_edit_on_a_storyboarded_video_whose_storyboard_is_damaged_stops_before_the_model(workspace: Workspace, fresh) -> None:
    video = fresh("story-edit-damaged")
    _built(video)
    (video.folder / "storyboard.json").write_text('{"title": "secret-ish", "title": 2}')
    done = vidgen(
        "edit", video.name, "add a scene", "--provider", "ollama", "--base-url", "http://127.0.0.1:9", cwd=workspace.root
    )
    assert_one_line_error(done, 2, "storyboard.json", "a key twice", f"or `vidgen undo {video.name}`")
    assert "secret-ish" not in done.stderr
