"""Live progress through the real CLI: timed stage lines and render percentages when piped, a live
display in a pseudo-terminal, nothing with --quiet, and `init`'s one line for `npm ci`."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest
from rich.console import Console

from vidgen.cli.progress import Reporter
from vidgen.model.scripted import Scripted, ScriptedModel

from .helpers import MOVING, VIDGEN, component, model_flags, vidgen

# A few milliseconds of arithmetic a frame: the 60-frame render lasts long enough for lines on a 0.2 s clock.
SLOW_FRAMES = """
let budget = 0;
for (let i = 1; i < 4000000; i++) {
  budget += Math.sqrt(i) % 1;
}
""" + MOVING.strip().replace("#203060'", "#203060', opacity: budget > 0 ? 1 : 0.9")
FAST_CLOCK = {"VIDGEN_PROGRESS_INTERVAL": "0.2"}
STAGE_LINE = r"^{stage} \d+\.\ds( \(\d+ frames\))?$"


def slow_video(make_video, name: str):
    return make_video(name, {"index.tsx": component(SLOW_FRAMES, frames=60)})


def stage_lines(stderr: str) -> list[str]:
    """The stages that printed their ending line, in order."""
    names = []
    for line in stderr.splitlines():
        match = re.match(r"^([a-z][a-z ]*?) (?:(?:failed|stopped) after )?\d+\.\ds( \(\d+ frames\))?$", line)
        if match:
            names.append(match[1])
    return names


@pytest.mark.render
def test_piped_render_prints_timed_stages_and_percentages(workspace, make_video) -> None:
    slow_video(make_video, "progress-piped")
    done = vidgen("render", "progress-piped", "--no-qa", cwd=workspace.root, env=FAST_CLOCK)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("progress-piped.mp4")
    assert "\x1b" not in done.stderr  # no colour, no cursor moves in a log
    assert stage_lines(done.stderr) == [
        "imports",
        "lint",
        "typecheck",
        "bundle",
        "composition",
        "render",  # no stills before it: its own frames are the pass over the video
        "verify",
        "previews",
    ], done.stderr
    assert re.search(r"^render \d+\.\ds \(60 frames\)$", done.stderr, re.M), done.stderr
    percentages = re.findall(r"^render (\d+)% \((\d+)/60 frames, \d+\.\ds", done.stderr, re.M)
    assert percentages, done.stderr
    assert all(int(p) == int(100 * int(n) / 60) for p, n in percentages)
    assert [int(n) for _, n in percentages] == sorted(int(n) for _, n in percentages)  # frames only go up


@pytest.mark.render
def test_quiet_prints_only_the_result(workspace, make_video) -> None:
    make_video("progress-quiet", {"index.tsx": component(MOVING, frames=20)})
    done = vidgen("render", "progress-quiet", "--quiet", "--no-qa", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip().endswith("progress-quiet.mp4")
    broken = make_video("progress-quiet-broken", {"index.tsx": component("return <AbsoluteFill>{missing}</AbsoluteFill>;")})
    failed = vidgen("check", broken.name, "-q", cwd=workspace.root)
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: ") and "missing" in failed.stderr  # errors still show
    assert not re.search(r"^(imports|lint) ", failed.stderr, re.M)


def run_in_terminal(*args: str, cwd: Path, timeout: float = 300) -> tuple[int, str]:
    """Run vidgen in a pseudo-terminal (stdout and stderr both a TTY); its exit code and all it drew."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [*VIDGEN, *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env={**os.environ, "COLUMNS": "120"}
    )
    os.close(slave)
    drawn = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the other side closed: the process is gone
                    break
                if not chunk:
                    break
                drawn += chunk
            elif process.poll() is not None:
                break
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return code, drawn.decode(errors="replace")


@pytest.mark.render
def test_a_terminal_gets_a_live_display(workspace, make_video) -> None:
    slow_video(make_video, "progress-tty")
    code, drawn = run_in_terminal("render", "progress-tty", "--no-qa", cwd=workspace.root)
    assert code == 0, drawn[-2000:]
    assert "Traceback" not in drawn and "internal error" not in drawn
    assert "\x1b[" in drawn  # drawn, not logged
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)
    # The stage under way ticks: the same stage is drawn with several elapsed times.
    ticks = set(re.findall(r"bundle (\d+\.\ds)", plain))
    assert len(ticks) >= 2 or "✓ bundle" in plain, plain[-2000:]
    # The render shows frames done out of the total while it runs, then leaves one line.
    assert re.search(r"render .*\d+/60 frames", plain), plain[-2000:]
    assert re.search(r"✓ render \d+\.\ds \(60 frames\)", plain), plain[-2000:]
    assert "progress-tty.mp4" in plain
    # Each drawing of the render row names the stage once, with one timer (issue 23, item 17).
    rows = [row for row in re.split(r"[\r\n]", plain) if "/60 frames" in row]
    assert rows and all(len(re.findall(r"\brender\b", row)) == 1 for row in rows), rows[:3]


def drawn_rows(console_output: str) -> list[str]:
    """Each drawing of the live display, without colour or cursor codes."""
    uncoloured = re.sub(r"\x1b\[[0-9;]*m", "", console_output)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", uncoloured)  # a cursor move starts a new drawing
    return [row.strip() for row in re.split(r"[\r\n]", plain) if row.strip()]


def test_the_render_row_shows_the_stage_once_and_its_timer_runs() -> None:
    """The events a render sends, into the live display as a terminal sees it (no render needed)."""
    out = io.StringIO()
    shown = Reporter(console=Console(file=out, force_terminal=True, width=160), interval=0.2)
    shown("stage", {"stage": "layout"})
    time.sleep(0.3)
    shown("stage", {"stage": "render"})
    time.sleep(0.4)  # drawn frameless first: "render 0.3s" with the spinner
    for done in range(0, 31, 3):
        shown("progress", {"stage": "render", "renderedFrames": done, "encodedFrames": 0, "frames": 30})
        time.sleep(0.08)
    time.sleep(0.3)
    shown("stage", {"stage": "verify"})
    shown.close()
    rows = [row for row in drawn_rows(out.getvalue()) if "/30 frames" in row]
    assert rows, out.getvalue()[-2000:]
    for row in rows:
        assert len(re.findall(r"\brender\b", row)) == 1, row  # not "render 0.4s render ━━━ 3/30 frames"
    # The timer at the row's end runs on: the last drawing is later than the first.
    times = [float(t) for row in rows for t in re.findall(r"(\d+\.\d)s$", row)]
    assert times and times[-1] > times[0] and times[-1] >= 0.9, rows
    assert any(re.match(r"✓ render \d+\.\ds \(30 frames\)", row) for row in drawn_rows(out.getvalue()))


@pytest.mark.render
def test_the_model_wait_is_timed(workspace, fresh) -> None:
    video = fresh("progress-model")
    reply = f"Here it is.\n\n```tsx index.tsx\n{component(MOVING, frames=20)}```\n"
    with ScriptedModel([Scripted(reply, delay_s=2.5)]) as server:
        done = vidgen(
            "new",
            "a moving square",
            "--name",
            video.name,
            "--no-render",
            *model_flags(server),
            cwd=workspace.root,
            env=FAST_CLOCK,
        )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^model turn 1 \(new\) still running, \d+\.\ds", done.stderr, re.M), done.stderr
    took = re.search(r"^model turn 1 \(new\) (\d+\.\d)s$", done.stderr, re.M)
    assert took and float(took[1]) >= 2.5, done.stderr
    assert stage_lines(done.stderr)[:2] == ["imports", "lint"]  # the ladder after the model


def test_a_bad_interval_is_one_clear_error(workspace) -> None:
    done = vidgen("render", "hello", cwd=workspace.root, env={"VIDGEN_PROGRESS_INTERVAL": "soon"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "VIDGEN_PROGRESS_INTERVAL" in done.stderr and "e.g. 5" in done.stderr


def test_init_without_install_is_short(tmp_path: Path) -> None:
    done = vidgen("init", "fresh-ws", "--no-install", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(done.stderr.splitlines()) + len(done.stdout.splitlines()) < 20
    assert vidgen("init", "quiet-ws", "--no-install", "--quiet", cwd=tmp_path).stderr == ""


@pytest.mark.render
def test_init_shows_npm_ci_as_one_line(tmp_path: Path) -> None:
    # Warming the render cache after it is tests/test_warm.py's (on packages already installed).
    done = vidgen("init", "ws", "--no-warm", cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "warming" not in done.stderr
    lines = done.stderr.splitlines() + done.stdout.splitlines()
    assert len(lines) < 20, done.stderr
    assert "npm ci: installing the workspace's packages…" in done.stderr.splitlines()
    assert re.search(r"^npm ci \d+(\.\d)?s$|^npm ci \d+m\d\ds$", done.stderr, re.M), done.stderr
    assert "npm http" not in done.stderr and "\x1b" not in done.stderr
    assert not (tmp_path / "ws" / ".vidgen" / "npm-ci.log").exists()  # kept only when it fails
    assert (tmp_path / "ws" / "node_modules" / "@remotion" / "renderer").is_dir()


def test_a_failed_npm_ci_keeps_its_log(tmp_path: Path) -> None:
    # Real npm, offline with an empty cache: it cannot fetch a single package.
    offline = {"npm_config_offline": "true", "npm_config_cache": str(tmp_path / "empty-cache")}
    done = vidgen("init", "ws", cwd=tmp_path, env=offline, timeout=300)
    assert done.returncode != 0
    log = tmp_path / "ws" / ".vidgen" / "npm-ci.log"
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and str(log) in errors[0] and "npm ci" in errors[0], done.stderr
    assert re.search(r"^npm ci failed after \d+\.\ds$", done.stderr, re.M), done.stderr  # not shown as done
    assert "Traceback" not in done.stderr
    assert log.is_file() and log.read_text().strip()
    assert len(done.stderr.splitlines()) < 10  # the log is in the file, not on the screen
    assert (tmp_path / "ws" / "vidgen.toml").is_file()  # the workspace made so far is kept

    # As an interrupted install leaves it: some packages, not npm's record of a finished install.
    (tmp_path / "ws" / "node_modules" / "@remotion" / "renderer").mkdir(parents=True, exist_ok=True)
    checked = vidgen("check", "hello", cwd=tmp_path / "ws")
    assert checked.returncode == 2 and "is missing or incomplete: run `npm ci`" in checked.stderr, checked.stderr
    # The demo run again in that folder starts the install over (here it fails again: still offline).
    again = vidgen("demo", "--workspace-path", "ws", cwd=tmp_path, env=offline, timeout=300)
    assert again.returncode != 0 and re.search(r"^npm ci failed after", again.stderr, re.M), again.stderr


@pytest.mark.render
def test_batch_piped_and_quiet(workspace, fresh, tmp_path: Path) -> None:
    reply = f"Done.\n\n```tsx index.tsx\n{component(MOVING, frames=20)}```\n"
    files = []
    for name in ("progress-batch-shown", "progress-batch-quiet"):
        fresh(name)
        files.append(tmp_path / f"{name}.jsonl")
        files[-1].write_text(f'{{"prompt": "a moving square", "name": "{name}"}}\n')
    with ScriptedModel(lambda _body: Scripted(reply, delay_s=1.5)) as server:
        shown = vidgen("batch", str(files[0]), "--no-critique", *model_flags(server), cwd=workspace.root, env=FAST_CLOCK)
        quiet = vidgen("batch", str(files[1]), "--no-critique", "--quiet", *model_flags(server), cwd=workspace.root)
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stderr
    assert re.search(r"^progress-batch-shown: ✓ \(1/1\)$", shown.stderr, re.M), shown.stderr
    assert re.search(r"^batch rendered 0 · failed 0 · running 1 of 1, \d+\.\ds$", shown.stderr, re.M), shown.stderr
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and quiet.stdout.strip().endswith(".html")
