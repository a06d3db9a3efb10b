"""The render daemon's socket, for both its ends: where it lives, and one JSON-lines connection over it."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..workspace.project import Workspace

# The socket path must fit in sun_path (108 bytes); a deeper workspace is reached through its folder's fd.
_SUN_PATH_MAX = 100
_MESSAGE_MAX = 16 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class DaemonFiles:
    """Where a workspace's daemon lives: all of it in `.vidgen/`, readable by the owner only."""

    state_dir: Path

    @property
    def socket(self) -> Path:
        return self.state_dir / "daemon.sock"

    @property
    def start_lock(self) -> Path:
        return self.state_dir / "daemon.start.lock"

    @property
    def run_lock(self) -> Path:
        return self.state_dir / "daemon.lock"

    @property
    def log(self) -> Path:
        return self.state_dir / "daemon.log"

    def prepare(self) -> None:
        self.state_dir.mkdir(exist_ok=True)
        os.chmod(self.state_dir, 0o700)


def files_of(workspace: Workspace) -> DaemonFiles:
    return DaemonFiles(workspace.state_dir)


@contextlib.contextmanager
def socket_address(path: Path) -> Iterator[str]:
    """An address for `path` that fits a Unix socket's 108 bytes, however deep the workspace is."""
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        yield str(path)
        return
    folder = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


class Connection:
    """One JSON-lines conversation over a Unix socket; `send` is safe from several threads."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._reader = sock.makefile("rb")
        self._write_lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> bool:
        data = (json.dumps(message) + "\n").encode()
        with self._write_lock:
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                # The other side is gone or stopped reading: end the conversation, so its reader sees the end.
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)
                return False

    def receive(self) -> dict[str, Any] | None:
        """The next message, or None at the end, or on a line that is not one: a peer that sends what the protocol
        has not got is not trusted with the rest of the conversation."""
        try:
            line = self._reader.readline(_MESSAGE_MAX + 1)
        except (OSError, ValueError):
            return None
        if not line or len(line) > _MESSAGE_MAX:
            return None
        try:
            message = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        return message if isinstance(message, dict) else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._reader.close()
            self.sock.close()


def peer(sock: socket.socket) -> tuple[int | None, int | None]:
    """The connecting process's pid and uid (SO_PEERCRED)."""
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None, None
    pid, uid, _gid = struct.unpack("3i", creds)
    return pid, uid
