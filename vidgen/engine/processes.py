"""The processes vidgen starts and ends: spawned from one lasting thread, ended with their whole group, seen in /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# bubblewrap's --die-with-parent ties the jail's life to the *thread* that started it (the kernel's
# parent-death signal follows threads), so every service is started from this one thread, which lives
# as long as vidgen: a service started by a batch worker or a daemon's handler outlives that thread,
# and a vidgen killed outright takes its jail, Node and Chromium with it.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidgen-spawner")


def spawn_from_a_lasting_thread(command: list[str], **options: Any) -> subprocess.Popen[str]:
    return _SPAWNER.submit(lambda: subprocess.Popen(command, **options)).result()


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in a process group, read from /proc."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


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
    """SIGKILL is not instant: wait until Chromium's processes are really gone."""
    if not os.path.isdir("/proc"):
        return
    deadline = time.monotonic() + timeout_s
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def tree_memory_mb(root: int) -> float | None:
    """Resident memory of the daemon, its Node service and Chromium, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return None
    for name in entries:
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
        rss[int(name)] = int(fields[21]) * page
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return round(total / 1e6, 1)
