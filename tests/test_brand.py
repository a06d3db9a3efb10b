"""The workspace's brand kit (brand.json): every new storyboard's palette and fonts, and its logo in the scene
requests; read as hostile input, one line each; a colour outside it is flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidgen.agent import brand, prompts, story, story_demo, story_files
from vidgen.agent.story_files import Frame
from vidgen.errors import UsageError
from vidgen.model.scripted import ScriptedModel
from vidgen.sound import narration
from vidgen.workspace.project import Workspace

from .helpers import model

KIT = {"palette": {"background": "#101010", "text": "#fafafa", "accent": "#ff6600"}, "fonts": {"heading": "Roboto Mono"}}
LINES = {"intro": "One.", "middle": "Two.", "outro": "Three."}


def _workspace(tmp_path: Path, kit: object = KIT) -> Workspace:
    (tmp_path / "src" / "videos").mkdir(parents=True)
    (tmp_path / "public" / "brand").mkdir(parents=True)
    (tmp_path / "public" / "brand" / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "brand.json").write_text(kit if isinstance(kit, str) else json.dumps(kit, indent=2))
    return Workspace(tmp_path)


def test_new_storyboards_take_the_brand_s_palette_and_fonts_and_flag_others(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, {**KIT, "logo": "brand/logo.png"})
    video = ws.video("talk")
    script = story_demo.StoryScript([json.dumps(story_demo.board(LINES))], {})  # the model's own palette
    outcome = story.StoryResult("talk")
    with ScriptedModel(script) as server:
        board = story.plan(model(server), video, "an idea", Frame(640, 360, 30), None, 0, outcome)
    assert board is not None
    assert board.design.palette == KIT["palette"] and board.design.fonts == KIT["fonts"]
    request = server.requests[0]["body"]["messages"][0]["content"]
    assert '"accent": "#ff6600"' in request and 'staticFile("brand/logo.png")' in request
    story_files.write(video, board, Frame(640, 360, 30))
    (video.folder / "scenes" / "intro.tsx").write_text("const a = '#FF6600';\nconst b = '#f7b733';\n")  # the model's accent
    assert story_files.off_palette(video, board) == [
        "scenes/intro.tsx line 2: a colour outside the storyboard's palette; use design.palette from ../design"
    ]
    spoken = narration.Timeline(30, tuple(narration.Scene(s.id, s.narration, "", 0, 30, 20, ()) for s in board.scenes))
    values = story._scene_values(video, board, board.scenes[0], 0, spoken, Frame(640, 360, 30))
    assert 'staticFile("brand/logo.png")' in prompts.scene_request({**values, "logo": "brand/logo.png"})["content"]
    assert "logo" not in prompts.scene_request({**values, "logo": None})["content"]


@pytest.mark.parametrize(
    ("kit", "fragment"),
    [
        ("{", "brand.json is not valid JSON"),
        ("[" * 10_000, "brand.json is not valid JSON"),
        (" " * 20_000, "must be a plain file of at most 16 KiB"),
        ([], 'must be one object with "palette" and "fonts"'),
        ({**KIT, "extra": 1}, 'and optionally "logo"'),
        ({**KIT, "voice": "en-gb"}, "set it as [voice] voice in vidgen.toml"),
        ({**KIT, "palette": {"background": "red", "text": "#ffffff"}}, "palette.background: its colours must be #rrggbb"),
        ({**KIT, "palette": {"accent": "#ffffff"}}, 'must name a "background" and a "text"'),
        ({**KIT, "fonts": {"body": "Comic Sans"}}, "fonts.body: must be a shipped font"),
        ({**KIT, "logo": "../../etc/passwd"}, "logo: must be a path under public/"),
        ({**KIT, "logo": "brand/missing.png"}, "logo: no such plain file under public/"),
    ],
)
def test_a_bad_brand_kit_is_one_line_before_any_model_call(tmp_path: Path, kit: object, fragment: str) -> None:
    ws = _workspace(tmp_path, kit)
    with pytest.raises(UsageError) as caught:
        story.plan(model(_NoServer()), ws.video("talk"), "an idea", Frame(), None, 0, story.StoryResult("talk"))  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("brand.json") and "\n" not in message and fragment in message, message
    assert "passwd" not in message and "Comic" not in message and "red" not in message
    assert "remove it to plan without a brand" in message


def test_a_brand_kit_that_is_a_link_is_refused(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    (tmp_path / "elsewhere.json").write_text(json.dumps(KIT))
    (tmp_path / "brand.json").unlink()
    (tmp_path / "brand.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(UsageError, match="must be a plain file"):
        brand.read(ws.root)
    (tmp_path / "brand.json").unlink()
    assert brand.read(ws.root) is None  # no kit: the model designs freely


class _NoServer:
    """A model address nothing listens on: a test passes only if no call is made."""

    base_url = "http://127.0.0.1:9"
