"""Shared fixtures: one real workspace (real `npm ci`) and one warm render service for the run."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidgen import service
from vidgen import settings as settings_module
from vidgen import workspace as workspace_module
from vidgen.session import Session


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> workspace_module.Workspace:
    root = tmp_path_factory.mktemp("ws") / "videos"
    ws = workspace_module.create(root, install=True, log=lambda _line: None)
    text = (
        (ws.root / "vidgen.toml")
        .read_text()
        .replace("frame_timeout_s = 30", "frame_timeout_s = 8")
        .replace("sample_stills = 6", "sample_stills = 4")
    )
    # Layout QA costs about a second a check; tests/test_layout.py turns it on where it is the subject.
    before, qa = text.split("[qa]\n", 1)
    (ws.root / "vidgen.toml").write_text(before + "[qa]\n" + qa.replace("enabled = true", "enabled = false", 1))
    return ws


@pytest.fixture(scope="session")
def session(workspace: workspace_module.Workspace) -> Iterator[Session]:
    with Session.open(workspace, settings_module.load(workspace.root)) as shared:
        yield shared


@pytest.fixture
def qa_session(session: Session) -> Session:
    """The shared warm service, with layout QA on (the suite's workspace turns it off elsewhere)."""
    return Session(session.workspace, settings_module.with_qa(session.settings, enabled=True), session.service)


@pytest.fixture
def make_video(workspace: workspace_module.Workspace) -> Iterator:
    """Write a video from {relative path: source}; removed after the test."""
    made: list[Path] = []

    def make(name: str, files: dict[str, str]):
        video = workspace.video(name)
        shutil.rmtree(video.folder, ignore_errors=True)
        for relative, text in files.items():
            path = video.folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip())
        made.append(video.folder)
        return video

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fresh(workspace: workspace_module.Workspace) -> Iterator:
    """A video name that is removed (folder, history, transcript) after the test."""
    names: list[str] = []

    def make(name: str):
        names.append(name)
        return workspace.video(name)

    yield make
    for name in names:
        video = workspace.video(name)
        shutil.rmtree(video.folder, ignore_errors=True)
        shutil.rmtree(workspace.state_dir / "history" / name, ignore_errors=True)
        (workspace.state_dir / "transcripts" / f"{name}.jsonl").unlink(missing_ok=True)


def component(body: str, *, width: int = 640, height: int = 360, frames: int = 30, fps: int = 30, imports: str = "") -> str:
    """A tiny video's index.tsx: `body` is the component's JSX return, with `frame` in scope."""
    return (
        "import React from 'react';\n"
        "import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';\n"
        f"{imports}\n"
        f"export const config = {{durationInFrames: {frames}, fps: {fps}, width: {width}, height: {height}}};\n"
        "\n"
        "const Video: React.FC = () => {\n"
        "  const frame = useCurrentFrame();\n"
        f"{textwrap.indent(textwrap.dedent(body).strip(), '  ')}\n"
        "};\n"
        "\n"
        "export default Video;\n"
    )


MOVING = """
const x = interpolate(frame, [0, 29], [0, 500], {extrapolateRight: 'clamp'});
return (
  <AbsoluteFill style={{backgroundColor: '#203060'}}>
    <div style={{position: 'absolute', left: x, top: 120, width: 100, height: 100, backgroundColor: '#f7b733'}} />
  </AbsoluteFill>
);
"""


def chromium_pids() -> set[int]:
    """Every running Chromium process on the machine."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if b"chrom" in os.path.basename(cmdline).lower():
            pids.add(int(entry.name))
    return pids


def group_members(pgid: int) -> set[int]:
    return set(service.group_members(pgid))


def service_groups(parent: int) -> set[int]:
    """The process groups of the render services that process `parent` started."""
    groups = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and b"render-service.mjs" in (entry / "cmdline").read_bytes():
                groups.add(int(fields[2]))
        except OSError:
            continue
    return groups
