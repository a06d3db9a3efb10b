"""`vidgen watch` as a user runs it: a real watch session in a subprocess, real saves, real renders."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from vidgen.media import probe as media
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.workspace import history

from .helpers import MOVING, VIDGEN, component, ctrl_c_reaches_it, group_members, service_groups

pytestmark = pytest.mark.render


class WatchProcess:
    """`vidgen watch` in a subprocess, its stderr collected line by line."""

    def __init__(self, root: Path, *args: str, env: dict | None = None):
        self.process = subprocess.Popen(
            [*VIDGEN, "watch", *args],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
            preexec_fn=ctrl_c_reaches_it,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def count(self, pattern: str) -> int:
        return sum(1 for line in list(self.lines) if re.search(pattern, line))

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matches = [line for line in list(self.lines) if re.search(pattern, line)]
            if len(matches) >= count:
                return matches[count - 1]
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {count}x {pattern!r} in:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def test_a_watch_session(workspace, make_video) -> None:
    video = make_video("watched", {"index.tsx": component(MOVING, frames=45)})
    output = workspace.out_dir / "watched.mp4"
    watch = WatchProcess(workspace.root, "watched")
    try:
        first = watch.wait_for(r"✓ .* ok ")
        assert "first still" in first and "mp4" in first and str(output) in first
        assert watch.count(r"first still: .*frame-0+\.jpeg") == 1  # shown before the MP4
        watch.wait_for(r"contact sheet: .*watched\.sheet\.png")  # and the contact sheet after it
        good = output.read_bytes()
        groups = service_groups(watch.process.pid)

        # A syntax error: an error line, the previous MP4 kept.
        video.entry.write_text(component(MOVING, frames=45).replace("return (", "return (\n  <oops"))
        error = watch.wait_for(r"✗ ")
        assert re.search(r"(lint|typecheck|bundle): index\.tsx:\d+", error) and "kept" in error
        assert output.read_bytes() == good

        # The fix recovers.
        video.entry.write_text(component(MOVING.replace("#f7b733", "#33ff66"), frames=45))
        watch.wait_for(r"✓ .* ok ", count=2)

        # A burst of saves gives one cycle.
        for colour in ("#111111", "#222222", "#333333", "#444444", "#555555"):
            video.entry.write_text(component(MOVING.replace("#203060", colour), frames=45))
            time.sleep(0.03)
        watch.wait_for(r"✓ .* ok ", count=3)
        time.sleep(4)
        # One finished cycle for the burst. On a loaded machine a save can stall past watch's 150 ms step and split
        # the burst in two: the first cycle is then cancelled by the newer save, never finished (seen in CI).
        assert watch.count(r"✓ .* ok ") == 3 and watch.count("cancelled") <= 1

        # A save during a render cancels it; the latest save wins.
        video.entry.write_text(component(MOVING, frames=150))
        watch.wait_for(r"first still:", count=4)
        time.sleep(1.5)
        video.entry.write_text(component(MOVING, frames=40))
        watch.wait_for("cancelled")
        watch.wait_for(r"✓ .* ok ", count=4)
        assert media.probe(output, workspace).frames == 40

        # A component that loops forever: the cycle times out, the service restarts, watch goes on.
        looping = "if (frame >= 5) {\n  while (true) {\n    // stuck\n  }\n}\n" + MOVING
        video.entry.write_text(component(looping, frames=40))
        timeout = watch.wait_for(r"✗ .*did not finish", timeout=90)
        # Frame 0 is drawn first, then the render itself reaches frame 5, the first that loops.
        assert "render: frame 5 did not finish in time" in timeout, timeout
        video.entry.write_text(component(MOVING, frames=30))
        watch.wait_for(r"✓ .* ok ", count=5)

        # The folder deleted while watched, then restored.
        saved = video.entry.read_text()
        shutil.rmtree(video.folder)
        watch.wait_for("is gone")
        video.folder.mkdir()
        video.entry.write_text(saved)
        watch.wait_for(r"✓ .* ok ", count=6)
        groups |= service_groups(watch.process.pid)
    finally:
        code = watch.stop()
    assert code == 0, "\n".join(watch.lines)
    assert "watch stopped" in watch.lines[-1]
    for group in groups:
        assert group_members(group) == set()
    assert not [p for p in workspace.out_dir.iterdir() if ".partial" in p.name]
    assert output.exists()


def test_watch_repairs_model_code_but_not_hand_edits(workspace, make_video) -> None:
    broken = component("return <AbsoluteFill style={{backgroundColor: COLOUR}} />;")
    video = make_video("watched-repair", {"index.tsx": broken})
    history.record(video, "new", "a square")  # as if the model wrote it
    fixed = f"Fixed.\n\n```tsx index.tsx\n{component(MOVING)}```\n"
    with ScriptedModel([Scripted(fixed)]) as server:
        env = {"VIDGEN_PROVIDER": "ollama", "VIDGEN_BASE_URL": server.base_url, "VIDGEN_MODEL_RETRIES": "0"}
        watch = WatchProcess(workspace.root, "watched-repair", "--repair", env=env)
        try:
            watch.wait_for(r"✗ .*typecheck")
            repaired = watch.wait_for(r"✓ .* ok ")
            # The cycle's own time: the model's turn and the render, not 0.
            total = float(re.search(r"total (\d+\.\d+)s", repaired)[1])
            model_s = float(re.search(r"model (\d+\.\d+)s", repaired)[1])
            assert total > 0.5 and total >= model_s, repaired
            assert len(server.requests) == 1
            assert "COLOUR" in server.requests[0]["body"]["messages"][1]["content"]
            time.sleep(3)  # vidgen's own write must not start another cycle
            assert watch.count(r"[✓✗] \d") == 2
            video.entry.write_text(broken.replace("COLOUR", "HAND_EDIT"))
            watch.wait_for(r"✗ .*HAND_EDIT")
            watch.wait_for("edited this code by hand")
            assert len(server.requests) == 1
        finally:
            assert watch.stop() == 0
    assert [v.meta["kind"] for v in history.versions(video)] == ["new", "repair"]


def test_watch_with_the_model_down_goes_on(workspace, make_video) -> None:
    video = make_video("watched-down", {"index.tsx": component("return <AbsoluteFill style={{backgroundColor: COLOUR}} />;")})
    env = {"VIDGEN_PROVIDER": "ollama", "VIDGEN_BASE_URL": "http://127.0.0.1:9/v1", "VIDGEN_MODEL_RETRIES": "0"}
    watch = WatchProcess(workspace.root, "watched-down", "--repair=all", env=env)
    try:
        watch.wait_for(r"✗ .*typecheck")
        watch.wait_for(r"model: cannot reach .*watch goes on")
        video.entry.write_text(component(MOVING))
        watch.wait_for(r"✓ .* ok ")
    finally:
        assert watch.stop() == 0


def test_watching_a_video_that_does_not_exist(workspace) -> None:
    done = subprocess.run([*VIDGEN, "watch", "nothing-here"], cwd=workspace.root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no video 'nothing-here'" in done.stderr
