"""Replies written as an attacker would: bad paths, links to secrets, configs that dodge the shape flags.

A scripted model on 127.0.0.1, the real CLI or loop, real bundles and renders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidgen.agent import loop
from vidgen.check.constraints import Constraints
from vidgen.engine.session import Session
from vidgen.media import probe as media
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.workspace import transcript

from .helpers import MOVING, component, model, model_flags, reply, vidgen

pytestmark = pytest.mark.render

GOOD = component(MOVING)


# ------------------------------------------------------------------- all-or-nothing replies


@pytest.mark.parametrize(
    ("name", "bad_path"),
    [("h-nul-path", "scenes/A\x00.tsx"), ("h-long-name", "b" * 300 + ".tsx"), ("h-dotdot", "../hello/index.tsx")],
)
def test_a_reply_with_one_bad_path_writes_nothing_and_is_kept(workspace, fresh, name: str, bad_path: str) -> None:
    video = fresh(name)
    marker = f"kept-reply-{name}"
    text = reply(GOOD.replace("#203060", "#203061") + f"// {marker}\n") + reply("export const x = 1;\n", bad_path)
    hello = workspace.video("hello").entry.read_bytes()
    with ScriptedModel([Scripted(text)]) as server:
        done = vidgen("new", "a square", "--name", name, "--max-repairs", "0", "--json", *model_flags(server), cwd=workspace.root)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    payload = json.loads(done.stdout)
    assert payload["error"]["stage"] == "parse" and "refused to write" in payload["error"]["message"]
    assert not video.folder.exists()  # not even the valid index.tsx
    assert workspace.video("hello").entry.read_bytes() == hello
    kept = transcript.read(video)  # a new video: its transcript holds this reply alone
    assert len(kept) == 1 and marker in kept[0]["reply"] and kept[0]["error"]["stage"] == "parse"


def test_replies_without_code_say_nothing_was_written_and_the_last_turn_is_not_sent_back(workspace, fresh) -> None:
    video = fresh("h-no-code")
    chatter = Scripted("I would make a lovely square, but here is no code.")
    with ScriptedModel([chatter, chatter]) as server:
        done = vidgen("new", "a square", "--name", video.name, "--max-repairs", "1", *model_flags(server), cwd=workspace.root)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    turns = [line for line in done.stderr.splitlines() if "✗" in line]
    assert len(turns) == 2 and "sending it back to the model" in turns[0] and "no repair turns left" in turns[1], done.stderr
    assert "nothing was written" in done.stderr and "the files are kept" not in done.stderr
    assert not video.folder.exists()


# ------------------------------------------------------------------ links to secret files

SECRET = "TOP-SECRET-MARK-5521"


def test_a_symlink_to_a_secret_file_is_never_sent_to_the_model(workspace, fresh, tmp_path: Path) -> None:
    video = fresh("h-secret-link")
    video.folder.mkdir(parents=True)
    video.entry.write_text(GOOD)
    secret = tmp_path / "credentials.ts"
    secret.write_text(f"export const key = '{SECRET}';\n")
    (video.folder / "data.ts").symlink_to(secret)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "more.ts").write_text(SECRET)
    (video.folder / "vault").symlink_to(secrets)
    with ScriptedModel([Scripted("I would rather not."), Scripted("Still no code.")]) as server:
        done = vidgen("edit", "h-secret-link", "make it blue", "--max-repairs", "1", *model_flags(server), cwd=workspace.root)
    assert done.returncode == 1, done.stderr
    assert len(server.requests) == 2  # the edit, then the repair turn
    sent = json.dumps([r["body"] for r in server.requests])
    assert SECRET not in sent
    first = server.requests[0]["body"]["messages"][1]["content"]
    assert "Not shown: data.ts, vault" in first and "symbolic links" in first
    assert "#203060" in first  # the real files are sent
    assert secret.read_text() == f"export const key = '{SECRET}';\n"
    for path in (workspace.state_dir / "history" / video.name).rglob("*"):
        assert not path.is_symlink()
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace")


# ------------------------------------------------------ shape flags against the real composition

WIDE = "export const config = {durationInFrames: 30, fps: 30, width: 480, height: 270};"


def _video_source(config_lines: str) -> str:
    return component(MOVING).replace(
        "export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};", config_lines
    )


def test_a_commented_out_config_cannot_dodge_size(session: Session, fresh) -> None:
    video = fresh("h-commented-config")
    source = _video_source(f"// {WIDE}\n/* {WIDE} */\n{WIDE}")
    with ScriptedModel([Scripted(reply(source))]) as server:
        outcome = loop.run(session, model(server), loop.Request("new", video, "x", Constraints(None, None, 320, 180)))
    assert outcome.ok, outcome.error
    probed = media.probe(outcome.result.output, video.workspace)
    assert (probed.width, probed.height) == (320, 180)


@pytest.mark.parametrize(
    ("name", "config"),
    [
        (
            "h-spread-config",
            "const wide: Record<string, number> = {width: 480, height: 270};\n"
            "export const config = {durationInFrames: 30, fps: 30, width: 320, height: 180, ...wide};",
        ),
        (
            "h-assign-config",
            "export const config = {durationInFrames: 30, fps: 30, width: 320, height: 180};\n"
            "Object.assign(config, {width: 480, height: 270});",
        ),
        ("h-call-config", "export const config = Object.assign({}, {durationInFrames: 30, fps: 30, width: 480, height: 270});"),
    ],
)
def test_a_config_that_dodges_the_rewrite_goes_back_to_the_model(session: Session, fresh, name: str, config: str) -> None:
    video = fresh(name)
    script = [Scripted(reply(_video_source(config))), Scripted(reply(_video_source(WIDE)))]
    with ScriptedModel(script) as server:
        outcome = loop.run(
            session, model(server), loop.Request("new", video, "x", Constraints(None, None, 320, 180), render=False)
        )
    assert outcome.ok, outcome.error
    assert [a.stage for a in outcome.attempts] == ["composition", None]
    repair = server.requests[1]["body"]["messages"][-1]["content"]
    if name == "h-call-config":
        assert "plain object literal" in repair
    else:
        assert "config says 480x270 but --size asks 320x180: set width: 320, height: 180 in export const config" in repair
    assert outcome.result is not None and outcome.result.composition is not None
    assert (outcome.result.composition.width, outcome.result.composition.height) == (320, 180)
