"""Preview work that yields to renders: a render's previews never slow the next render down.

One `Gate` per render service (this command's, or the daemon's: the daemon runs its service's),
told by the service when each of its requests starts and ends (`rendering()`); previews are
made on the service's own worker, which passes the gate down:

- ffmpeg runs through `Gate.run`: at the lowest CPU priority (nice 19, and SCHED_IDLE where
  the system has it, set in the child before it execs ffmpeg: no `preexec_fn` in a threaded
  daemon), in a process group of its own, which is stopped (SIGSTOP) as soon as a request
  starts and continued (SIGCONT) once none has run for `LINGER_S`; a new ffmpeg waits for its
  turn before it starts.
- Pillow's steps (the sheet, the poster's choice) call `Gate.wait_turn()` between steps.

Every request counts, not only `render` and `stills`: lint, typecheck and the bundle of the next
edit are on its command's critical path too, and one `vidgen render` is a run of requests with
gaps of milliseconds between them, which `LINGER_S` bridges. Nothing is ever left stopped: a
process is continued when it leaves the gate, whatever ended it; a request that fails or is
cancelled ends in `rendering()`'s finally like any other; `released()` (the service's stop)
continues everything and lets the previews finish. A process killed outright takes its ffmpeg
along (its parent-death signal is SIGKILL, which ends a stopped process too).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence

import ffmpeg

from .probe import ffmpeg_path

# How long after the last request ends the previews go on: a command's next request follows within
# milliseconds (a reply read, the next one sent), its verify and its exit within a few tenths.
LINGER_S = 0.5

# Run in the child, before it becomes ffmpeg (argv: the parent's pid, then the command): it ends with the
# thread that started it (a parent killed outright takes it along, stopped or not), at the lowest
# priority there is.
_LOWEST = (
    "import os, sys\n"
    "try:\n"
    "    import ctypes\n"
    "    ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL\n"
    "except (ImportError, OSError, AttributeError):\n"
    "    pass\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(1)  # the parent died before that was set\n"
    "os.nice(19)\n"
    "try:\n"
    "    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\n"
    "except (AttributeError, OSError):\n"
    "    pass\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class Gate:
    """Counts the requests under way; pauses preview work while any runs (see the module's doc)."""

    def __init__(self, linger_s: float = LINGER_S) -> None:
        self.linger_s = linger_s
        self._changed = threading.Condition()
        self._running = 0  # requests under way
        self._paused = False  # true from a request's start until `linger_s` after the last one ended
        self._ended = 0  # which end the pending resume is for: an older one's timer does nothing
        self._released = 0  # `released()` under way: never paused
        self._children: set[subprocess.Popen[bytes]] = set()

    # ------------------------------------------------------------------ the requests' side

    @contextlib.contextmanager
    def rendering(self) -> Iterator[None]:
        """Held for one request: preview work waits from its start until `linger_s` after the last one ended."""
        self.render_started()
        try:
            yield
        finally:
            self.render_ended()

    def render_started(self) -> None:
        with self._changed:
            self._running += 1
            if not self._paused and not self._released:
                self._paused = True
                self._signal_all(signal.SIGSTOP)

    def render_ended(self) -> None:
        with self._changed:
            self._running = max(0, self._running - 1)
            if self._running:
                return
            self._ended += 1
            ended = self._ended
        if self.linger_s <= 0:
            self._resume(ended)
            return
        timer = threading.Timer(self.linger_s, self._resume, args=(ended,))
        timer.daemon = True
        timer.start()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Preview work goes on whatever runs (the service is stopping and waits for it)."""
        with self._changed:
            self._released += 1
            self._go_on()
        try:
            yield
        finally:
            with self._changed:
                self._released -= 1
                if self._running and not self._released:
                    self._paused = True
                    self._signal_all(signal.SIGSTOP)

    # ------------------------------------------------------------------ the previews' side

    def wait_turn(self) -> None:
        """Return once no request holds preview work back (at once when none does)."""
        with self._changed:
            self._changed.wait_for(lambda: not self._paused)

    def run(self, argv: Sequence[str]) -> tuple[int, bytes, bytes]:
        """Run a command (ffmpeg) to its end at the lowest priority, stopped while requests run: its
        exit code, stdout and stderr. Never returns, or raises, with the process stopped or alive."""
        program = shutil.which(argv[0])
        if program is None:  # as Popen would say it, not as the priority wrapper would
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv[0])
        self.wait_turn()
        lowest = [sys.executable, "-I", "-S", "-c", _LOWEST, str(os.getpid())] if sys.executable else []
        process = subprocess.Popen(
            [*lowest, program, *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0,  # a group of its own, signalled whole
        )
        with self._changed:
            self._children.add(process)
            if self._paused:  # a request started since the turn was ours
                _signal(process, signal.SIGSTOP)
        try:
            out, err = process.communicate()
        except BaseException:
            _signal(process, signal.SIGKILL)  # a stopped process too
            process.wait()
            raise
        finally:
            with self._changed:
                self._children.discard(process)
        return process.returncode, out, err

    # ------------------------------------------------------------------ inside

    def _resume(self, ended: int) -> None:
        with self._changed:
            if self._running or ended != self._ended:
                return  # a request started meanwhile; its own end resumes
            self._go_on()

    def _go_on(self) -> None:
        if self._paused:
            self._paused = False
            self._signal_all(signal.SIGCONT)
        self._changed.notify_all()

    def _signal_all(self, sig: int) -> None:
        for process in self._children:
            _signal(process, sig)


def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the process's group while it has not been reaped (after that, its pid may be another's)."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)


def run_ffmpeg(stream: ffmpeg.nodes.OutputStream, gate: Gate | None) -> bytes:
    """Run an ffmpeg-python stream, its stdout and stderr captured: through `gate` when given (preview work),
    else at once as ffmpeg-python runs it. Its stdout; ffmpeg.Error (with ffmpeg's stderr) when it fails."""
    if gate is None:
        out, _ = stream.run(cmd=ffmpeg_path(), capture_stdout=True, capture_stderr=True)
        return bytes(out)
    argv = stream.compile(cmd=ffmpeg_path())
    code, out, err = gate.run(argv)
    if code != 0:
        raise ffmpeg.Error("ffmpeg", out, err)
    return out
