"""One broken video never breaks Remotion's own tools: src/registered.ts, the list Studio and
`npx remotion render` bundle, leaves out a video whose current files failed their last check."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from vidgen.workspace import project as workspace_module
from vidgen.workspace import resources, state

from .helpers import vidgen

BROKEN = """import React from 'react';
import confetti from 'not-a-real-package';

export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};

export default function Party() {
  return <div>{String(confetti)}</div>;
}
"""


def test_the_templates_list_is_the_one_vidgen_writes_when_nothing_fails() -> None:
    assert (resources.template_dir() / "src" / "registered.ts").read_text() == state.registered_source([])


def test_a_failed_video_leaves_the_list_until_its_files_change(tmp_path: Path) -> None:
    ws = workspace_module.create(tmp_path / "ws", install=False, log=lambda _line: None)
    video = ws.video("party")
    video.folder.mkdir(parents=True)
    video.entry.write_text(BROKEN)
    sources = state.fingerprint(state.sources_of(video))
    state.record(ws, "party", status="failed", stage="imports", message="not-a-real-package", sources=sources)
    # Hostile state: a name that is no video name never reaches the regular expression.
    state.record(ws, "x|.*", status="failed", stage="imports", message="m", sources=sources)
    registered = (ws.root / "src" / "registered.ts").read_text()
    assert registered == state.registered_source(["party"]) and "(?!(?:party)\\/)" in registered
    video.entry.write_text(BROKEN.replace("Party", "Party2"))  # a hand edit may have fixed it: it is shown again
    assert state.failing(ws) == []
    state.record(ws, "hello", status="rendered", sources="x")
    assert (ws.root / "src" / "registered.ts").read_text() == state.registered_source([])


@pytest.mark.render
def test_remotions_own_cli_bundles_the_others_after_a_failed_check(workspace, tmp_path: Path) -> None:
    ws = workspace_module.create(tmp_path / "ws", install=False, log=lambda _line: None)
    (ws.root / "node_modules").symlink_to(workspace.root / "node_modules")
    ws.video("party").folder.mkdir(parents=True)
    ws.video("party").entry.write_text(BROKEN)
    done = vidgen("check", "party", "--json", cwd=ws.root)
    assert done.returncode == 1 and json.loads(done.stdout)["error"]["stage"] == "imports", done.stdout
    listed = subprocess.run(
        ["npx", "remotion", "compositions", "src/index.ts", "--quiet"],
        cwd=ws.root, capture_output=True, text=True, timeout=300, env={**os.environ, "CI": "1"},
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "hello" in listed.stdout and "party" not in listed.stdout and "not-a-real-package" not in listed.stderr
    listing = vidgen("list", cwd=ws.root).stdout
    assert "party" in listing and "failed at imports" in listing and "not-a-real-package" in listing  # shown, as failed


def test_the_workspaces_gitignore_keeps_the_sources_and_their_history_not_the_mp4s(tmp_path: Path) -> None:
    ws = workspace_module.create(tmp_path / "ws", install=False, log=lambda _line: None)
    subprocess.run(["git", "init", "-q"], cwd=ws.root, check=True)
    paths = {
        "src/videos/hello/index.tsx": False,
        ".vidgen/history/hello/v1/index.tsx": False,
        ".vidgen/transcripts/hello.jsonl": False,
        ".vidgen/renders/hello/v1.mp4": True,
        ".vidgen/bundle/0/bundle.js": True,
        ".vidgen/state.json": True,
        ".vidgen/daemon.sock": True,
        "out/hello.mp4": True,
        "node_modules/remotion/package.json": True,
    }
    for relative in paths:
        (ws.root / relative).parent.mkdir(parents=True, exist_ok=True)
        (ws.root / relative).touch()
    checked = subprocess.run(["git", "check-ignore", *paths], cwd=ws.root, capture_output=True, text=True)
    assert sorted(checked.stdout.split()) == sorted(p for p, ignored in paths.items() if ignored)
