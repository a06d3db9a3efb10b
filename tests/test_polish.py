"""Warnings reach the model: one polish turn after a passing video with warnings (never losing that video),
`--no-polish` to skip it, and `edit` carrying the warnings its last check left open."""

from __future__ import annotations

import json

import pytest

from vidgen.agent import loop
from vidgen.engine.session import Session
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.workspace import history, state, transcript
from vidgen.workspace import outputs as renders

from .helpers import component, model, model_flags, reply, vidgen

pytestmark = pytest.mark.render


def labelled(left: int, to: int = 500) -> str:
    """A square moving to `to` and a label `left` px from the left edge: at 4 px it is inside 16:9's safe margin (a warning)."""
    return component(
        f"""
        const x = interpolate(frame, [0, 29], [100, {to}], {{extrapolateRight: 'clamp'}});
        return (
          <AbsoluteFill style={{{{backgroundColor: '#203060'}}}}>
            <div style={{{{position: 'absolute', left: x, top: 220, width: 80, height: 80, backgroundColor: '#f7b733'}}}} />
            <div style={{{{position: 'absolute', left: {left}, top: 120, fontSize: 24, color: 'white'}}}}>Edge label</div>
          </AbsoluteFill>
        );
        """
    )


AT_THE_EDGE = labelled(4)
CLEAR = labelled(100)
FROZEN = labelled(100, to=100)  # passes every check before the render; the rendered file is then found frozen


def warnings_of(result) -> list[str]:
    return [f.kind for f in result.findings if f.severity == "warning"]


def test_new_polishes_a_first_turn_render_with_a_warning(workspace, fresh) -> None:
    video = fresh("polish-new")
    with ScriptedModel([Scripted(reply(AT_THE_EDGE)), Scripted(reply(CLEAR))]) as server:
        done = vidgen(
            "new", "a label and a moving square", "--name", video.name, "--json", *model_flags(server),
            cwd=workspace.root, env={"VIDGEN_QA": "1"},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert len(server.requests) == 2  # on by default: the first reply rendered, with a warning
    sent = server.requests[1]["body"]["messages"][-1]["content"]
    assert sent.startswith("The video renders, but layout QA warns")
    assert "safe-area: index.tsx:" in sent and "'Edge label'" in sent
    assert answer["status"] == "rendered" and len(answer["attempts"]) == 1  # no repair turn was spent
    assert answer["polish"]["kept"] is True and [w["kind"] for w in answer["polish"]["warnings"]] == ["safe-area"]
    assert [f["kind"] for f in answer["findings"]] == []  # the polished version is what rendered
    assert video.entry.read_text() == CLEAR
    assert [e["kind"] for e in transcript.read(video)] == ["new", "polish"]


def test_no_polish_sends_no_polish_turn(workspace, fresh) -> None:
    video = fresh("polish-off")
    with ScriptedModel([Scripted(reply(AT_THE_EDGE))]) as server:
        done = vidgen(
            "new", "a label and a moving square", "--name", video.name, "--json", "--no-polish", *model_flags(server),
            cwd=workspace.root, env={"VIDGEN_QA": "1"},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert len(server.requests) == 1
    assert answer["polish"] is None and [f["kind"] for f in answer["findings"]] == ["safe-area"]


def test_a_polish_that_breaks_the_video_keeps_the_one_that_rendered(qa_session: Session, fresh) -> None:
    video = fresh("polish-broken")
    first_render: dict[str, bytes] = {}

    def on_event(kind: str, data: dict) -> None:
        if kind == "rendered" and not first_render:
            first_render["mp4"] = open(data["output"], "rb").read()

    with ScriptedModel([Scripted(reply(AT_THE_EDGE)), Scripted(reply(FROZEN))]) as server:
        outcome = loop.run(qa_session, model(server), loop.Request("new", video, "a label", polish=True), on_event)
    assert len(server.requests) == 2
    assert outcome.ok and [a.stage for a in outcome.attempts] == [None]
    polish = outcome.polish
    assert polish is not None and not polish.kept
    assert polish.error is not None and polish.error.stage == "verify" and "frozen" in polish.error.message
    assert any("the polish turn broke the video" in w and "kept the version that passed" in w for w in outcome.warnings)
    # The video, its files and what `list` says are those of the version that rendered.
    assert outcome.result.output.read_bytes() == first_render["mp4"]
    assert video.entry.read_text() == AT_THE_EDGE
    entry = state.read(video.workspace)[video.name]
    assert entry["status"] == "rendered" and entry["sources"] == state.fingerprint(state.sources_of(video))
    current = history.current(video)
    assert current is not None and current.number in renders.kept(video)
    assert [v.meta["kind"] for v in history.versions(video)] == ["new", "polish"]  # the broken one stays, for redo
    assert outcome.to_json()["polish"]["kept"] is False


def test_edit_carries_the_open_warnings(qa_session: Session, fresh) -> None:
    video = fresh("polish-edit")

    def edit(instruction: str, answer: str) -> str:
        """Run `edit` with the model answering `answer`; the request it was sent."""
        with ScriptedModel([Scripted(reply(answer))]) as server:
            assert loop.run(qa_session, model(server), loop.Request("edit", video, instruction, render=False)).ok
        return server.requests[0]["body"]["messages"][-1]["content"]

    with ScriptedModel([Scripted(reply(AT_THE_EDGE))]) as server:
        made = loop.run(qa_session, model(server), loop.Request("new", video, "a label", render=False))
    assert made.ok and warnings_of(made.result) == ["safe-area"]
    assert [f.kind for f in state.open_warnings(video)] == ["safe-area"]

    # The user fixed it by hand: the warning belongs to files that are gone, and is not carried.
    video.entry.write_text(CLEAR)
    sent = edit("make the square bigger", AT_THE_EDGE)
    assert "make the square bigger" in sent and "Its last check found" not in sent

    # The model's answer brought it back; the next edit carries it with the user's change.
    sent = edit("make the square blue", CLEAR)
    assert "make the square blue" in sent
    assert "Its last check found these layout warnings" in sent and "safe-area: index.tsx:" in sent and "'Edge label'" in sent
    assert state.open_warnings(video) == []  # the edit's own check found none


def test_a_warning_a_repair_turn_carried_is_not_sent_again_as_a_polish(qa_session: Session, fresh) -> None:
    video = fresh("polish-told")
    frozen_at_the_edge = labelled(4, to=100)  # the warning, and an error: the repair turn carries both
    with ScriptedModel([Scripted(reply(frozen_at_the_edge)), Scripted(reply(AT_THE_EDGE))]) as server:
        outcome = loop.run(qa_session, model(server), loop.Request("new", video, "a label", polish=True))
    assert outcome.ok and [a.stage for a in outcome.attempts] == ["verify", None]
    repair = server.requests[1]["body"]["messages"][-1]["content"]
    assert "frozen" in repair and "safe-area" in repair and "'Edge label'" in repair
    assert len(server.requests) == 2, "the model saw that warning with the repair: no polish turn repeats it"
    assert outcome.polish is None and warnings_of(outcome.result) == ["safe-area"]
