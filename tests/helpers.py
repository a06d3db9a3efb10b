"""Helpers shared by the test modules: running the CLI, scripted replies, tiny videos, processes in /proc."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from vidgen.engine import processes
from vidgen.engine.browser import find_browser
from vidgen.model.client import ModelClient, ModelOptions
from vidgen.model.providers import Endpoint
from vidgen.model.scripted import ScriptedModel
from vidgen.workspace.project import Video, Workspace

# ---------------------------------------------------------------- the command line

VIDGEN = [sys.executable, "-m", "vidgen"]


def vidgen(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VIDGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def ctrl_c_reaches_it() -> None:
    """`preexec_fn` of a child a test sends Ctrl-C: a suite started in the background (`make test &`, a CI
    runner) inherits SIGINT ignored, and so would the child, which then never sees the Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until(condition: Callable[[], bool], within_s: float = 60.0) -> bool:
    """Whether `condition()` holds within `within_s` (work a daemon does after a command ends, on a loaded machine)."""
    deadline = time.monotonic() + within_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


def wait_for_file(path: Path, within_s: float = 60.0) -> bool:
    """Whether `path` exists within `within_s` (a command on the daemon may end before its previews are made)."""
    return wait_until(path.is_file, within_s)


def model_flags(server) -> list[str]:
    """Point a command at a scripted model on 127.0.0.1."""
    return ["--base-url", server.base_url, "--provider", "ollama"]


def assert_one_line_error(done: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert done.returncode == code, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# ---------------------------------------------------------------- the model


def reply(source: str, path: str = "index.tsx") -> str:
    """A model reply holding one whole file."""
    return f"Here is the video.\n\n```tsx {path}\n{source}```\n"


def model(server: ScriptedModel) -> ModelClient:
    """A client for a scripted model on 127.0.0.1."""
    return ModelClient(Endpoint("custom", server.base_url, None, False), ModelOptions(model="scripted", backoff_base_s=0.01))


# ---------------------------------------------------------------- videos


@contextlib.contextmanager
def videos_written(workspace: Workspace, sources: dict[str, dict[str, str]]) -> Iterator[dict[str, Video]]:
    """Every video of `sources` ({name: {file: text}}) written at once, so that one bundle serves them all;
    removed afterwards."""
    made = {}
    for name, files in sources.items():
        video = workspace.video(name)
        shutil.rmtree(video.folder, ignore_errors=True)
        video.folder.mkdir(parents=True)
        for file, text in files.items():
            (video.folder / file).write_text(textwrap.dedent(text).lstrip())
        made[name] = video
    try:
        yield made
    finally:
        for video in made.values():
            shutil.rmtree(video.folder, ignore_errors=True)


def component(body: str, *, width: int = 640, height: int = 360, frames: int = 30, fps: int = 30, imports: str = "") -> str:
    """A tiny video's index.tsx: `body` is the component's JSX return, with `frame` in scope."""
    return (
        "import React from 'react';\n"
        "import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';\n"
        f"{imports}\n"
        f"export const config = {{durationInFrames: {frames}, fps: {fps}, width: {width}, height: {height}}};\n"
        "\n"
        "const Video: React.FC = () => {\n"
        "  const frame = useCurrentFrame();\n"
        f"{textwrap.indent(textwrap.dedent(body).strip(), '  ')}\n"
        "};\n"
        "\n"
        "export default Video;\n"
    )


MOVING = """
const x = interpolate(frame, [0, 29], [0, 500], {extrapolateRight: 'clamp'});
return (
  <AbsoluteFill style={{backgroundColor: '#203060'}}>
    <div style={{position: 'absolute', left: x, top: 120, width: 100, height: 100, backgroundColor: '#f7b733'}} />
  </AbsoluteFill>
);
"""


# ---------------------------------------------------------------- processes


def browser_executable() -> str:
    """The browser vidgen renders with, found the way vidgen finds it (VIDGEN_BROWSER, else the first installed)."""
    return find_browser(os.environ.get("VIDGEN_BROWSER", ""))


class Process(NamedTuple):
    parent: int
    group: int
    name: str


def _processes() -> dict[int, Process]:
    """Every live (not zombie) process, read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, fields = (entry / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError, ValueError):
            continue
        state, parent, group = fields.split()[:3]
        if state != "Z":
            found[int(entry.name)] = Process(int(parent), int(group), name)
    return found


def browser_name() -> str:
    """The browser's process name, as the kernel shows it (Debian's /usr/bin/chromium script runs
    /usr/lib/chromium/chromium, so the name of the program found, resolved, is the name of its processes)."""
    return Path(browser_executable()).resolve().name[:15]  # the kernel keeps 15 characters of a name


def browser_pids() -> set[int]:
    """Every running process of the browser vidgen renders with, on the whole machine."""
    name = browser_name()
    return {pid for pid, process in _processes().items() if process.name == name}


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Remotion starts the browser in a process group of its own)."""
    processes = _processes()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, process in processes.items() if process.parent in frontier} - found
        found |= frontier
    return found


def browser_descendants(pid: int) -> set[int]:
    """The browser processes below `pid`."""
    return descendants(pid) & browser_pids()


def still_running(pids: set[int], within_s: float = 10.0) -> set[int]:
    """Those of `pids` still alive after up to `within_s` seconds (a killed process takes a moment to go)."""
    deadline = time.monotonic() + within_s
    while (alive := pids & set(_processes())) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def group_members(pgid: int) -> set[int]:
    return set(processes.group_members(pgid))


def service_groups(parent: int) -> set[int]:
    """The process groups of the render services that process `parent` started."""
    found = _processes().items()
    return {p.group for pid, p in found if p.parent == parent and processes.cmdline_contains(pid, "render-service.mjs")}


def remove_video(workspace, name: str) -> None:
    """A video made by a test, gone with everything vidgen kept of it (history, kept renders), so a later
    test that picks the same name starts clean whatever the order."""
    import shutil

    shutil.rmtree(workspace.video(name).folder, ignore_errors=True)
    for kept in ("history", "renders"):
        shutil.rmtree(workspace.state_dir / kept / name, ignore_errors=True)
    (workspace.state_dir / "transcripts" / f"{name}.jsonl").unlink(missing_ok=True)
