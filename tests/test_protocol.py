"""The render service's protocol: the versions it reports at start, and a checker that dies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from vidgen import settings as settings_module
from vidgen.cli import doctor
from vidgen.engine import protocol
from vidgen.engine.protocol import CheckArgs
from vidgen.engine.service import RenderService
from vidgen.engine.session import Session
from vidgen.errors import ServiceFault, ServiceReplyError, UsageError
from vidgen.render import ladder
from vidgen.workspace import project as workspace_module

from .helpers import MOVING, component, descendants

pytestmark = pytest.mark.render


def _other_remotion_workspace(workspace: workspace_module.Workspace, target: Path, version: str) -> workspace_module.Workspace:
    """A copy of `workspace` whose installed `remotion` says `version`; every other package is a link to the real one."""
    shutil.copytree(workspace.root, target, ignore=shutil.ignore_patterns("node_modules", ".vidgen", "out"), symlinks=True)
    modules = target / "node_modules"
    modules.mkdir()
    for entry in (workspace.root / "node_modules").iterdir():
        if entry.name != "remotion":
            (modules / entry.name).symlink_to(entry)
    shutil.copytree(workspace.root / "node_modules" / "remotion", modules / "remotion", symlinks=True)
    package = modules / "remotion" / "package.json"
    manifest = json.loads(package.read_text())
    manifest["version"] = version
    package.write_text(json.dumps(manifest))
    return workspace_module.Workspace(target)


def test_a_workspace_with_another_remotion_is_refused_with_the_fix(workspace, tmp_path: Path) -> None:
    expected = protocol.expected_remotion()
    assert expected == "4.0.527"
    other = _other_remotion_workspace(workspace, tmp_path / "other", "4.0.999")
    settings = settings_module.load(other.root)
    running = RenderService(other, settings.render)
    try:
        with pytest.raises(UsageError) as raised:
            running.start()
    finally:
        running.kill()
    message = str(raised.value)
    assert message == (
        "the workspace has Remotion 4.0.999 installed but this vidgen needs 4.0.527:"
        f" run `npm ci` in {other.root} (or reinstall vidgen if the workspace is meant to be newer)"
    )
    assert running.pid is None  # the service that reported it was stopped

    found = {finding.name: finding for finding in doctor.examine(other, settings)}["remotion"]
    assert not found.ok
    assert found.detail == f"4.0.999 in the workspace, vidgen needs 4.0.527 (render service protocol {protocol.PROTOCOL_VERSION})"
    assert found.fix == f"cd {other.root} && npm ci"


def test_the_pinned_remotion_starts_and_another_protocol_says_reinstall(session: Session) -> None:
    session.service.start()  # the ready message's versions are checked here
    assert session.service.pid is not None
    assert protocol.installed_remotion(session.workspace) == protocol.expected_remotion()
    assert protocol.version_problem(session.workspace, protocol.PROTOCOL_VERSION, "4.0.527") is None
    assert protocol.version_problem(session.workspace, 99, "4.0.527") == (
        f"the render service speaks protocol 99 but this vidgen speaks {protocol.PROTOCOL_VERSION}:"
        " reinstall vidgen (pip install --force-reinstall vidgen)"
    )


def _checkers(service_pid: int) -> list[int]:
    """The checker processes (ESLint and TypeScript) the service `service_pid` forked (Node sits below the jail's
    bwrap, whose pid the service reports)."""
    below = {service_pid, *descendants(service_pid)}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent in below and b"checker.mjs" in command:
            found.append(int(entry.name))
    return found


def _exists(pid: int) -> bool:
    """The process is there, even as a zombie its parent has not reaped yet."""
    return Path(f"/proc/{pid}").exists()


def _wait_for(condition, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the condition was not met in time")


def test_a_killed_checker_is_replaced_and_the_next_lint_answers(session: Session, make_video) -> None:
    body = "const x = Math.random() * 10;\nreturn <AbsoluteFill style={{left: x}} />;"
    video = make_video("protocol-checker", {"index.tsx": component(body)})
    files = CheckArgs([str(p) for p in video.source_files()])
    first = session.service.lint(files, timeout_s=120)
    assert [(Path(d.file or "").name, d.line) for d in first] == [("index.tsx", 8)]
    service_pid = session.service.pid
    assert service_pid is not None
    [checker] = _wait_for(lambda: _checkers(service_pid))

    # Killed while idle: the next lint starts a new checker instead of waiting for the dead one.
    os.kill(checker, signal.SIGKILL)
    _wait_for(lambda: not _exists(checker))  # reaped by the service: it knows
    started = time.monotonic()
    again = session.service.lint(files, timeout_s=120)
    assert again == first
    assert time.monotonic() - started < 60, "the lint waited on the dead checker"
    [replacement] = _checkers(service_pid)
    assert replacement != checker and session.service.pid == service_pid

    # Killed with a check under way (TypeScript loads for seconds in a new checker): that check
    # fails at once with the cause, and the ladder's next run checks normally.
    os.kill(replacement, signal.SIGKILL)
    _wait_for(lambda: not _exists(replacement))
    outcome: dict[str, object] = {}

    def typecheck() -> None:
        try:
            outcome["reply"] = session.service.typecheck(files, timeout_s=120)
        except ServiceReplyError as exc:
            outcome["error"] = exc.fault

    thread = threading.Thread(target=typecheck)
    thread.start()
    [third] = _wait_for(lambda: _checkers(service_pid))
    os.kill(third, signal.SIGKILL)
    thread.join(timeout=60)
    assert not thread.is_alive(), "the typecheck waited on the dead checker"
    error = outcome.get("error")
    assert isinstance(error, ServiceFault), outcome
    assert error.kind == "checker-crashed"
    assert error.message == "the lint and typecheck process stopped (killed, or out of memory); check again"

    good = make_video("protocol-after-checker", {"index.tsx": component(MOVING)})
    result = ladder.run(session, good, stills=ladder.Stills.NONE)
    assert result.error is None, result.error
