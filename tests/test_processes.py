"""What vidgen sees of processes: alive or not (a zombie is not), a group's members, a tree's memory, a command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

from vidgen.engine import processes

# A leader that starts a child and both sleep: a group of two, like a service and its browser.
FAMILY = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"


@contextmanager
def family() -> Iterator[subprocess.Popen[bytes]]:
    leader = subprocess.Popen([sys.executable, "-c", FAMILY, "vidgen-test-family"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(processes.group_members(leader.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        yield leader
    finally:
        processes.end_group(leader, grace_s=1)


def zombie() -> subprocess.Popen[bytes]:
    """A child that has ended and that nobody reaped yet."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.02)
    return child


def test_a_running_process_is_alive_and_an_ended_or_reaped_one_is_not() -> None:
    assert processes.process_alive(os.getpid())
    child = zombie()
    assert not processes.process_alive(child.pid), "a zombie is not alive"
    child.wait()
    assert not processes.process_alive(child.pid)


def test_a_group_lists_its_live_members_and_is_empty_once_ended() -> None:
    with family() as leader:
        members = processes.group_members(leader.pid)
        assert leader.pid in members and len(members) == 2
        os.killpg(leader.pid, signal.SIGKILL)
        started = time.monotonic()
        processes.wait_for_group_exit(leader.pid, 5)
        assert time.monotonic() - started < 5
        # The leader is our child, a zombie until reaped: not a member any more.
        assert processes.group_members(leader.pid) == []
        leader.wait()


def test_end_group_ends_the_leader_and_what_it_started() -> None:
    with family() as leader:
        child = next(pid for pid in processes.group_members(leader.pid) if pid != leader.pid)
        processes.end_group(leader, grace_s=1)
        assert leader.returncode is not None
        assert processes.group_members(leader.pid) == [] and not processes.process_alive(child)


def test_tree_memory_counts_the_children() -> None:
    alone = processes.tree_memory_mb(os.getpid())
    assert alone is not None and alone > 1
    with family():
        with_family = processes.tree_memory_mb(os.getpid())
        assert with_family is not None and with_family > alone  # two more Pythons, each several MB
    gone = zombie()
    gone.wait()
    assert processes.tree_memory_mb(gone.pid) is None


def test_a_command_line_is_looked_into() -> None:
    with family() as leader:
        assert processes.cmdline_contains(leader.pid, "vidgen-test-family")
        assert not processes.cmdline_contains(leader.pid, "vidgen.engine.daemon")
    assert not processes.cmdline_contains(leader.pid, "vidgen-test-family"), "an ended process has no command line"
