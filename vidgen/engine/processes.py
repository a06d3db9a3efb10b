"""The processes vidgen starts and ends: spawned from one lasting thread, ended with their whole group, seen through psutil."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil

# bubblewrap's --die-with-parent ties the jail's life to the *thread* that started it (the kernel's
# parent-death signal follows threads), so every service is started from this one thread, which lives
# as long as vidgen: a service started by a batch worker or a daemon's handler outlives that thread,
# and a vidgen killed outright takes its jail, Node and Chromium with it.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidgen-spawner")


def spawn_from_a_lasting_thread(command: list[str], **options: Any) -> subprocess.Popen[str]:
    return _SPAWNER.submit(lambda: subprocess.Popen(command, **options)).result()


def json_messages(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects among a child's lines of output (its protocol); any other line is skipped."""
    for line in lines:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict):
            yield message


def process_alive(pid: int) -> bool:
    """Whether a process with this pid runs (another user's counts; a zombie has ended, whoever reaps it)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # ZombieProcess too: on some systems a zombie cannot even be asked
        return False
    except psutil.AccessDenied:
        return True


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in a process group."""
    members = []
    for process in psutil.process_iter(["status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            if os.getpgid(process.pid) == pgid:
                members.append(process.pid)
        except OSError:  # gone since the listing
            continue
    return members


def cmdline_contains(pid: int, text: str) -> bool:
    """Whether `text` is in one of the process's command-line arguments (False for a zombie, a stranger's or none)."""
    try:
        return any(text in argument for argument in psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def end_group(process: subprocess.Popen[Any], grace_s: float = 5.0) -> None:
    """End a child started in a session of its own and everything it started: SIGTERM, SIGKILL after `grace_s`."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            break  # nobody is left in the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait_s)
        wait_for_group_exit(process.pid, wait_s)
        if not group_members(process.pid):
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def wait_for_group_exit(pgid: int, timeout_s: float = 5.0) -> None:
    """SIGKILL is not instant: wait until Chromium's processes are really gone.

    Polled by group, not with psutil.wait_procs: a process that is not our child stays a zombie
    until its own parent reaps it, and wait_procs would wait for that.
    """
    deadline = time.monotonic() + timeout_s
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def tree_memory_mb(root: int) -> float | None:
    """Resident memory of the daemon, its Node service and Chromium; None when `root` is gone."""
    try:
        tree = [psutil.Process(root)]
        tree += tree[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return None
    total = 0
    for process in tree:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # ended since the listing (or, in a jail, not ours to read)
    return round(total / 1e6, 1)
