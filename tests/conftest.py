"""Shared fixtures: one real workspace (real `npm ci`) and one warm render service for the run, a service of
its own for a test that kills or times out one, and the `render` mark on every test that needs the workspace.
Helpers that are not fixtures live in tests/helpers.py."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidgen import settings as settings_module
from vidgen.engine import client as daemon_client
from vidgen.engine.session import Session
from vidgen.workspace import project as workspace_module

from .helpers import remove_video

# Commands the tests run share the workspace's render daemon, as a user's do; one a test leaves in a
# workspace of its own exits five minutes after its last command (and all are stopped at the end).
os.environ.setdefault("VIDGEN_DAEMON_IDLE_S", "300")


@pytest.fixture(scope="session", autouse=True)
def _no_daemon_outlives_the_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    for sock in tmp_path_factory.getbasetemp().rglob(".vidgen/daemon.sock"):
        daemon_client.stop(workspace_module.Workspace(sock.parent.parent))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `render` every test that uses the real workspace (`npm ci`, Chromium), whichever fixture brings it in,
    so `make test-fast` (`-m "not render"`) leaves it out and a new test cannot forget the mark."""
    for item in items:
        if "workspace" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.render)


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
def own_session(workspace: workspace_module.Workspace) -> Iterator[Session]:
    """A render service for this test alone: for tests that kill or time out theirs, so the shared one is never disturbed."""
    with Session.open(workspace, settings_module.load(workspace.root)) as own:
        yield own


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
        remove_video(workspace, name)
