"""The page's player: a Node process that bundles every video into Remotion's <Player> and rebuilds on each edit.

It runs service/ui-player.mjs in the render service's jail (the workspace's code and packages read-only, no
network), writing only .vidgen/ui/. Each build is a JSON line on its stdout; the page asks for the build
number and reloads the player when it grows, so hand edits in an editor show as they do in `watch`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from ..engine.processes import end_group, json_messages, process_alive, spawn_from_a_lasting_thread
from ..engine.sandbox import require_file_sandbox, require_network_sandbox, service_environment, service_jail
from ..errors import UsageError
from ..settings import RenderSettings
from ..workspace import resources
from ..workspace.project import Workspace


@dataclass
class Build:
    """The newest build: its number (0 before the first) and the files webpack could not bundle."""

    number: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    failed: str = ""  # why the bundler stopped, when it did


class Player:
    """The bundler process of one `vidgen ui`; `folder` holds the newest build (index.html and its chunks)."""

    def __init__(self, workspace: Workspace, settings: RenderSettings):
        self.workspace = workspace
        self.settings = settings
        self.folder = workspace.state_dir / "ui" / f"{os.getpid()}"
        self.build = Build()
        self._changed = threading.Condition()
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.workspace.require_node_modules()
        node = shutil.which("node")
        if not node:
            raise UsageError("node was not found: install Node.js 20 (e.g. `apt-get install -y nodejs`)")
        for left in self.folder.parent.glob("*"):  # the builds of a `vidgen ui` that was killed
            if left.is_dir() and left.name.isdigit() and not process_alive(int(left.name)):
                shutil.rmtree(left, ignore_errors=True)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        script = os.path.realpath(resources.template_dir() / "service" / "ui-player.mjs")
        command = self._confined([node, script, str(self.folder)], node)
        log = open(self.workspace.state_dir / "ui.log", "a", encoding="utf-8")
        self._process = spawn_from_a_lasting_thread(
            command,
            cwd=self.workspace.root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,  # so that stopping ends the whole group
            env=service_environment({"REMOTION_DISABLE_TELEMETRY": "1"}),
        )
        log.close()
        threading.Thread(target=self._read, args=(self._process,), daemon=True).start()

    def _confined(self, command: list[str], node: str) -> list[str]:
        """In the render service's jail, writing only .vidgen/ui/; else (allowed by the user) cut off the network."""
        sandbox = require_file_sandbox(self.settings.allow_unsandboxed)
        if sandbox.active:
            jail = service_jail(self.workspace.root, resources.template_dir(), [node])
            ui = self.workspace.state_dir.resolve() / "ui"
            return sandbox.wrap(command, replace(jail, writable=(*jail.writable, ui)))
        if self.settings.allow_network:
            return command
        return require_network_sandbox(False).wrap(command)

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for message in json_messages(process.stdout):
            with self._changed:
                if message.get("event") == "built":
                    self.build = Build(int(message.get("build", 0)), list(message.get("errors") or []))
                elif message.get("event") == "failed":
                    self.build = replace(self.build, failed=str(message.get("message", "")))
                self._changed.notify_all()
        with self._changed:
            if process.poll() is None or process.returncode != 0:
                self.build = replace(self.build, failed=self.build.failed or "the player's bundler stopped")
            self._changed.notify_all()

    def wait_for_build(self, after: int = 0, timeout_s: float = 120.0) -> Build:
        """The first build numbered above `after` (or the current one, when none came within `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self.build.number <= after and not self.build.failed and time.monotonic() < deadline:
                self._changed.wait(max(0.0, deadline - time.monotonic()))
            return self.build

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            try:
                process.stdin.close()  # the script closes webpack's watcher and exits
            except OSError:
                pass
        end_group(process, grace_s=3.0)
        shutil.rmtree(self.folder, ignore_errors=True)
