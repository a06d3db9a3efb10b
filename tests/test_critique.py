"""The vision critique end to end: a scripted vision model on 127.0.0.1, real renders, real repairs."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from vidgen import settings
from vidgen.agent import critique, loop
from vidgen.engine.session import Session
from vidgen.errors import UsageError, VerdictError
from vidgen.model.client import ModelClient, ModelOptions
from vidgen.model.providers import Endpoint
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.workspace import transcript

from .helpers import MOVING, component, model_flags, reply, vidgen

GOOD = component(MOVING)
MOVED = component(MOVING.replace("top: 120", "top: 60"))
CLEAN = json.dumps({"matches_idea": True, "defects": []})
VISION_USAGE = {"prompt_tokens": 3000, "completion_tokens": 70}


def defects(*items: dict) -> str:
    return json.dumps({"matches_idea": False, "defects": list(items)})


def clients(server: ScriptedModel) -> tuple[ModelClient, critique.Critic]:
    endpoint = Endpoint("custom", server.base_url, None, False)
    code = ModelClient(endpoint, ModelOptions(model="scripted", backoff_base_s=0.01))
    vision = ModelOptions(model="scripted-vision", stream=False, response_format="json_object", backoff_base_s=0.01)
    return code, critique.Critic(ModelClient(endpoint, vision))


@pytest.mark.render
def test_defects_seen_on_the_sheet_become_a_repair_turn(session: Session, fresh) -> None:
    video = fresh("critique-repair")
    square = {"frame": 10, "problem": "the yellow square touches the top edge", "fix": "move it down to top: 60"}
    with ScriptedModel(
        [Scripted(reply(GOOD)), Scripted(reply(MOVED))],
        critique=[Scripted(defects(square), usage=VISION_USAGE), Scripted(CLEAN, usage=VISION_USAGE)],
    ) as server:
        code, critic = clients(server)
        outcome = loop.run(session, code, loop.Request("new", video, "a yellow square moving right"), critic=critic)
    assert outcome.ok, outcome.error
    assert [a.stage for a in outcome.attempts] == ["critique", None]
    assert "top: 60" in video.entry.read_text() and outcome.result.output.exists()

    # The vision request: the idea, the config, and the sheet as a PNG data URL of the sheet's size.
    asked = server.vision_requests
    assert len(asked) == 2
    body = asked[0]["body"]
    assert body["model"] == "scripted-vision" and body["response_format"] == {"type": "json_object"}
    text, image = body["messages"][0]["content"]
    assert text["type"] == "text" and "a yellow square moving right" in text["text"]
    assert "640x360" in text["text"] and "30 fps" in text["text"] and "30 frames" in text["text"]
    url = image["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    png = base64.b64decode(url.split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(outcome.result.sheet) as written, Image.open(io.BytesIO(png)) as sent:
        assert sent.size == written.size

    # The next code-model turn carries the defect and its frame.
    repair = server.code_requests[1]["body"]["messages"][-1]["content"]
    assert "critique" in repair and "frame 10" in repair and "touches the top edge" in repair and "top: 60" in repair
    # Critique tokens are counted with the code model's.
    assert outcome.usage.prompt_tokens == 2 * 1200 + 2 * 3000
    assert outcome.usage.completion_tokens == 2 * 400 + 2 * 70
    assert outcome.critique_s > 0 and not outcome.warnings
    assert [e["kind"] for e in transcript.read(video)] == ["new", "critique", "repair", "critique"]


@pytest.mark.render
def test_a_clean_verdict_ends_the_loop(session: Session, fresh) -> None:
    video = fresh("critique-clean")
    with ScriptedModel([Scripted(reply(GOOD))], critique=[Scripted(CLEAN)]) as server:
        code, critic = clients(server)
        outcome = loop.run(session, code, loop.Request("new", video, "a square"), critic=critic)
    assert outcome.ok and [a.stage for a in outcome.attempts] == [None]
    assert len(server.code_requests) == 1 and len(server.vision_requests) == 1


@pytest.mark.render
@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("The video looks great!", "not JSON"),
        (json.dumps({"matches_idea": False, "defects": "x"}), "defects is not a list"),
        (defects({"frame": "abc", "problem": "cut off", "fix": "smaller"}), "not a frame number"),
    ],
)
def test_a_malformed_verdict_is_a_warning_and_the_video_counts(session: Session, fresh, answer: str, why: str) -> None:
    video = fresh("critique-malformed")
    with ScriptedModel([Scripted(reply(GOOD))], critique=[Scripted(answer)]) as server:
        code, critic = clients(server)
        outcome = loop.run(session, code, loop.Request("new", video, "a square"), critic=critic)
    assert outcome.ok and outcome.result.status == "rendered" and outcome.result.output.exists()
    assert len(outcome.warnings) == 1 and why in outcome.warnings[0] and "ignored" in outcome.warnings[0]
    assert len(server.code_requests) == 1
    assert outcome.to_json()["warnings"] == outcome.warnings


@pytest.mark.render
def test_defects_with_no_repair_turn_left_are_a_warning(session: Session, fresh) -> None:
    video = fresh("critique-spent")
    found = defects({"frame": 5, "problem": "the square is too small", "fix": "make it 200 px"})
    with ScriptedModel([Scripted(reply(GOOD))], critique=[Scripted(found)]) as server:
        code, critic = clients(server)
        outcome = loop.run(session, code, loop.Request("new", video, "a square", max_repairs=0), critic=critic)
    assert outcome.ok and outcome.result.output.exists()
    assert "frame 5: the square is too small" in outcome.warnings[0]
    assert len(server.code_requests) == 1


@pytest.mark.render
def test_the_cli_flag_turns_the_critique_on_and_off(workspace, fresh) -> None:
    fresh("critique-cli")
    env = {"VIDGEN_CRITIQUE_MODEL": "scripted-vision"}
    with ScriptedModel([Scripted(reply(GOOD)), Scripted(reply(MOVED))], critique=[Scripted(CLEAN, usage=VISION_USAGE)]) as server:
        off = vidgen(
            "new",
            "a square",
            "--name",
            "critique-cli",
            "--no-critique",
            "--json",
            *model_flags(server),
            cwd=workspace.root,
            env=env,
        )
        assert off.returncode == 0, off.stderr
        assert server.vision_requests == []
        on = vidgen("edit", "critique-cli", "move it up", "--json", *model_flags(server), cwd=workspace.root, env=env)
    assert on.returncode == 0, on.stderr
    assert len(server.vision_requests) == 1
    payload = json.loads(on.stdout)
    assert payload["usage"]["prompt"] == 1200 + 3000 and payload["warnings"] == []
    assert "move it up" in server.vision_requests[0]["body"]["messages"][0]["content"][0]["text"]


def test_verdicts_are_checked_for_shape() -> None:
    verdict = critique.parse_verdict(
        '```json\n{"matches_idea": true, "defects": [{"frame": 3.0, "problem": " a  b ", "fix": null}]}\n```'
    )
    assert verdict.matches_idea and verdict.defects == [critique.Defect(3, "a b", "")]
    assert critique.parse_verdict('{"matches_idea": true}').ok
    for bad, why in [
        ("[1, 2]", "not a JSON object"),
        ('{"matches_idea": "yes"}', "matches_idea"),
        ('{"matches_idea": false, "defects": [{"frame": true, "problem": "x"}]}', "frame"),
        ('{"matches_idea": false, "defects": [{"frame": 1}]}', "no problem text"),
        ('{"matches_idea": false, "defects": ["x"]}', "not an object"),
        ("{" + " " * 30_000 + "}", "characters long"),
    ]:
        with pytest.raises(VerdictError, match=why):
            critique.parse_verdict(bad)
    many = critique.parse_verdict(json.dumps({"matches_idea": False, "defects": [{"problem": "p"}] * 50}))
    assert len(many.defects) == critique.MAX_DEFECTS
    error = critique.to_error(critique.Verdict(False, []), 30)
    assert error is not None and error.stage == "critique" and "does not show what was asked" in error.excerpt


def test_the_critique_is_on_only_where_a_vision_model_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAI_API_KEY", "k")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    for variable in ("VIDGEN_CRITIQUE", "VIDGEN_CRITIQUE_MODEL", "VIDGEN_API_KEY", "VIDGEN_BASE_URL", "VIDGEN_PROVIDER"):
        monkeypatch.delenv(variable, raising=False)
    base = settings.load(None)
    critic = critique.critic_for(base)
    assert critic is not None and critic.model == "glm-5v-turbo"
    body = critic.client.body([{"role": "user", "content": "x"}])
    assert body["response_format"] == {"type": "json_object"} and body["stream"] is False
    assert critique.critic_for(base, False) is None
    for provider, url in [("openai", ""), ("ollama", ""), ("zai-coding", ""), ("zai", "http://127.0.0.1:9/v1")]:
        off = settings.with_model(base, provider=provider, base_url=url)
        assert critique.critic_for(off) is None
        with pytest.raises(UsageError, match=r"\[critique\] model"):
            critique.critic_for(off, True)
    configured = settings.Settings(
        model=settings.ModelSettings(provider="openai"), critique=settings.CritiqueSettings(model="gpt-v")
    )
    assert critique.critic_for(configured).model == "gpt-v"
