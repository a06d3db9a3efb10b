"""The render daemon: one per workspace, so every command finds Node, webpack, the checker and Chromium warm.

`python -m vidgen.engine.daemon` (started by the first command that needs it, see client.py) owns
one `RenderService`, exactly the one a command would own in its own process, and serves its ops
over a Unix socket in `.vidgen/` (mode 0600, and only to its own user). Each request carries its
timeouts: a hung render still restarts the service, a crash still ends in a clear error. Renders
from several commands take turns; a command that goes away (Ctrl-C, killed) has its requests
cancelled. The daemon exits after `daemon_idle_s` seconds without a command, on `vidgen daemon
stop`, or on SIGTERM, and takes its Node service and Chromium with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Cancelled, ServiceFault, ServiceReplyError, VidgenError
from ..media import previews
from ..settings import RenderSettings
from ..workspace.project import Workspace
from ..workspace.staging import PARTIAL_NAME
from .channel import Connection, DaemonFiles, peer, socket_address
from .messages import Event, Queued, encode_error, encode_event
from .processes import tree_memory_mb
from .protocol import PROTOCOL_VERSION
from .service import DAEMON_CACHE, RenderService

# The ops a command may ask for (docs/protocol.md); `shutdown` and `cancel` are the daemon's to send.
OPS = frozenset({"browser", "bundle", "lint", "typecheck", "metadata", "stills", "still", "render", "layout", "timeline"})
# Ops that render frames take turns across commands: two at once on a small machine only slow each other.
_TAKES_TURNS = frozenset({"render", "stills"})
_QUEUED_EVERY_S = 2.0
_SEND_TIMEOUT_S = 30
# Names a request's arguments may not take: the wire's own keys and the service call's parameters.
_RESERVED = frozenset({"id", "op", "event", "timeout_s", "idle_s", "on_progress", "on_start"})
_LOG_MAX = 1_000_000


@dataclass
class Request:
    """One command's request, as the daemon tracks it (for cancel and for `vidgen daemon status`)."""

    op: str
    client_pid: int | None
    started: float = field(default_factory=time.monotonic)
    service_id: int | None = None
    running: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)


class Daemon:
    def __init__(self, workspace: Workspace, settings: RenderSettings, identity: str, idle_s: float):
        self.files = DaemonFiles(workspace.state_dir)
        self.service = RenderService(workspace, settings, cache=DAEMON_CACHE)
        self.identity = identity
        self.idle_s = idle_s
        self.started = time.time()
        self.last_activity = time.monotonic()
        self.served = 0
        self.clients = 0
        self.requests: dict[tuple[int, Any], Request] = {}
        self._lock = threading.Lock()
        self._turn = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None

    # ------------------------------------------------------------------ lifetime

    def serve(self) -> None:
        self.files.prepare()
        run_lock = open(self.files.run_lock, "a")
        try:
            fcntl.flock(run_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("another render daemon already serves this workspace", file=sys.stderr)
            sys.exit(75)
        self.files.socket.unlink(missing_ok=True)  # ours to replace: we hold the run lock
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is created 0600: nobody else may connect
        try:
            with socket_address(self.files.socket) as address:
                listener.bind(address)
        finally:
            os.umask(old_umask)
        listener.listen(16)
        listener.settimeout(1.0)
        self._listener = listener
        signal.signal(signal.SIGTERM, lambda *_: self._stopping.set())
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # its own session; a stray Ctrl-C is not a stop
        log(f"serving {self.files.socket} (vidgen {__version__}, identity {self.identity}, idle {self.idle_s:g}s)")
        # Start Node (and through it the checker and the bundler) while the first command connects.
        threading.Thread(target=self._warm, daemon=True).start()
        try:
            while not self._stopping.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    if self._idle():
                        log(f"idle for {self.idle_s:g}s: exiting")
                        break
                    continue
                threading.Thread(target=self._converse, args=(client,), daemon=True).start()
        finally:
            self._shut_down()

    def _warm(self) -> None:
        try:
            self.service.start()
        except Exception as exc:  # noqa: BLE001 - the first request reports it to its command
            log(f"the render service did not start ahead: {exc}")

    def _idle(self) -> bool:
        with self._lock:
            return not self.clients and not self.requests and time.monotonic() - self.last_activity >= self.idle_s

    def _shut_down(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        self.files.socket.unlink(missing_ok=True)
        self.service.stop()
        log("stopped")

    # ------------------------------------------------------------------ one command

    def _converse(self, sock: socket.socket) -> None:
        pid, uid = peer(sock)
        if uid != os.getuid():
            sock.close()  # the socket is 0600 already; this is the second wall
            return
        # A command that stops reading (Ctrl-Z) must not stall the render it holds the turn with: a send
        # that waits this long counts as the command gone, and its requests are cancelled.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", _SEND_TIMEOUT_S, 0))
        connection = Connection(sock)
        mine: set[int] = set()
        client = False  # a command that said hello; `daemon status` and `stop` are not clients
        try:
            while not self._stopping.is_set():
                message = connection.receive()
                if message is None:
                    break
                op = message.get("op")
                if op == "hello":
                    connection.send(self._hello())
                    if not client:
                        client = True
                        with self._lock:
                            self.clients += 1
                elif op == "status":
                    connection.send(self.status())
                elif op == "stop":
                    connection.send({"event": "stopping"})
                    self._stopping.set()
                    break
                elif op == "restart":
                    self._restart(connection)
                elif op == "cancel":
                    self._cancel((id(connection), message.get("target")))
                elif op == "previews" and isinstance(message.get("id"), int):
                    # Not the command's to cancel: it may end before its previews are made.
                    threading.Thread(target=self._make_previews, args=(connection, pid, message), daemon=True).start()
                elif op in OPS and isinstance(message.get("id"), int):
                    mine.add(message["id"])
                    # Known before the next message is read: a cancel right behind the request finds it.
                    request = self._track(connection, pid, message)
                    threading.Thread(target=self._run, args=(connection, request, message), daemon=True).start()
                elif isinstance(message.get("id"), int):
                    reply = ServiceFault("protocol", f"the render daemon has no op {str(op)[:40]!r}", by="vidgen")
                    connection.send({"id": message["id"], "error": reply.to_wire()})
        finally:
            # The command is gone (done, Ctrl-C or killed): what it still had under way is nobody's.
            for request_id in mine:
                self._cancel((id(connection), request_id))
            connection.close()
            with self._lock:
                self.clients -= int(client)
                if client or mine:  # a look (`daemon status`) is no use: it does not keep the daemon alive
                    self.last_activity = time.monotonic()

    def _restart(self, connection: Connection) -> None:
        """A command's page timed out and may still spin: restart Node, unless that would kill another
        command's work (the service's own timeouts still restart it when it really hangs)."""
        with self._lock:
            others = any(key[0] != id(connection) and r.running for key, r in self.requests.items())
        if others:
            log("a restart was asked while other commands' requests run: left for later")
            return
        self.service.kill()

    def _hello(self) -> dict[str, Any]:
        with self._lock:
            # A connected command (a watch between saves, a batch between items) counts: it would lose
            # its service if a newcomer with other settings replaced this daemon.
            busy = bool(self.requests or self.clients)
        return {
            "event": "hello",
            "identity": self.identity,
            "vidgen": __version__,
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "service_pid": self.service.pid,
            "busy": busy,
        }

    def _track(self, connection: Connection, client_pid: int | None, message: dict[str, Any]) -> Request:
        request = Request(str(message["op"]), client_pid)
        with self._lock:
            self.requests[(id(connection), message["id"])] = request
        return request

    def _run(self, connection: Connection, request: Request, message: dict[str, Any]) -> None:
        request_id = message["id"]
        key = (id(connection), request_id)
        try:
            if self._stopping.is_set():  # no new Node for a daemon on its way out
                raise Cancelled("the render daemon is stopping")
            args: dict[str, Any] = message["args"] if isinstance(message.get("args"), dict) else {}
            if _RESERVED & set(args):
                raise ValueError(f"arguments may not be named {sorted(_RESERVED & set(args))}")
            timeout_s = _seconds(message.get("timeout_s"), None) or 600.0
            idle_s = _seconds(message.get("idle_s"), None)

            def forward(event: Event) -> None:
                connection.send({**encode_event(event), "id": request_id})

            def started(service_id: int) -> None:
                request.service_id = service_id
                if request.cancelled.is_set():
                    self.service.cancel(service_id)

            with self._take_turn(request, connection, request_id):
                request.running = True
                result = self.service.request(
                    request.op, timeout_s=timeout_s, idle_s=idle_s, on_progress=forward, on_start=started, **args
                )
            connection.send({"id": request_id, "result": result})
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the command that asked
            if not isinstance(exc, (VidgenError, ServiceReplyError)):
                log(f"{request.op} failed in the daemon:\n{traceback.format_exc()}")
            connection.send({"id": request_id, "error": encode_error(exc)})
        finally:
            if request.op == "render" and request.cancelled.is_set():
                _remove_partial(message.get("args"))
            with self._lock:
                self.requests.pop(key, None)
                self.served += 1
                self.last_activity = time.monotonic()

    def _make_previews(self, connection: Connection, client_pid: int | None, message: dict[str, Any]) -> None:
        request = Request("previews", client_pid, running=True)
        key = (id(request), message["id"])  # a key no cancel names: the previews are nobody's to cancel
        with self._lock:
            self.requests[key] = request
        try:
            args = message.get("args")
            job = args.get("job") if isinstance(args, dict) else None
            try:
                if not isinstance(job, dict):
                    raise TypeError("no job")
                made = self.service.previews(previews.PreviewJob.from_json(job))
            except (TypeError, ValueError, KeyError, AttributeError):
                problem: str | None = "the previews' job was not one vidgen wrote"
            else:
                problem = made.result()  # one job at a time, in the order the renders asked
            connection.send({"id": message["id"], "result": {"problem": problem}})
        finally:
            with self._lock:
                self.requests.pop(key, None)
                self.served += 1
                self.last_activity = time.monotonic()

    @contextlib.contextmanager
    def _take_turn(self, request: Request, connection: Connection, request_id: int):  # type: ignore[no-untyped-def]
        if request.op not in _TAKES_TURNS:
            yield
            return
        while not self._turn.acquire(timeout=_QUEUED_EVERY_S):
            if request.cancelled.is_set():
                raise Cancelled(f"{request.op} was cancelled")
            connection.send({**encode_event(Queued(self._queued() - 1)), "id": request_id})
        try:
            if request.cancelled.is_set():
                raise Cancelled(f"{request.op} was cancelled")
            yield
        finally:
            self._turn.release()

    def _queued(self) -> int:
        with self._lock:
            return sum(1 for r in self.requests.values() if r.op in _TAKES_TURNS and not r.running)

    def _cancel(self, key: tuple[int, Any]) -> None:
        with self._lock:
            request = self.requests.get(key)
        if request is None:
            return
        request.cancelled.set()
        if request.service_id is not None:
            self.service.cancel(request.service_id)

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            requests = [
                {"op": r.op, "client_pid": r.client_pid, "seconds": round(now - r.started, 1), "running": r.running}
                for r in self.requests.values()
            ]
            idle_for = 0.0 if self.clients or self.requests else now - self.last_activity
            answer = {
                "event": "status",
                "pid": os.getpid(),
                "vidgen": __version__,
                "protocol": PROTOCOL_VERSION,
                "identity": self.identity,
                "socket": str(self.files.socket),
                "uptime_s": round(time.time() - self.started, 1),
                "idle_s": self.idle_s,
                "idle_for_s": round(idle_for, 1),
                "exits_in_s": None if self.clients or self.requests else round(max(0.0, self.idle_s - idle_for), 1),
                "clients": self.clients,
                "requests": requests,
                "queued": sum(1 for r in requests if r["op"] in _TAKES_TURNS and not r["running"]),
                "served": self.served,
                "service_pid": self.service.pid,
            }
        # Outside the lock: a scan of the processes on a busy machine must not hold up the requests that take it.
        return {**answer, "memory_mb": tree_memory_mb(os.getpid())}


def _remove_partial(args: Any) -> None:
    """A cancelled render's half-written file: its command is gone and cannot remove it (only vidgen's own
    `.NAME.partial-PID.ext` names are touched)."""
    output = args.get("output") if isinstance(args, dict) else None
    if isinstance(output, str) and PARTIAL_NAME.fullmatch(Path(output).name):
        with contextlib.suppress(OSError):
            Path(output).unlink()


def _seconds(value: Any, default: float | None) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf"):
        return float(value)
    return default


def log(line: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}", file=sys.stderr, flush=True)


def main() -> None:
    config = json.loads(os.environ.pop("VIDGEN_DAEMON_CONFIG"))
    workspace = Workspace(Path(config["root"]))
    known = {f.name for f in dataclasses.fields(RenderSettings)}
    settings = RenderSettings(**{k: v for k, v in config["render"].items() if k in known})
    files = DaemonFiles(workspace.state_dir)
    with contextlib.suppress(OSError):
        if files.log.lstat().st_size > _LOG_MAX:
            log_fd = os.open(files.log, os.O_WRONLY | os.O_NOFOLLOW)
            try:
                os.ftruncate(log_fd, 0)
            finally:
                os.close(log_fd)
    Daemon(workspace, settings, str(config["identity"]), float(config["idle_s"])).serve()
    # Threads of commands still connected are daemons: nothing waits for them.
    os._exit(0)


if __name__ == "__main__":
    main()
