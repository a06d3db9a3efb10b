"""What the benchmarks share: the bench workspace, the reference video, timing, and the table's rows.

Every step returns rows; `bench.py` prints them as one table. A step that fails raises, and
nothing is printed but the error: a half table is never mistaken for a result.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from vidgen.engine.session import Session  # noqa: E402
from vidgen.errors import VidgenError  # noqa: E402
from vidgen.render import ladder  # noqa: E402
from vidgen.workspace import project as workspace  # noqa: E402

NAME = "bench-reference"
REFERENCE = """\
import React from 'react';
import {AbsoluteFill, interpolate, spring, useCurrentFrame, useVideoConfig} from 'remotion';
import {Circle} from '@remotion/shapes';

export const config = {durationInFrames: 90, fps: 30, width: 1280, height: 720};

const HUE = 210;

const Reference: React.FC = () => {
  const frame = useCurrentFrame();
  const {fps} = useVideoConfig();
  const pop = spring({frame, fps, config: {damping: 200}});
  const x = interpolate(frame, [0, 89], [-400, 400]);
  return (
    <AbsoluteFill style={{justifyContent: 'center', alignItems: 'center', background: `hsl(${HUE}, 40%, 15%)`}}>
      <div style={{fontFamily: 'sans-serif', fontSize: 96, color: 'white', opacity: pop}}>Benchmark {frame}</div>
      <div style={{position: 'absolute', transform: `translateX(${x}px)`, top: 480}}>
        <Circle radius={60 * pop} fill="#f7b733" />
      </div>
    </AbsoluteFill>
  );
};

export default Reference;
"""
REFERENCE_SHAPE = "3 s, 1280x720, 30 fps"
# Marks a workspace this benchmark made: the cold step deletes its caches and state, never a user's.
MARKER = "vidgen-bench-workspace"
STEP_TIMEOUT_S = 900  # one command; a machine shared by four engineers can be very slow
VIDGEN = [sys.executable, "-m", "vidgen"]


class BenchError(Exception):
    """A step could not be measured: the benchmark stops, and prints no table."""


# ---------------------------------------------------------------------- the table


@dataclass
class Series:
    """Seconds (or any measure) over the runs: median and spread."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self, unit: str = "s", digits: int = 2) -> str:
        if len(self.values) == 1:
            return f"{self.values[0]:.{digits}f} {unit}".strip()
        low, high = min(self.values), max(self.values)
        return f"{self.median:.{digits}f} {unit} ({low:.{digits}f}-{high:.{digits}f})".replace("  ", " ")


def ratios(numerators: Series, denominators: Series) -> Series:
    """Run-by-run ratios (each vidgen run against the reference run beside it)."""
    return Series([n / d for n, d in zip(numerators.values, denominators.values, strict=True)])


@dataclass
class Row:
    """One line of the table; `met` is None when there is no target (reported only) or the step was skipped."""

    measure: str
    vidgen: str
    against: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None


def ratio_row(measure: str, vidgen: Series, against_name: str, against: Series, target: float, *, at_most: bool = True) -> Row:
    paired = ratios(vidgen, against)
    met = paired.median <= target if at_most else paired.median >= target
    return Row(
        measure,
        vidgen.show(),
        f"{against_name} {against.show()}",
        paired.show(unit=""),
        f"{'<=' if at_most else '>='} {target:.2f}",
        met,
    )


def skipped(measure: str, why: str) -> Row:
    return Row(measure, f"skipped: {why}")


def table(rows: Sequence[Row]) -> str:
    """A Markdown table, to paste into docs/benchmarks.md as it is."""
    lines = ["| measure | vidgen | against | ratio | target | met |", "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.measure} | {row.vidgen} | {row.against} | {row.ratio} | {row.target} | {met} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the machine


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def memory() -> str:
    """Total and available memory, from /proc/meminfo."""
    fields = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = int(value.split()[0]) / 2**20  # kB -> GB
    return f"{fields['MemTotal']:.1f} GB, {fields['MemAvailable']:.1f} GB available"


def machine() -> str:
    return f"{os.cpu_count()} cores, {memory()}"


# ---------------------------------------------------------------------- commands


def run(command: Sequence[str], cwd: Path, *, env: dict[str, str] | None = None) -> float:
    """Run a command to its end; its time in seconds. A failure stops the benchmark with its last output lines."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            list(command),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"`{shown(command)}` took more than {STEP_TIMEOUT_S} s") from None
    except OSError as exc:
        raise BenchError(f"`{shown(command)}` could not start: {exc.strerror}") from None
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise BenchError(f"`{shown(command)}` failed (exit {done.returncode}): {tail}")
    return elapsed


def shown(command: Sequence[str]) -> str:
    """A command as a user would type it (`vidgen ...`, not the interpreter's path)."""
    words = list(command)
    if words[: len(VIDGEN)] == VIDGEN:
        words = ["vidgen", *words[len(VIDGEN) :]]
    return " ".join(words)


def npx_render(output: str = "out/bench-cli.mp4") -> list[str]:
    return ["npx", "remotion", "render", NAME, output, "--log=error"]


def has_daemon(root: Path) -> bool:
    """Whether this vidgen has the render daemon (`vidgen daemon --help` succeeds)."""
    done = subprocess.run([*VIDGEN, "daemon", "--help"], cwd=root, capture_output=True, timeout=120)
    return done.returncode == 0


def stop_daemon(root: Path) -> None:
    run([*VIDGEN, "daemon", "stop"], root)


def daemon_pid(root: Path) -> int | None:
    """The pid of the workspace's running daemon (`vidgen daemon status --json`), None if none runs."""
    done = subprocess.run([*VIDGEN, "daemon", "status", "--json"], cwd=root, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise BenchError(f"`vidgen daemon status --json` failed (exit {done.returncode})")
    status = json.loads(done.stdout)
    return int(status["pid"]) if status.get("running") else None


def stop_daemon_if_any(root: Path) -> None:
    if has_daemon(root):
        subprocess.run([*VIDGEN, "daemon", "stop"], cwd=root, capture_output=True, timeout=120)


def without_daemon(root: Path, command: list[str]) -> tuple[list[str], dict[str, str]]:
    """`command` (a vidgen subcommand) with the daemon off: --no-daemon where the command has it, and VIDGEN_DAEMON=0."""
    help_text = subprocess.run([*command[: len(VIDGEN) + 1], "--help"], cwd=root, capture_output=True, text=True).stdout
    flag = ["--no-daemon"] if "--no-daemon" in help_text else []
    return [*command, *flag], {"VIDGEN_DAEMON": "0"}


# ---------------------------------------------------------------------- the workspace


def edit(video: workspace.Video, variant: int) -> None:
    """Save the reference with another colour: a real edit, so the code is checked and bundled again."""
    video.entry.write_text(REFERENCE.replace("const HUE = 210", f"const HUE = {211 + variant % 140}"))


def reset_to_first_render(ws: workspace.Workspace) -> None:
    """The workspace as `vidgen init` left it, with its videos: no state, no renders, no webpack cache.

    `.vidgen/` (history, checks, builds, stills, any cache vidgen keeps there) and `out/` are emptied,
    and `node_modules/.cache/` (webpack's persistent cache, which `npx remotion render` and vidgen's
    service both use) is deleted: both sides of the cold step start from an empty webpack cache.
    """
    if not (ws.root / MARKER).exists():
        raise BenchError(f"{ws.root} was not made by the benchmark: its state is not reset")
    for folder in (ws.state_dir, ws.out_dir, ws.root / "node_modules" / ".cache"):
        shutil.rmtree(folder, ignore_errors=True)
    ws.state_dir.mkdir()
    ws.out_dir.mkdir()


def bench_workspace(path: Path | None) -> workspace.Workspace:
    """The benchmark's own workspace: new in a temp folder, or at `path` (made there, or one it made before)."""
    root = (path or Path(tempfile.mkdtemp(prefix="vidgen-bench-")) / "ws").resolve()
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise BenchError(f"{root} is not a workspace the benchmark made: give a new folder (it deletes caches there)")
        return workspace.Workspace(root)
    print(f"making the bench workspace in {root} (npm ci)", file=sys.stderr)
    ws = workspace.create(root, log=lambda _line: None)
    (root / MARKER).write_text("Made by tests/benchmarks: the benchmarks reset its caches and state.\n")
    return ws


def add_video(ws: workspace.Workspace, name: str = NAME, source: str = REFERENCE) -> workspace.Video:
    video = ws.video(name)
    video.folder.mkdir(parents=True, exist_ok=True)
    video.entry.write_text(source)
    return video


def reference_frames(session: Session, ws: workspace.Workspace) -> int:
    """Check the reference video on `session` (bundled, the browser open, the composition known); its frame count."""
    checked = ladder.run(session, ws.video(NAME))
    if checked.error is not None or checked.composition is None:
        raise BenchError(f"the reference video does not check: {checked.error.message if checked.error else 'no composition'}")
    return checked.composition.frames


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 300) -> float:
    """The moment `condition` became true, polled every 20 ms."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.02)
    raise BenchError(f"{what} did not happen within {timeout_s:g} s")


def log(step: str, text: str) -> None:
    """A per-run line, on stderr (the table goes to stdout)."""
    print(f"[{step}] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- running steps

Step = Callable[[workspace.Workspace, int], list[Row]]


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, help="the bench workspace (default: a new one in a temp folder)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measure (default 3)")
    return parser.parse_args()


def main(description: str, steps: Sequence[Step], runs: int | None = None, path: Path | None = None) -> int:
    """Run the steps and print their rows as one table, with the machine and the date; 1 if a step failed."""
    if runs is None:
        args = arguments(description)
        runs, path = args.runs, args.workspace
    try:
        ws = bench_workspace(path)
    except (BenchError, VidgenError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    try:
        add_video(ws)
        before = load_average()
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        try:
            rows = [row for step in steps for row in step(ws, runs)]
        finally:
            stop_daemon_if_any(ws.root)  # no Chromium left behind for the idle time
        after = load_average()
    except (BenchError, VidgenError) as exc:
        print(f"benchmark failed: {exc} (the workspace, with .vidgen/service.log, is kept: {ws.root})", file=sys.stderr)
        return 1
    if path is None:
        shutil.rmtree(ws.root.parent, ignore_errors=True)  # the temp folder made for this run
    print(f"vidgen benchmarks, {started}: {machine()}; load average {before} before, {after} after")
    print(f"reference video {REFERENCE_SHAPE}; medians of {runs} runs, spread (min-max); ratios are run by run")
    print()
    print(table(rows))
    return 0
