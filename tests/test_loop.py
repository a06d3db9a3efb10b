"""`new` and `edit` end to end: a scripted model on 127.0.0.1, real renders, real repairs."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from vidgen.agent import loop
from vidgen.check.constraints import Constraints
from vidgen.engine.session import Session
from vidgen.media import probe as media
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.workspace import history, transcript

from .helpers import MOVING, VIDGEN, component, ctrl_c_reaches_it, model, model_flags, reply, vidgen

pytestmark = pytest.mark.render


BROKEN = component("return <AbsoluteFill style={{backgroundColor: COLOUR}} />;")
FIXED = component(MOVING)


def test_a_broken_reply_is_repaired_with_the_localised_error(session: Session, fresh) -> None:
    video = fresh("loop-repair")
    with ScriptedModel(
        [Scripted(reply(BROKEN)), Scripted(reply(FIXED), usage={"prompt_tokens": 10, "completion_tokens": 5})]
    ) as server:
        outcome = loop.run(session, model(server), loop.Request("new", video, "a moving square"))
    assert outcome.ok and outcome.result.output.exists()
    assert [a.stage for a in outcome.attempts] == ["typecheck", None]
    repair = server.requests[1]["body"]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert repair[0]["content"].startswith("You write Remotion 4 videos")
    assert "world-atlas" in repair[0]["content"]  # the API sheet is in the stable prefix
    assert "typecheck: index.tsx:8:" in repair[-1]["content"] and "Cannot find name 'COLOUR'" in repair[-1]["content"]
    assert "> " in repair[-1]["content"] and "COLOUR" in repair[-1]["content"].split("```text")[1]
    assert outcome.usage.prompt_tokens == 1210
    probed = media.probe(outcome.result.output, video.workspace)
    assert (probed.width, probed.height, probed.frames) == (640, 360, 30)
    kinds = [v.meta["kind"] for v in history.versions(video)]
    assert kinds == ["new", "repair"]
    assert [e["kind"] for e in transcript.read(video)] == ["new", "repair"]


def test_format_problems_go_back_with_a_reminder(session: Session, fresh) -> None:
    video = fresh("loop-format")
    script = [
        Scripted("I would draw a square that moves."),
        Scripted("```tsx index.tsx\n" + FIXED[:80], finish_reason="length"),
        Scripted(reply(FIXED)),
    ]
    with ScriptedModel(script) as server:
        outcome = loop.run(session, model(server), loop.Request("new", video, "a square", render=False))
    assert outcome.ok and outcome.result.status == "ok"
    assert [a.stage for a in outcome.attempts] == ["parse", "parse", None]
    second, third = (server.requests[i]["body"]["messages"][-1]["content"] for i in (1, 2))
    assert "no code blocks" in second and "```tsx index.tsx" in second
    assert "cut off" in third


def test_writes_outside_the_folder_are_refused(session: Session, fresh, workspace) -> None:
    video = fresh("loop-guard")
    package = (workspace.root / "package.json").read_bytes()
    hello = (workspace.video("hello").entry).read_bytes()
    script = [
        Scripted(reply(FIXED) + reply("{}\n", "../../../package.json")),
        Scripted(reply(FIXED) + reply("export default 1;\n", "../hello/index.tsx")),
        Scripted(reply(FIXED)),
    ]
    with ScriptedModel(script) as server:
        outcome = loop.run(session, model(server), loop.Request("new", video, "a square", render=False))
    assert outcome.ok and [a.stage for a in outcome.attempts] == ["parse", "parse", None]
    assert "refused to write" in server.requests[1]["body"]["messages"][-1]["content"]
    assert (workspace.root / "package.json").read_bytes() == package
    assert workspace.video("hello").entry.read_bytes() == hello


def test_shape_flags_hold_and_edit_keeps_hand_edits(session: Session, fresh) -> None:
    video = fresh("loop-shape")
    wide = component(MOVING, width=1280, height=720, frames=90)
    with ScriptedModel([Scripted(reply(wide))]) as server:
        outcome = loop.run(session, model(server), loop.Request("new", video, "x", Constraints(1.5, 20, 320, 180)))
    assert outcome.ok, outcome.error
    probed = media.probe(outcome.result.output, video.workspace)
    assert (probed.width, probed.height, probed.frames, round(probed.fps)) == (320, 180, 30, 20)
    assert "1.5 seconds" in server.requests[0]["body"]["messages"][1]["content"]

    # The user edits by hand; the edit request carries the hand edit, and history keeps it.
    video.entry.write_text(video.entry.read_text().replace("#f7b733", "#ff00aa"))
    edited = component(
        MOVING.replace("#f7b733", "#ff00aa").replace("#203060", "#101010"), width=320, height=180, frames=30, fps=20
    )
    with ScriptedModel([Scripted(reply(edited))]) as server:
        outcome = loop.run(session, model(server), loop.Request("edit", video, "darker background"))
    assert outcome.ok, outcome.error
    sent = server.requests[0]["body"]["messages"][1]["content"]
    assert "#ff00aa" in sent and "darker background" in sent
    assert [v.meta["kind"] for v in history.versions(video)] == ["new", "hand-edit", "edit"]


def test_the_budget_spent_gives_exit_1_and_the_last_error(workspace, fresh) -> None:
    fresh("loop-hopeless")
    with ScriptedModel([Scripted(reply(BROKEN)) for _ in range(3)]) as server:
        done = vidgen(
            "new",
            "a square",
            "--name",
            "loop-hopeless",
            "--max-repairs",
            "1",
            "--json",
            *model_flags(server),
            cwd=workspace.root,
        )
    assert done.returncode == 1, done.stderr
    payload = json.loads(done.stdout)
    assert payload["status"] == "failed" and payload["error"]["stage"] == "typecheck"
    assert [a["stage"] for a in payload["attempts"]] == ["typecheck", "typecheck"]
    assert payload["usage"] == {"prompt": 2400, "completion": 800, "cached": 0} and payload["model"]
    assert len(server.requests) == 2


def test_401_gives_exit_3_without_retrying_and_no_key_leaks(workspace, fresh) -> None:
    fresh("loop-denied")
    secret = "sk-very-secret-123"
    with ScriptedModel([Scripted(status=401, error_message="invalid api key")]) as server:
        done = vidgen(
            "new",
            "a square",
            "--name",
            "loop-denied",
            *model_flags(server),
            cwd=workspace.root,
            env={"VIDGEN_API_KEY": secret},
        )
    assert done.returncode == 3 and len(server.requests) == 1
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {secret}"
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "refused the API key" in lines[0]
    for path in workspace.state_dir.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".jsonl", ".log"}:
            assert secret not in path.read_text(errors="replace"), path


def test_bad_input_to_new_and_edit(workspace, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        no_key = {"ZAI_API_KEY": "", "VIDGEN_API_KEY": "", "XDG_CONFIG_HOME": str(tmp_path)}
        return vidgen(*args, cwd=workspace.root, timeout=60, env=no_key)

    done = run("new", "a square")
    assert done.returncode == 3 and "vidgen keys set zai" in done.stderr and "ZAI_API_KEY" in done.stderr
    assert "vidgen demo" in done.stderr
    done = run("new", "   ")
    assert done.returncode == 2 and "idea is empty" in done.stderr
    done = run("edit", "no-such-video", "bigger")
    assert done.returncode == 2 and "no video 'no-such-video'" in done.stderr
    done = run("new", "x", "--size", "641x360", "--provider", "ollama")
    assert done.returncode == 2 and "even" in done.stderr
    done = run("new", "x", "--name", "hello", "--provider", "ollama")
    assert done.returncode == 2 and "vidgen edit hello" in done.stderr
    for done in (run("new", "x"), run("new", "   ")):
        assert "Traceback" not in done.stderr


def test_ctrl_c_during_the_model_call_writes_nothing(workspace, fresh) -> None:
    video = fresh("loop-interrupted")
    with ScriptedModel([Scripted(reply(FIXED), delay_s=30)]) as server:
        process = subprocess.Popen(
            [*VIDGEN, "new", "a square", "--name", "loop-interrupted", *model_flags(server)],
            cwd=workspace.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=ctrl_c_reaches_it,
        )
        deadline = time.monotonic() + 60
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    assert not video.folder.exists()
    assert history.versions(video) == []


def test_the_glm_guide_flow_map_then_one_more_stop(workspace, fresh) -> None:
    """z.ai's GLM-5.2 guide: a map from Los Angeles to New York, then 'add one more stop: Paris'."""
    fresh("la-to-ny")
    sheet = (workspace.root / "API.md").read_text()
    two_stops = sheet.split("```tsx map-example\n", 1)[1].split("```", 1)[0]
    three_stops = two_stops.replace(
        "const NEW_YORK: [number, number] = [-74.01, 40.71];",
        "const NEW_YORK: [number, number] = [-74.01, 40.71];\nconst PARIS: [number, number] = [2.35, 48.86];",
    ).replace(
        "const along = geoInterpolate(LOS_ANGELES, NEW_YORK);",
        "const legs = [geoInterpolate(LOS_ANGELES, NEW_YORK), geoInterpolate(NEW_YORK, PARIS)];\n"
        "  const along = (t: number) => (t < 0.5 ? legs[0](t * 2) : legs[1]((t - 0.5) * 2));",
    )
    idea = "a map starting from Los Angeles, zoom the camera out, draw an animated route to New York with the camera following it"
    script = [Scripted(reply(two_stops)), Scripted(reply(three_stops))]
    with ScriptedModel(script) as server:
        common = [*model_flags(server), "--json"]
        created = vidgen("new", idea, "--name", "la-to-ny", *common, cwd=workspace.root)
        assert created.returncode == 0, created.stderr
        edited = vidgen("edit", "la-to-ny", "add one more stop to the journey: Paris", *common, cwd=workspace.root)
    assert edited.returncode == 0, edited.stderr
    result = json.loads(edited.stdout)
    assert result["status"] == "rendered" and Path(result["output"]).exists()
    assert "PARIS" in workspace.video("la-to-ny").entry.read_text()
    assert (
        "Los Angeles" in server.requests[1]["body"]["messages"][1]["content"]
        or "LOS_ANGELES" in server.requests[1]["body"]["messages"][1]["content"]
    )
    listed = vidgen("history", "la-to-ny", cwd=workspace.root).stdout
    assert [line.split()[2] for line in listed.splitlines()] == ["new", "edit"]
    shown = vidgen("show", "la-to-ny", cwd=workspace.root).stdout
    assert "Paris" in shown and "## last error" in shown
