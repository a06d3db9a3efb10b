"""The per-workspace render daemon: shared and warm, never trusted blindly, never leaking keys or processes.

Real daemons (`python -m vidgen.engine.daemon`) started by real `vidgen` commands on the suite's workspace; the
tests that stop or kill one leave the next command to start a new one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from vidgen import settings as settings_module
from vidgen.engine import channel
from vidgen.engine import client as daemon_client
from vidgen.engine.protocol import MetadataArgs, wire
from vidgen.engine.session import Session
from vidgen.errors import ServiceError

from .helpers import MOVING, VIDGEN, browser_descendants, component, group_members, still_running, vidgen

# A tenth of a second or so of arithmetic a frame: a render long enough to interrupt or to queue behind.
SLOW = """
let budget = 0;
for (let i = 1; i < 40000000; i++) {
  budget += Math.sqrt(i) % 1;
}
return <AbsoluteFill style={{background: '#123', color: 'white', fontSize: 60, opacity: budget > 0 ? 1 : 0.9}}>{frame}</AbsoluteFill>;
"""


def _status(workspace) -> dict | None:
    return daemon_client.status(workspace)


def _wait_for(condition, within_s: float = 60.0, what: str = "condition", commands: tuple[subprocess.Popen, ...] = ()):
    """Poll `condition` until it holds; fail early, with their output, when one of `commands` ends first."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if any(command.poll() is not None for command in commands):
            raise AssertionError(f"{what} not reached: a command ended first\n{_outputs(commands)}")
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached in {within_s:g}s\n{_outputs(commands)}")


def _outputs(commands: tuple[subprocess.Popen, ...]) -> str:
    """What each command printed (those still running are killed first): a failed wait says why."""
    told = []
    for command in commands:
        if command.poll() is None:
            command.kill()
        stdout, stderr = command.communicate(timeout=30)
        told.append(f"{command.args[-3:]} exit {command.returncode}:\n{stdout}{stderr}")
    return "\n".join(told)


def _interruptible(args: list[str], cwd: Path) -> subprocess.Popen:
    """A vidgen command that Ctrl-C reaches (a suite started in the background inherits SIGINT ignored)."""
    return subprocess.Popen(
        [*VIDGEN, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.render
def test_commands_share_one_warm_daemon(workspace, make_video) -> None:
    make_video("daemon-shared", {"index.tsx": component(MOVING)})
    first = vidgen("check", "daemon-shared", "--json", cwd=workspace.root)
    assert first.returncode == 0, first.stderr
    before = _status(workspace)
    assert before is not None and before["service_pid"] is not None

    second = vidgen("render", "daemon-shared", "--json", cwd=workspace.root)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["status"] == "rendered"
    # Once its previews are made (the daemon makes them after the command returned):
    after = _wait_for(lambda: (s := _status(workspace)) and not s["requests"] and s, what="the daemon idle")
    # The same daemon, the same Node process (and so the same webpack, checker and Chromium), more requests.
    assert (after["pid"], after["service_pid"]) == (before["pid"], before["service_pid"])
    assert after["served"] > before["served"]

    alone = vidgen("check", "daemon-shared", "--no-daemon", cwd=workspace.root)
    assert alone.returncode == 0, alone.stderr
    untouched = _status(workspace)
    assert untouched is not None and untouched["served"] == after["served"]

    # Owner only: the folder and the socket.
    assert stat.S_IMODE(workspace.state_dir.stat().st_mode) == 0o700
    sock = workspace.state_dir / "daemon.sock"
    assert stat.S_ISSOCK(sock.stat().st_mode) and stat.S_IMODE(sock.stat().st_mode) == 0o600

    shown = vidgen("daemon", "status", cwd=workspace.root)
    assert shown.returncode == 0 and f"render daemon {after['pid']}" in shown.stdout
    assert "exits in" in shown.stdout  # no command is connected now


@pytest.mark.render
def test_renders_from_two_commands_take_turns_and_ctrl_c_cancels_only_its_own(workspace, make_video) -> None:
    make_video("daemon-slow", {"index.tsx": component(SLOW, frames=60)})
    assert vidgen("check", "daemon-slow", cwd=workspace.root).returncode == 0  # the daemon is up and the code good
    output = workspace.out_dir / "daemon-slow.mp4"
    output.unlink(missing_ok=True)
    other = workspace.root / "out" / "daemon-slow-copy.mp4"
    first = _interruptible(["render", "daemon-slow", "--no-qa"], workspace.root)
    running = _wait_for(
        lambda: (s := _status(workspace)) and any(r["op"] == "render" and r["running"] for r in s["requests"]) and s,
        within_s=120,
        what="the first render running in the daemon",
        commands=(first,),
    )
    second = _interruptible(["render", "daemon-slow", "--out", str(other), "--no-qa"], workspace.root)
    queued = _wait_for(
        lambda: (s := _status(workspace)) and s["queued"] == 1 and s,
        within_s=120,
        what="the second render queued",
        commands=(first, second),
    )
    assert queued["pid"] == running["pid"]
    # The second waits for its turn (at its stills or its render) while the first renders.
    assert [r["client_pid"] for r in queued["requests"] if not r["running"]] == [second.pid]

    # Ctrl-C the waiting command: it ends, the running render goes on and finishes.
    second.send_signal(signal.SIGINT)
    _, stderr = second.communicate(timeout=60)
    assert second.returncode == 130, stderr
    assert "Traceback" not in stderr
    _, stderr = first.communicate(timeout=180)
    assert first.returncode == 0, stderr
    assert output.is_file() and not other.exists()

    # Ctrl-C in the middle of a render: that render is cancelled in the daemon, which stays warm.
    third = _interruptible(["render", "daemon-slow", "--no-qa"], workspace.root)
    _wait_for(
        lambda: (s := _status(workspace)) and any(r["op"] == "render" and r["running"] for r in s["requests"]),
        within_s=120,
        what="the third render running",
        commands=(third,),
    )
    time.sleep(1.0)
    before = output.read_bytes()
    third.send_signal(signal.SIGINT)
    _, stderr = third.communicate(timeout=60)
    assert third.returncode == 130, stderr
    idle = _wait_for(lambda: (s := _status(workspace)) and not s["requests"] and s, within_s=30, what="the daemon idle")
    assert idle["pid"] == running["pid"] and idle["service_pid"] == running["service_pid"]
    assert output.read_bytes() == before
    assert not [p for p in workspace.out_dir.iterdir() if ".partial" in p.name]


@pytest.mark.render
def test_a_crashed_render_service_is_restarted_by_the_daemon(workspace, make_video) -> None:
    make_video("daemon-crash", {"index.tsx": component("return <AbsoluteFill />;")})
    assert vidgen("check", "daemon-crash", cwd=workspace.root).returncode == 0
    info = _status(workspace)
    assert info is not None
    os.killpg(info["service_pid"], signal.SIGKILL)
    assert still_running({info["service_pid"]}) == set()

    done = vidgen("check", "daemon-crash", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    after = _status(workspace)
    assert after is not None and after["pid"] == info["pid"] and after["service_pid"] not in (None, info["service_pid"])


@pytest.mark.render
def test_hostile_messages_do_not_bring_the_daemon_down(workspace, make_video) -> None:
    make_video("daemon-hostile", {"index.tsx": component("return <AbsoluteFill />;")})
    assert vidgen("check", "daemon-hostile", cwd=workspace.root).returncode == 0
    files = channel.files_of(workspace)

    def raw(data: bytes, replies: int) -> list[dict]:
        """Send `data`, read up to `replies` answers (fewer if the daemon hangs up)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(str(files.socket))
            sock.sendall(data)
            reader = sock.makefile("rb")
            answers = [reader.readline() for _ in range(replies)]
        return [json.loads(a) for a in answers if a]

    assert raw(b'not json at all\n{"op": "hello"}\n', 1) == []  # a bad line ends that conversation only
    assert raw(b"[1, 2, 3]\n", 1) == []
    replies = raw(
        b'{"id": 1, "op": "rm -rf", "args": {}}\n'
        b'{"id": 2, "op": "metadata", "args": {"timeout_s": 1}, "timeout_s": "soon"}\n'
        b'{"id": 3, "op": "shutdown"}\n'
        b'{"id": 4, "op": "metadata", "args": {"id": 1, "composition": "daemon-hostile"}}\n',
        4,
    )
    errors = {r["id"]: r["error"] for r in replies}
    assert set(errors) == {1, 2, 3, 4}
    # Each is vidgen's own refusal (docs/protocol.md): a command raises it as ServiceError, never as the video's fault.
    assert all(e["by"] == "vidgen" and e["kind"] in ("protocol", "crash") and e["message"] for e in errors.values())
    assert "no op" in errors[1]["message"] and "no op" in errors[3]["message"]
    # An argument named like the wire's own keys could answer another command's request: refused.
    assert "may not be named ['id']" in errors[4]["message"] and "may not be named ['timeout_s']" in errors[2]["message"]
    # Still serving, the same daemon.
    done = vidgen("check", "daemon-hostile", cwd=workspace.root)
    assert done.returncode == 0, done.stderr


@pytest.mark.render
def test_another_user_cannot_use_the_daemon(workspace, make_video) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to act as another user")
    make_video("daemon-user", {"index.tsx": component("return <AbsoluteFill />;")})
    assert vidgen("check", "daemon-user", cwd=workspace.root).returncode == 0
    sock = workspace.state_dir / "daemon.sock"
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n    s.connect(sys.argv[1])\nexcept OSError as e:\n    print('refused', e.errno); sys.exit(0)\n"
        "s.settimeout(10)\n"
        'try:\n    s.sendall(b\'{"op": "hello"}\\n\'); answer = s.recv(100)\n'
        "except OSError as e:\n    print('hung up', e.errno); sys.exit(0)\n"
        "print('hung up' if answer == b'' else f'answer {answer!r}')\n"
    )

    # Another user reaches the socket through a hard link in a folder open to all (the suite's own
    # temp folders are not): first the socket's 0600 refuses it, then, opened up, the daemon hangs up.
    public = Path(tempfile.mkdtemp())
    os.chmod(public, 0o755)
    link = public / "daemon.sock"
    os.link(sock, link)

    def as_nobody() -> str:
        return subprocess.run(
            ["python3", "-c", probe, str(link)], capture_output=True, text=True, user=65534, group=65534, timeout=30
        ).stdout

    try:
        assert as_nobody().startswith("refused 13")
        os.chmod(sock, 0o777)
        assert as_nobody().startswith("hung up")
    finally:
        os.chmod(sock, 0o600)
        link.unlink()
        public.rmdir()


@pytest.mark.render
def test_the_daemon_never_sees_a_key(workspace, make_video) -> None:
    make_video("daemon-keys", {"index.tsx": component("return <AbsoluteFill />;")})
    vidgen("daemon", "stop", cwd=workspace.root)
    secret = "sk-daemon-secret-4242"
    env = {"ZAI_API_KEY": secret, "VIDGEN_API_KEY": secret, "OPENAI_API_KEY": secret}
    done = vidgen("check", "daemon-keys", cwd=workspace.root, env=env)
    assert done.returncode == 0, done.stderr
    info = _status(workspace)
    assert info is not None and info["service_pid"] is not None
    for pid in (info["pid"], info["service_pid"]):
        assert secret.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
    assert b"VIDGEN_DAEMON_CONFIG" not in Path(f"/proc/{info['service_pid']}/environ").read_bytes()


@pytest.mark.render
def test_stop_ends_the_daemon_its_node_and_its_chromium(workspace, make_video) -> None:
    make_video("daemon-stop", {"index.tsx": component(MOVING)})
    assert vidgen("render", "daemon-stop", cwd=workspace.root).returncode == 0
    info = _status(workspace)
    assert info is not None
    chromium = browser_descendants(info["pid"])
    assert chromium, "the daemon's Chromium was not found below it"

    done = vidgen("daemon", "stop", "--json", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"status": "ok", "stopped": True, "pid": info["pid"], "exit_code": 0}
    assert still_running({info["pid"], info["service_pid"], *chromium}) == set()
    assert group_members(info["service_pid"]) == set()
    assert not (workspace.state_dir / "daemon.sock").exists()

    again = vidgen("daemon", "stop", cwd=workspace.root)
    assert again.returncode == 0 and "no render daemon was running" in again.stdout
    shown = vidgen("daemon", "status", "--json", cwd=workspace.root)
    assert json.loads(shown.stdout) == {"status": "ok", "running": False, "exit_code": 0}


@pytest.mark.render
def test_a_killed_daemon_takes_its_chromium_along_and_is_replaced(workspace, make_video) -> None:
    make_video("daemon-killed", {"index.tsx": component(MOVING)})
    assert vidgen("render", "daemon-killed", cwd=workspace.root).returncode == 0
    info = _status(workspace)
    assert info is not None
    chromium = browser_descendants(info["service_pid"])
    assert chromium

    os.kill(info["pid"], signal.SIGKILL)
    # Node reads its requests from the daemon: with the daemon gone its input ends, and it closes its browser.
    assert still_running({info["pid"], info["service_pid"], *chromium}, within_s=20) == set()
    assert (workspace.state_dir / "daemon.sock").exists()  # stale: nothing listens there

    done = vidgen("check", "daemon-killed", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    replaced = _status(workspace)
    assert replaced is not None and replaced["pid"] != info["pid"]


class _Impostor:
    """Something listening on the daemon's socket that is not a daemon of this vidgen: it answers hello with
    another identity, holds the run lock as a daemon does, and records every message it receives."""

    def __init__(self, files: channel.DaemonFiles, hello: bytes):
        import fcntl

        self.files = files
        self.received: list[bytes] = []
        files.prepare()
        files.socket.unlink(missing_ok=True)
        self.lock = open(files.run_lock, "a")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(files.socket))
        self.listener.listen(4)
        self.hello = hello
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import fcntl

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            reader = client.makefile("rb")
            for line in reader:
                self.received.append(line)
                if b'"hello"' in line or b'"status"' in line:
                    client.sendall(self.hello)
                elif b'"stop"' in line:
                    client.sendall(b'{"event": "stopping"}\n')
                    client.close()
                    self.listener.close()
                    fcntl.flock(self.lock, fcntl.LOCK_UN)
                    self.lock.close()
                    return
            client.close()


@pytest.mark.render
@pytest.mark.parametrize(
    "hello",
    [
        b'{"event": "hello", "identity": "another-vidgen", "vidgen": "0.0.1", "protocol": 0, "busy": false}\n',
        b"this is not a daemon\n",
    ],
    ids=["another-version", "garbage"],
)
def test_a_daemon_of_another_vidgen_is_replaced_never_used(workspace, make_video, hello: bytes) -> None:
    make_video("daemon-impostor", {"index.tsx": component("return <AbsoluteFill />;")})
    vidgen("daemon", "stop", cwd=workspace.root)
    impostor = _Impostor(channel.files_of(workspace), hello)
    shown = vidgen("daemon", "status", cwd=workspace.root)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    done = vidgen("check", "daemon-impostor", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    # It was asked who it is and told to stop; no request ever reached it.
    assert all(any(f'"op": "{op}"'.encode() in line for op in ("hello", "status", "stop")) for line in impostor.received), (
        impostor.received
    )
    assert any(b'"stop"' in line for line in impostor.received)
    info = _status(workspace)
    assert info is not None and info["identity"] != "another-vidgen" and info["pid"] != os.getpid()


@pytest.mark.render
def test_an_idle_daemon_exits_with_its_processes(workspace, make_video) -> None:
    make_video("daemon-idle", {"index.tsx": component("return <AbsoluteFill />;")})
    vidgen("daemon", "stop", cwd=workspace.root)
    done = vidgen("check", "daemon-idle", cwd=workspace.root, env={"VIDGEN_DAEMON_IDLE_S": "3"})
    assert done.returncode == 0, done.stderr
    info = _status(workspace)
    assert info is not None and info["idle_s"] == 3
    # Being looked at (`vidgen daemon status`) does not keep it alive: asked every 0.3 s, it still exits.
    deadline = time.monotonic() + 30
    while _status(workspace) is not None and time.monotonic() < deadline:
        time.sleep(0.3)
    assert still_running({info["pid"], info["service_pid"]}, within_s=30) == set()
    assert group_members(info["service_pid"]) == set()
    assert not (workspace.state_dir / "daemon.sock").exists()


def test_the_socket_of_a_deep_workspace_fits(tmp_path: Path) -> None:
    deep = tmp_path / ("a-long-folder-name-" * 8) / ".vidgen"
    deep.mkdir(parents=True)
    path = deep / "daemon.sock"
    assert len(str(path)) > 108
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with channel.socket_address(path) as address:
        listener.bind(address)
    listener.listen(1)
    files = channel.DaemonFiles(deep)
    connection = daemon_client._connect(files)
    assert connection is not None
    accepted, _ = listener.accept()
    accepted.sendall(b'{"event": "hello"}\n')
    assert connection.receive() == {"event": "hello"}
    connection.close()
    accepted.close()
    listener.close()


@pytest.mark.parametrize("value", ["0", "-5", "inf", "nan", "9999999"])
def test_daemon_idle_must_be_a_sane_number_of_seconds(value: str, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDGEN_DAEMON_IDLE_S", value)
    with pytest.raises(Exception) as caught:
        settings_module.load(None)
    assert "daemon_idle_s" in str(caught.value) and "daemon = false" in str(caught.value)


@pytest.mark.render
def test_a_library_session_on_the_daemon_reports_a_daemon_that_went_away(workspace, make_video) -> None:
    make_video("daemon-gone", {"index.tsx": component(SLOW, frames=40)})
    settings = settings_module.load(workspace.root)
    with Session.open(workspace, settings, daemon=True) as session:
        assert isinstance(session.service, daemon_client.RemoteService)
        pid = session.service.pid
        assert pid is not None
        from vidgen.engine.protocol import StillsArgs

        assert session.service.bundle(timeout_s=300) == []
        killer = threading.Timer(3.0, lambda: os.kill(pid, signal.SIGKILL))
        killer.start()
        with pytest.raises(ServiceError) as caught:
            session.service.stills(
                StillsArgs("daemon-gone", list(range(40)), str(workspace.state_dir / "stills" / "gone"), 8000),
                timeout_s=120,
            )
        killer.join()
    assert caught.value.kind == "crash" and "daemon.log" in str(caught.value)


@pytest.mark.render
def test_a_daemon_a_command_is_connected_to_is_not_replaced_under_it(workspace, make_video) -> None:
    make_video("daemon-busy", {"index.tsx": component("return <AbsoluteFill />;")})
    with Session.open(workspace, settings_module.load(workspace.root), daemon=True) as connected:
        assert isinstance(connected.service, daemon_client.RemoteService)
        pid = connected.service.pid
        # Other start-up settings would need another daemon: this one serves a connected command (a watch
        # between saves, a batch between items), so the newcomer renders in its own process instead.
        done = vidgen("check", "daemon-busy", cwd=workspace.root, env={"VIDGEN_GL": "swangle"})
        assert done.returncode == 0, done.stderr
        assert "rendering in this process instead" in done.stderr
        info = _status(workspace)
        assert info is not None and info["pid"] == pid
        assert connected.service.bundle(timeout_s=300) == []
        assert connected.service.metadata(MetadataArgs("daemon-busy", 30000), timeout_s=120).width == 640


@pytest.mark.render
def test_the_daemon_imports_nothing_from_the_workspace(workspace, make_video) -> None:
    make_video("daemon-imports", {"index.tsx": component("return <AbsoluteFill />;")})
    marker = workspace.state_dir / "imported-from-the-workspace"
    planted = workspace.root / "ffmpeg.py"  # the daemon imports ffmpeg-python: a module of that name here
    vidgen("daemon", "stop", cwd=workspace.root)
    planted.write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit('imported from the workspace')\n")
    try:
        # The installed `vidgen` script, as a user runs it (`python -m` would put the folder on the path itself).
        script = Path(sys.executable).parent / "vidgen"
        done = subprocess.run([str(script), "check", "daemon-imports"], cwd=workspace.root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert _status(workspace) is not None and not marker.exists()
    finally:
        planted.unlink()


@pytest.mark.render
def test_a_cancel_right_behind_its_request_is_not_lost(workspace, make_video) -> None:
    # The daemon reads the cancel while the request's thread may not have begun: the request must be known
    # by then (it is registered before the next message is read), or the render runs on to its end.
    from vidgen.engine.protocol import StillsArgs
    from vidgen.errors import Cancelled

    make_video("daemon-cancel-at-once", {"index.tsx": component(SLOW, frames=40)})
    with Session.open(workspace, settings_module.load(workspace.root), daemon=True) as session:
        assert isinstance(session.service, daemon_client.RemoteService)
        assert session.service.bundle(timeout_s=300) == []
        folder = workspace.state_dir / "stills" / "cancel-at-once"
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(Cancelled):
                session.service.request(
                    "stills",
                    timeout_s=120,
                    on_start=session.service.cancel,  # sent right after the request, on the same socket
                    **wire(StillsArgs("daemon-cancel-at-once", list(range(40)), str(folder), 8000)),
                )
            assert time.monotonic() - started < 20
