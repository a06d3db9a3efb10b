"""`vidgen logs`: past prompts and replies across videos, newest first, and never a key."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from vidgen.workspace import project as workspace_module
from vidgen.workspace import transcript

from .helpers import VIDGEN, assert_one_line_error

SECRET = "sk-pasted-0123456789"


@pytest.fixture
def ws(tmp_path: Path) -> workspace_module.Workspace:
    """A workspace (no npm ci) with two videos' transcripts, written by the transcript module as the loop writes them."""
    ws = workspace_module.create(tmp_path / "ws", install=False)
    turns = [
        ("alpha", "new", "glm-5.2", "a title card", "```tsx index.tsx\n// alpha one\n```", None),
        ("beta", "new", "gpt-5.1", f"a countdown; my key is {SECRET}", "```tsx index.tsx\n// beta one\n```", None),
        ("alpha", "repair", "glm-5.2", "fix the errors below", "```tsx index.tsx\n// alpha two\n```", "lint"),
    ]
    for video, kind, model, content, reply, stage in turns:
        time.sleep(0.01)  # model turns are seconds apart; times are kept to the millisecond
        error = {"stage": stage, "message": "'x' is never used"} if stage else None
        transcript.append(
            ws.video(video),
            {
                "kind": kind,
                "model": model,
                "request": {"role": "user", "content": content},
                "reply": reply,
                "finish_reason": "stop",
                "usage": {"prompt": 100, "cached": 0, "completion": 20},
                "error": error,
            },
        )
    # An entry written before the model was kept in transcripts still shows.
    path = ws.state_dir / "transcripts" / "alpha.jsonl"
    old = {"time": "2020-01-01T00:00:00+00:00", "kind": "new", "request": {"role": "user", "content": "old"}, "reply": "r"}
    path.write_text(json.dumps(old) + "\n" + path.read_text())
    return ws


def run(ws: workspace_module.Workspace, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(ws.root.parent / "config"), "VIDGEN_API_KEY": SECRET}
    done = subprocess.run([*VIDGEN, "logs", *args], capture_output=True, text=True, timeout=60, cwd=ws.root, env=env)
    assert SECRET not in done.stdout + done.stderr  # a key someone pasted into an idea is masked too
    return done


def test_logs_are_newest_first_across_videos(ws: workspace_module.Workspace) -> None:
    done = run(ws, "-n", "0")
    assert done.returncode == 0, done.stderr
    headers = [line.split()[2:5] for line in done.stdout.splitlines() if line.startswith("# ")]
    assert headers == [
        ["alpha", "glm-5.2", "repair"],
        ["beta", "gpt-5.1", "new"],
        ["alpha", "glm-5.2", "new"],
        ["alpha", "(model", "not"],
    ]
    assert "## error\n\nlint: 'x' is never used" in done.stdout and "// alpha two" in done.stdout

    shown = run(ws)  # three by default, like `llm logs`
    assert shown.stdout.count("\n# ") + shown.stdout.startswith("# ") == 3 and "3 of 4" in shown.stderr


def test_logs_json_and_jsonl_and_one_video(ws: workspace_module.Workspace) -> None:
    payload = json.loads(run(ws, "--json", "-n", "2").stdout)
    assert payload["status"] == "ok" and payload["total"] == 4
    assert [(e["video"], e["kind"], e["model"]) for e in payload["entries"]] == [
        ("alpha", "repair", "glm-5.2"),
        ("beta", "new", "gpt-5.1"),
    ]
    assert payload["entries"][1]["request"]["content"] == "a countdown; my key is ***"

    lines = run(ws, "--jsonl", "-n", "0", "alpha").stdout.splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["repair", "new", "new"]
    assert {json.loads(line)["video"] for line in lines} == {"alpha"}


def test_logs_errors_and_empty(ws: workspace_module.Workspace, tmp_path: Path) -> None:
    assert_one_line_error(run(ws, "-n", "-1"), 2, "or 0 for all")
    assert_one_line_error(run(ws, "Bad Name"), 2, "Bad Name")
    empty = run(ws, "gamma")
    assert empty.returncode == 0 and empty.stdout == "" and "no model exchanges recorded for 'gamma'" in empty.stderr
    payload = json.loads(run(ws, "-n", "-1", "--json").stdout)
    assert payload["error"]["code"] == "usage"
