"""storyboard.json: its schema, read as hostile input; each problem one line naming its line and field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from vidgen.agent import storyboard
from vidgen.errors import StoryboardError
from vidgen.sound import narration


def board(**changes: object) -> dict:
    """A valid storyboard of three scenes, with top-level fields replaced."""
    data = copy.deepcopy(storyboard.EXAMPLE)
    data["scenes"] = [dict(data["scenes"][0], id=i, narration=f"Line {i}.") for i in ("intro", "middle", "outro")]
    data.update(changes)
    return data


def scene(index: int, **changes: object) -> dict:
    data = board()
    data["scenes"][index].update(changes)
    return data


def design(**changes: object) -> dict:
    data = board()
    data["design"].update(changes)
    return data


def test_a_valid_storyboard_is_read_whole() -> None:
    read = storyboard.parse(json.dumps(board(), indent=2))
    assert read.title == "Why the sky is blue"
    assert [s.id for s in read.scenes] == ["intro", "middle", "outro"]
    assert read.design.fonts == {"heading": "Inter", "body": "Inter"}
    assert read.scenes[1].file == "scenes/middle.tsx"
    assert storyboard.Scene("intro-card", "", "", "", 1).component == "SceneIntroCard"
    assert storyboard.parse(read.to_json()) == read  # what vidgen writes, it reads back
    shown = storyboard.describe(read)
    assert "1. intro (~3 s): hook" in shown and "voice: Line middle." in shown


HUGE = "x" * 100_000


@pytest.mark.parametrize(
    ("data", "line", "where", "fragment"),
    [
        ("{", 1, "", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, None, "", "over 64 KiB"),
        ("[" * 20_000 + "]" * 20_000, None, "", "nested too deeply"),
        ('{"title": 1, "title": 2}', None, "", "a key twice"),
        ('{"title": NaN}', None, "", "NaN"),
        ([], 1, "", 'exactly "title", "design" and "scenes"'),
        (board(extra=1), 1, "", 'exactly "title"'),
        (board(title=["a"]), 2, "title", "must be a string, not a list"),
        (board(title=HUGE), None, "", "over 64 KiB"),
        (board(title="x" * 500), 2, "title", "1 to 120 characters (it has 500)"),
        (board(title="a\nb"), 2, "title", "control character"),
        (board(title="nul\x00"), 2, "title", "control character"),
        (board(scenes={"a": 1}), None, "scenes", "list of 3 to 12 scenes (is an object)"),
        (board(scenes=board()["scenes"][:2]), None, "scenes", "(has 2)"),
        (board(scenes=board()["scenes"] * 5), None, "scenes", "(has 15)"),
        (scene(1, id="../../etc/passwd"), None, "scenes[1].id", "must match"),
        (scene(1, id="Intro"), None, "scenes[1].id", "must match"),
        (scene(1, id=7), None, "scenes[1].id", "must be a string, not a number"),
        (scene(2, id="intro"), None, "scenes[2].id", "the id intro is used twice"),
        (scene(2, id="intro-"), None, "scenes[2].id", "names the same component (SceneIntro) as another"),
        (scene(0, narration=None), None, "scenes[0].narration", "not null"),
        (scene(0, narration="x" * 401), None, "scenes[0].narration", "1 to 400 characters"),
        (scene(0, on_screen="   "), None, "scenes[0].on_screen", "1 to 600 characters"),
        (scene(2, seconds=True), None, "scenes[2].seconds", "must be a number, not true/false"),
        (scene(2, seconds=1e9), None, "scenes[2].seconds", "from 1 to 60"),
        (scene(0, secret="x"), None, "scenes[0]", "exactly id, purpose"),
        (board(design=[]), None, "design", "exactly palette, fonts"),
        (design(palette={"background": "red", "text": "#ffffff"}), None, "design.palette.background", "#rrggbb"),
        (design(palette={"accent": "#ffffff"}), None, "design.palette", '"background" and a "text"'),
        (design(palette={"bad name": "#ffffff"}), None, "design.palette", "TypeScript identifier"),
        (design(fonts={"body": "Comic Sans"}), None, "design.fonts.body", "Inter or Roboto Mono"),
        (design(type_scale={"body": 2.5}), None, "design.type_scale.body", "whole pixels"),
        (design(spacing=[8, "16"]), None, "design.spacing", "list of 1 to 8"),
        (design(motion="wild"), None, "design.motion", "calm, lively, snappy"),
    ],
)
def test_hostile_storyboards_are_one_line_errors_at_their_line(data: object, line: int | None, where: str, fragment: str) -> None:
    text = data if isinstance(data, str) else json.dumps(data, indent=2)
    with pytest.raises(StoryboardError) as caught:
        storyboard.parse(text)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300, message
    assert fragment in message, message
    assert message.startswith("storyboard.json")
    assert caught.value.field == where
    if line is not None:
        assert caught.value.line == line
    if where.startswith("scenes["):  # a scene's error points at its own "id" line
        index = int(where[7])
        ids = [n + 1 for n, text_line in enumerate(text.splitlines()) if '"id":' in text_line]
        assert caught.value.line == ids[index]
    assert "passwd" not in message and "x" * 50 not in message  # nothing of the file is quoted back


def test_a_storyboard_that_is_a_link_or_missing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoryboardError, match="missing or not a plain file"):
        storyboard.read(tmp_path)
    (tmp_path / "elsewhere.json").write_text(json.dumps(board()))
    (tmp_path / "storyboard.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(StoryboardError, match="not a plain file"):
        storyboard.read(tmp_path)


def test_word_frames_split_the_measured_line_in_proportion() -> None:
    words = narration.words_at("One two three", 1.3, 30)
    assert [w for w, _ in words] == ["One", "two", "three"]
    assert [f for _, f in words] == [0, 11, 22]  # 4 and 8 of the 14 characters (with spaces) of 39 frames
