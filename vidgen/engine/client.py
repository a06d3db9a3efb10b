"""Commands' side of the render daemon: find it (or start it), talk to it, stop it.

One daemon per workspace (`vidgen/engine/daemon.py`) owns the warm render service; a command connects to
its Unix socket in `.vidgen/` and gets a `RemoteService`, which has the same typed ops as the
in-process `RenderService`. A daemon is trusted only after its handshake: a stale socket, a daemon
of another vidgen (other code, other protocol) or one started with other render settings is
replaced, never used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import DaemonUnavailable, ServiceError, VidgenError
from ..media.previews import PreviewJob
from ..settings import RenderSettings
from ..workspace import resources
from ..workspace.files import exclusive
from ..workspace.project import Workspace
from .channel import Connection, DaemonFiles, files_of, socket_address
from .messages import Event
from .ops import ServiceOps
from .processes import cmdline_contains, wait_for_group_exit
from .protocol import PROTOCOL_VERSION
from .sandbox import service_environment
from .transport import Waiting

# The render settings the daemon's Node service and browser start with: a command that needs other
# ones cannot share that daemon. (Timeouts and the like travel with each request.)
_STARTUP_SETTINGS = ("browser", "gl", "browser_flags", "allow_network", "allow_unsandboxed")
_START_TIMEOUT_S = 30
PREVIEWS_TIMEOUT_S = 600
_PACKAGE = Path(__file__).resolve().parent.parent


def startup_settings(settings: RenderSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in _STARTUP_SETTINGS}


def identity(settings: RenderSettings) -> str:
    """What a daemon must match to serve a command: vidgen's code (not only its version: an edited
    checkout is another program), the protocol, the Python running it and the start-up settings."""
    stamp = hashlib.sha256()
    service = resources.template_dir() / "service"
    for path in sorted([*_PACKAGE.rglob("*.py"), *service.glob("*")]):
        with contextlib.suppress(OSError):
            info = path.stat()
            stamp.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    described = {
        "vidgen": __version__,
        "protocol": PROTOCOL_VERSION,
        "code": stamp.hexdigest(),
        "python": sys.executable,
        "settings": startup_settings(settings),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------- the client


class RemoteService(ServiceOps):
    """The daemon's render service, as seen by one command (thread-safe: batch jobs share it)."""

    # The daemon times a request out itself and restarts its Node service (a few seconds) before it answers.
    deadline_margin_s = 30.0

    def __init__(self, connection: Connection, hello: dict[str, Any], files: DaemonFiles):
        super().__init__()
        self._connection = connection
        self.hello = hello
        self.files = files
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self) -> int | None:
        """The daemon's process id (its Node service and Chromium are its children)."""
        pid = self.hello.get("pid")
        return pid if isinstance(pid, int) else None

    def _read(self) -> None:
        while (message := self._connection.receive()) is not None:
            self.requests.deliver(message)
        self.requests.end()

    def _frame(self, waiting: Waiting, op: str, args: dict[str, Any], timeout_s: float, idle_s: float | None) -> dict[str, Any]:
        return {"id": waiting.id, "op": op, "args": args, "timeout_s": timeout_s, "idle_s": idle_s}

    def _send(self, op: str, message: dict[str, Any]) -> None:
        if not self._connection.send(message):
            raise ServiceError(f"the render daemon went away before it took {op}: {self.log_hint()}", kind="crash")

    def _expired(self, op: str, waiting: Waiting, waited_s: float, last: Event | None) -> Exception:
        self.cancel(waiting.id)
        return ServiceError(f"the render daemon did not answer {op} within {waited_s:g}s: {self.log_hint()}", kind="crash")

    def _ended(self, op: str, last: Event | None) -> Exception:
        return ServiceError(f"the render daemon stopped during {op}: {self.log_hint()}", kind="crash")

    def previews(self, job: PreviewJob) -> Future[str | None]:
        """Have the daemon make a render's previews; the answer is None or what failed.

        The job is sent before this returns (a command that closes right after must not lose it); only the
        answer is awaited in the background, and it stays pending when the command closes first."""
        made: Future[str | None] = Future()
        waiting = self.requests.open()
        try:
            self._send("previews", self._frame(waiting, "previews", {"job": job.to_json()}, PREVIEWS_TIMEOUT_S, None))
        except VidgenError as exc:
            self.requests.close(waiting)
            made.set_result(f"the previews were not made: {exc}")
            return made

        def wait() -> None:
            try:
                answer = self.wait("previews", waiting, timeout_s=PREVIEWS_TIMEOUT_S)
            except VidgenError as exc:
                if not self._closed:
                    made.set_result(f"the previews were not made: {exc}")
                return
            finally:
                self.requests.close(waiting)
            problem = answer.get("problem")
            made.set_result(problem if isinstance(problem, str) else None)

        threading.Thread(target=wait, daemon=True, name="previews").start()
        return made

    def log_hint(self) -> str:
        return f"see {self.files.log}"

    def cancel(self, request_id: int) -> None:
        self._connection.send({"op": "cancel", "target": request_id})

    def kill(self) -> None:
        """Ask the daemon to restart its Node service (after a timeout the page may still spin)."""
        self._connection.send({"op": "restart"})

    def abandon(self) -> None:
        """Drop the connection: the daemon cancels everything this command asked for, and stays warm."""
        self.stop()

    def stop(self) -> None:
        if not self._closed:
            self._closed = True
            self._connection.close()


def _connect(files: DaemonFiles, timeout_s: float = 5.0) -> Connection | None:
    """A connection to the workspace's daemon, or None when nothing listens there."""
    if not files.socket.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        with socket_address(files.socket) as address:
            sock.connect(address)
        _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    except OSError:
        sock.close()
        return None
    if uid != os.getuid():  # a socket someone else listens on is not our daemon: nothing is sent to it
        sock.close()
        return None
    sock.settimeout(None)
    return Connection(sock)


def _ask(connection: Connection, message: dict[str, Any], timeout_s: float = 10.0) -> dict[str, Any] | None:
    """One question outside any request (hello, status, stop) and its answer."""
    connection.sock.settimeout(timeout_s)
    try:
        if not connection.send(message):
            return None
        return connection.receive()
    finally:
        with contextlib.suppress(OSError):
            connection.sock.settimeout(None)


@contextlib.contextmanager
def _start_lock(files: DaemonFiles) -> Iterator[None]:
    """One command at a time finds, replaces or starts the daemon (two would start two)."""
    files.prepare()
    with exclusive(files.start_lock):
        yield


def running(files: DaemonFiles) -> bool:
    """Whether a daemon holds the workspace's run lock (the socket file alone proves nothing)."""
    if not files.run_lock.exists():
        return False
    with open(files.run_lock, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def connect(workspace: Workspace, settings: RenderSettings) -> RemoteService:
    """The workspace's daemon, started when there is none, replaced when it cannot serve these settings."""
    files = files_of(workspace)
    wanted = identity(settings)
    with _start_lock(files):
        connection = _connect(files)
        if connection is not None:
            hello = _ask(connection, {"op": "hello"})
            if hello is not None and hello.get("identity") == wanted:
                return RemoteService(connection, hello, files)
            if hello is not None and hello.get("busy"):
                connection.close()
                raise DaemonUnavailable("the workspace's render daemon runs another vidgen or other render settings and is busy")
            _stop(files, connection, hello)
        elif files.socket.exists() and not running(files):
            files.socket.unlink(missing_ok=True)  # left by a daemon that died: nothing listens there
        process = _spawn(workspace, settings, files, wanted)
        return _wait_for_start(files, process, wanted)


def _spawn(workspace: Workspace, settings: RenderSettings, files: DaemonFiles, wanted: str) -> subprocess.Popen[bytes]:
    config = {
        "root": str(workspace.root),
        "identity": wanted,
        "idle_s": settings.daemon_idle_s,
        "render": dataclasses.asdict(settings),
    }
    # The daemon never sees the model's key: it starts with the service's allowlisted environment
    # (plus PYTHONPATH, so a vidgen run from a checkout finds the same code).
    extra = {"VIDGEN_DAEMON_CONFIG": json.dumps(config)}
    if os.environ.get("PYTHONPATH"):
        extra["PYTHONPATH"] = os.environ["PYTHONPATH"]
    log = os.open(files.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        # -P: the workspace (its cwd) is not put on the daemon's import path.
        return subprocess.Popen(
            [sys.executable, "-P", "-m", "vidgen.engine.daemon"],
            cwd=workspace.root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # not in the terminal's group: Ctrl-C of one command does not end it
            env=service_environment(extra),
        )
    finally:
        os.close(log)


def _wait_for_start(files: DaemonFiles, process: subprocess.Popen[bytes], wanted: str) -> RemoteService:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        connection = _connect(files)
        if connection is not None:
            hello = _ask(connection, {"op": "hello"})
            if hello is not None and hello.get("identity") == wanted:
                return RemoteService(connection, hello, files)
            connection.close()
        if process.poll() is not None:
            raise DaemonUnavailable(f"the render daemon exited at start (code {process.returncode}): see {files.log}")
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    raise DaemonUnavailable(f"the render daemon did not answer within {_START_TIMEOUT_S}s: see {files.log}")


# ---------------------------------------------------------------------------------- stop and status


def _is_daemon(pid: int) -> bool:
    """Whether `pid` (as a daemon said of itself) really is a vidgen daemon: only that is ever killed."""
    return cmdline_contains(pid, "vidgen.engine.daemon")


def status(workspace: Workspace) -> dict[str, Any] | None:
    """What the workspace's daemon reports about itself, or None when none runs."""
    files = files_of(workspace)
    connection = _connect(files)
    if connection is None:
        return None
    try:
        answer = _ask(connection, {"op": "status"})
    finally:
        connection.close()
    return answer if answer is not None and answer.get("event") == "status" else None


def stop(workspace: Workspace) -> dict[str, Any] | None:
    """End the workspace's daemon (and its Node and Chromium); its status just before, or None if none ran."""
    files = files_of(workspace)
    if not files.state_dir.is_dir():
        return None
    with _start_lock(files):
        connection = _connect(files)
        if connection is None:
            if files.socket.exists() and not running(files):
                files.socket.unlink(missing_ok=True)
            return None
        before = _ask(connection, {"op": "status"})
        _stop(files, connection, before)
        return before


def _stop(files: DaemonFiles, connection: Connection, known: dict[str, Any] | None) -> None:
    """Ask the daemon to exit and wait for it; kill it and its service if it does not (or cannot say)."""
    _ask(connection, {"op": "stop"})
    connection.close()
    pid = known.get("pid") if known else None
    service_pid = known.get("service_pid") if known else None
    deadline = time.monotonic() + 10
    while running(files) and time.monotonic() < deadline:
        time.sleep(0.05)
    if running(files) and isinstance(pid, int) and _is_daemon(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        if isinstance(service_pid, int):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(service_pid, signal.SIGKILL)
            wait_for_group_exit(service_pid)
        wait_for_group_exit(pid)
    if not running(files):
        files.socket.unlink(missing_ok=True)
