"""Shared fixtures: one real workspace (real `npm ci`) and one warm render service for the run, a service of
its own for a test that kills or times out one, and the `render` mark on every test that needs the workspace.
Helpers that are not fixtures live in tests/helpers.py."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import textwrap
import threading
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


# The files that take longest (a minute or more each in CI), longest first.
SLOWEST_FILES = (
    *("test_daemon", "test_batch", "test_watch", "test_cli", "test_layout", "test_coldstart", "test_api_sheet"),
    *("test_mcp", "test_demo", "test_verdicts", "test_locations", "test_progress", "test_loop", "test_render"),
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `render` every test that uses the real workspace (`npm ci`, Chromium), whichever fixture brings it in,
    so `make test-fast` (`-m "not render"`) leaves it out and a new test cannot forget the mark.

    Then order the files (each keeps its own order): those without a render test first, while the run's `npm ci`
    goes on in the background, then the slowest, then the other render files. Under pytest-xdist's `--dist
    loadfile --no-loadscope-reorder` a worker takes the next file in this order, so the long ones start early
    and the short ones fill in at the end (longest first is the classic greedy schedule)."""
    rendering = set()
    for item in items:
        if "workspace" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.render)
            rendering.add(item.path)

    def rank(item: pytest.Item) -> tuple[int, int]:
        if item.path not in rendering:
            return (0, 0)
        if item.path.stem in SLOWEST_FILES:
            return (1, SLOWEST_FILES.index(item.path.stem))
        return (2, 0)

    items.sort(key=rank)


class _Packages:
    """The run's one real `npm ci` (vidgen's own `workspace.create`), in a workspace of the run's temporary folder
    that no test uses. Under pytest-xdist (`make test`) each worker has a workspace of its own (its own daemon,
    services and out/), and all of them hard-link its node_modules, as pnpm does (nothing writes into an installed
    package; webpack's cache is a new folder in each). It begins in the background as soon as collection shows a
    test that needs it, so it overlaps the tests that do not; a lock lets one worker install while others wait."""

    def __init__(self, config: pytest.Config):
        base = config._tmp_path_factory.getbasetemp()  # the tmp_path_factory fixture's
        self.folder = (base.parent if "PYTEST_XDIST_WORKER" in os.environ else base) / "npm-ci"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.thread: threading.Thread | None = None

    def _install(self) -> None:
        """Under the lock: install unless a worker did."""
        if not (self.folder / "installed").is_file():
            shutil.rmtree(self.folder / "videos", ignore_errors=True)
            workspace_module.create(self.folder / "videos", install=True, log=lambda _line: None)
            (self.folder / "installed").touch()

    def begin(self) -> None:
        lock = open(self.folder / "lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()  # another worker is installing
            return

        def install() -> None:
            with lock:
                try:
                    self._install()
                except Exception:
                    pass  # the first test that needs it installs again, in the foreground, and shows why

        self.thread = threading.Thread(target=install, name="npm ci")
        self.thread.start()

    def node_modules(self) -> Path:
        with open(self.folder / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # until the install in the background, this worker's or another's, ends
            self._install()
        return self.folder / "videos" / "node_modules"


_packages: _Packages | None = None


def pytest_collection_finish(session: pytest.Session) -> None:
    global _packages
    _packages = _Packages(session.config)
    if any("workspace" in getattr(item, "fixturenames", ()) for item in session.items):
        _packages.begin()


def pytest_sessionfinish() -> None:
    if _packages is not None and _packages.thread is not None:
        _packages.thread.join()


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> workspace_module.Workspace:
    assert _packages is not None
    ws = workspace_module.create(tmp_path_factory.mktemp("ws") / "videos", install=False)
    subprocess.run(["cp", "-al", str(_packages.node_modules()), str(ws.root)], check=True)
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
    # Its webpack cache is in memory only: on disk, the other services a test starts in this workspace, and its
    # own background store, delete packs it may still read (a crash on ENOENT, seen in CI); the workspace is new
    # each run, so a disk cache would only be written.
    with Session.open(workspace, settings_module.load(workspace.root), cache="memory") as shared:
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


# ---------------------------------------------------------------- Remotion Lambda without AWS (tests/lambda_fakes.py)


@pytest.fixture
def npx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real `npx` on PATH that records its argv and answers as Remotion's Lambda CLI."""
    from tests.lambda_fakes import FakeNpx

    fake = FakeNpx(tmp_path / "npx")
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    return fake


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """A boto3 session on the default credential chain (test values), S3 on moto."""
    from tests.lambda_fakes import aws_session

    yield from aws_session(monkeypatch)


@pytest.fixture
def stub(aws):
    """botocore's Stubber on the session's Lambda client: each test queues Lambda's answers."""
    from tests.lambda_fakes import stubbed_lambda

    yield from stubbed_lambda(aws)
