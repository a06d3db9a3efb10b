"""The render service of this process: a long-lived Node process speaking JSON lines on stdio.

Python owns its lifetime: it starts it on first use, times requests out, cancels them,
restarts it after a crash, and kills its whole process group so no Chromium survives.
The ops, their arguments and events are documented in docs/protocol.md; each op has
a typed method in ops.py (`service.render(RenderArgs(...))`), so no caller spells a wire key.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from ..errors import ServiceError, UsageError
from ..media import previews, yielding
from ..settings import RenderSettings
from ..workspace import resources
from ..workspace.project import Workspace
from .browser import find_browser, launcher
from .messages import Event, stuck_frame
from .ops import ServiceOps
from .processes import json_messages, process_alive, spawn_from_a_lasting_thread, wait_for_group_exit
from .protocol import (
    PROTOCOL_VERSION,
    installed_remotion,
    version_problem,
)
from .sandbox import (
    BROWSER_FLAGS,
    FileSandbox,
    NetworkSandbox,
    require_file_sandbox,
    require_network_sandbox,
    service_environment,
    service_jail,
    service_writable,
)
from .transport import Waiting

_STARTUP_TIMEOUT_S = 60
# The ops that write a file, and the argument that names it.
_OUTPUTS = {"render": "output", "still": "output", "stills": "outputDir"}


# Whose webpack cache a service keeps (builds.mjs names the folder after it): the daemon's, a command's own.
DAEMON_CACHE = "daemon"
COMMAND_CACHE = "command"


class RenderService(ServiceOps):
    """One warm Node process per workspace; thread-safe, restarted on demand."""

    def __init__(
        self, workspace: Workspace, settings: RenderSettings, file_sandbox: FileSandbox | None = None, cache: str = COMMAND_CACHE
    ):
        """`file_sandbox`: the jail to start in, this machine's by default (a benchmark's control passes an
        inactive one, with `allow_unsandboxed`); `cache`: whose webpack cache it keeps (the daemon's is its own)."""
        super().__init__()
        self.cache = cache
        self.workspace = workspace
        self.settings = settings
        self._file_sandbox = file_sandbox
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        # A render's previews, one at a time in the order of the renders, beside the next render's checks;
        # they yield to every request of this service (the daemon's requests are its service's): the gate
        # pauses their ffmpeg and their Pillow steps while any runs (media/yielding.py).
        self._previews: ThreadPoolExecutor | None = None
        self.gate = yielding.Gate()
        self._log: TextIO | None = None
        self.sandbox: NetworkSandbox | None = None
        self.jail: FileSandbox | None = None

    # ------------------------------------------------------------------ lifetime

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.poll() is None else None

    def start(self) -> None:
        with self._lock:
            if self._process and self._process.poll() is None:
                return
            self._spawn()

    def _spawn(self) -> None:
        self.workspace.require_node_modules()
        node = shutil.which("node")
        if not node:
            raise UsageError("node was not found: install Node.js 20 (e.g. `apt-get install -y nodejs`)")
        browser_path = find_browser(self.settings.browser)
        self.workspace.state_dir.mkdir(exist_ok=True)
        flags = self._browser_flags()
        browser = launcher(self.workspace.state_dir, browser_path, flags)
        # By its real path: the jail mounts the template there (a template reached through a link is not).
        command = self._confined([node, os.path.realpath(self.workspace.service_script)], [node, browser_path])
        self._log = open(self.workspace.state_dir / "service.log", "a", encoding="utf-8")
        bundle_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        remove_stale_bundles(self.workspace)
        config = {
            "browser": browser,
            "gl": self.settings.gl or None,
            "logLevel": "error",
            "bundleId": bundle_id,
            "cacheName": self.cache,
        }
        env = service_environment({"VIDGEN_SERVICE_SETTINGS": json.dumps(config), "REMOTION_DISABLE_TELEMETRY": "1"})
        # Its own session, so that killing the group ends Node and every Chromium it started. In the jail
        # the process Python waits for is bwrap (its namespace ends with it); without the jail, the
        # namespace helper execs Node, so it is Node itself.
        self._process = spawn_from_a_lasting_thread(
            command,
            cwd=self.workspace.root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            start_new_session=True,
            env=env,
        )
        ready: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self._process, ready), daemon=True).start()
        try:
            message = ready.get(timeout=_STARTUP_TIMEOUT_S)
        except queue.Empty:
            message = None
        if message is None:
            self._kill_group()
            # A workspace with another Remotion may fail before it can say so: tell the cause, not the symptom.
            problem = version_problem(self.workspace, PROTOCOL_VERSION, installed_remotion(self.workspace))
            if problem:
                raise UsageError(problem)
            raise ServiceError(f"the render service did not start: {self.log_tail() or 'no output'}", kind="start")
        problem = version_problem(self.workspace, message.get("protocol"), message.get("remotion"))
        if problem:
            self._kill_group()
            raise UsageError(problem)

    def _browser_flags(self) -> str:
        """The configured flags, and the browser's own network wall unless the network is allowed."""
        if self.settings.allow_network:
            return self.settings.browser_flags
        return f"{self.settings.browser_flags} {shlex.join(BROWSER_FLAGS)}"

    def _confined(self, command: list[str], programs: list[str]) -> list[str]:
        """The service's command line: in the file jail (which also cuts the network off) where bubblewrap
        runs; else, when the user allowed that, in a network namespace of its own unless allowed out."""
        self.jail = require_file_sandbox(self.settings.allow_unsandboxed, self._file_sandbox)
        if self.jail.active:
            self.sandbox = NetworkSandbox("bubblewrap") if not self.settings.allow_network else NetworkSandbox("", "allowed")
            jail = service_jail(self.workspace.root, resources.template_dir(), programs)
            return self.jail.wrap(command, jail, network=self.settings.allow_network)
        self.sandbox = require_network_sandbox(self.settings.allow_network)
        if self.settings.allow_network:
            return command
        return self.sandbox.wrap(command)

    def _check_output(self, op: str, args: dict[str, Any]) -> None:
        """A file the jailed service writes must be in a folder the jail lets it write: anywhere else, it would
        land in the jail's own tmpfs and vanish with it."""
        key = _OUTPUTS.get(op)
        if key is None or not (self.jail and self.jail.active) or not isinstance(args.get(key), str):
            return
        target = Path(os.path.realpath(args[key]))
        allowed = [Path(os.path.realpath(folder)) for folder in service_writable(self.workspace.root)]
        if not any(target.is_relative_to(folder) for folder in allowed):
            places = " or ".join(str(folder) for folder in allowed[:2])
            raise UsageError(f"the render service writes only inside {places}, not {target}: write there and move the file")

    def _read(self, process: subprocess.Popen[str], ready: queue.Queue[dict[str, Any] | None]) -> None:
        assert process.stdout is not None
        for message in json_messages(process.stdout):
            if message.get("event") == "ready":
                ready.put(message)
            else:
                self.requests.deliver(message)
        ready.put(None)
        self.requests.end()

    def stop(self, grace_s: float = 3.0) -> None:
        """Ask the service to close its browser and exit, killing the group if it does not; then let the
        previews under way finish (they need no service: its browser's memory is free meanwhile), never
        paused: a request still counted (its thread not yet back) holds nothing up."""
        try:
            self._stop_process(grace_s)
        finally:
            with self._lock:
                making, self._previews = self._previews, None
            if making is not None:
                with self.gate.released():
                    making.shutdown(wait=True)  # a command never exits with half a GIF

    def _stop_process(self, grace_s: float) -> None:
        with self._lock:
            process = self._process
            if process is None:
                return
            if process.poll() is None:
                try:
                    assert process.stdin is not None
                    process.stdin.write(json.dumps({"id": 0, "op": "shutdown"}) + "\n")
                    process.stdin.flush()
                    process.wait(timeout=grace_s)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill_group()

    def kill(self) -> None:
        with self._lock:
            self._kill_group()

    def _kill_group(self) -> None:
        process = self._process
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        wait_for_group_exit(process.pid)
        for stream in (process.stdin, process.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        if self._log:
            self._log.close()
            self._log = None
        self._process = None

    def log_tail(self, lines: int = 5) -> str:
        """The log's last lines that could say why the service stopped (never a favicon's 404)."""
        path = self.workspace.state_dir / "service.log"
        if not path.exists():
            return ""
        telling = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip() and not is_noise(line)]
        return " | ".join(telling[-lines:])

    # ------------------------------------------------------------------ requests

    def request(self, op: str, **kwargs: Any) -> dict[str, Any]:
        """ServiceOps.request, with the previews paused while it runs, whatever its end."""
        with self.gate.rendering():
            return super().request(op, **kwargs)

    def _frame(self, waiting: Waiting, op: str, args: dict[str, Any], timeout_s: float, idle_s: float | None) -> dict[str, Any]:
        self._check_output(op, args)
        return {"id": waiting.id, "op": op, **args}

    def _send(self, op: str, message: dict[str, Any]) -> None:
        with self._lock:
            process = self._process
            try:
                if process is None or process.stdin is None:  # killed since start(), by another thread's timeout
                    raise OSError("restarted")
                process.stdin.write(json.dumps(message) + "\n")
                process.stdin.flush()
            except OSError:
                raise ServiceError(f"the render service exited before it took {op}", kind="crash") from None

    def _expired(self, op: str, waiting: Waiting, waited_s: float, last: Event | None) -> Exception:
        self.kill()  # the page may still spin: only a new process is sure to be free of it
        return ServiceError(
            f"{op} made no progress for {waited_s:g}s; the render service was restarted", kind="timeout", frame=stuck_frame(last)
        )

    def _ended(self, op: str, last: Event | None) -> Exception:
        self.kill()
        tail = self.log_tail()
        return ServiceError(
            f"the render service stopped during {op}{': ' + tail if tail else ''}", kind="crash", frame=stuck_frame(last)
        )

    def cancel(self, request_id: int) -> None:
        """Cancel a running request (Remotion's cancel signal); it ends with Cancelled."""
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None or process.stdin is None:
                return
            try:
                process.stdin.write(json.dumps({"id": 0, "op": "cancel", "target": request_id}) + "\n")
                process.stdin.flush()
            except OSError:
                pass

    def abandon(self) -> None:
        self.kill()  # its Node process is this command's alone

    def previews(self, job: previews.PreviewJob) -> Future[str | None]:
        with self._lock:
            if self._previews is None:
                self._previews = ThreadPoolExecutor(max_workers=1, thread_name_prefix="previews")
            return self._previews.submit(previews.run, job, self.gate)


# Log lines that are never why a service stopped: the browser asks every page's server for
# /favicon.ico (a 404 from Remotion's file server), and Chromium chats at INFO, WARNING and VERBOSE
# level, or about the D-Bus and GPU a container lacks. Its ERROR and FATAL lines may be the cause.
_NOISE = re.compile(
    r"favicon\.ico"
    r"|^\[[\d/.:]+:(INFO|WARNING|VERBOSE\d*):"
    r"|^\[[\d/.:]+:ERROR:(bus|dbus\w*|object_proxy|gpu\w*|viz_main\w*|angle\w*)\.cc\(\d+\)\]"
)


def is_noise(line: str) -> bool:
    return bool(_NOISE.search(line.strip()))


def remove_stale_bundles(workspace: Workspace) -> None:
    """Builds left in .vidgen/bundle/ by services whose vidgen process is gone (killed outright).

    Each service's folder is named `<pid of its vidgen>-<token>`: the service itself cannot tell,
    from inside its jail's own pid namespace, which other processes are alive."""
    parent = workspace.state_dir / "bundle"
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        owner = entry.name.split("-", 1)[0]
        if not owner.isdigit() or not process_alive(int(owner)):
            shutil.rmtree(entry, ignore_errors=True)
