"""Previews off the critical path: the MP4 first, then the sheet, poster and GIF from a job of their own."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from PIL import Image, ImageChops, ImageStat

from vidgen import settings as settings_module
from vidgen.engine import client as daemon_client
from vidgen.engine.protocol import RenderArgs
from vidgen.engine.service import RenderService
from vidgen.engine.session import Session
from vidgen.errors import Cancelled, ServiceError, ServiceReplyError
from vidgen.media import poster as poster_module
from vidgen.media import previews, sheet, yielding
from vidgen.media import probe as media
from vidgen.render import video as render
from vidgen.workspace import outputs as renders
from vidgen.workspace.staging import staging_dir

from .helpers import MOVING, VIDGEN, component, wait_for_file, wait_until


def test_the_mp4_is_in_place_and_returned_before_its_previews_exist(session: Session, make_video, workspace) -> None:
    video = make_video("previews-order", {"index.tsx": component(MOVING, frames=30)})
    out = workspace.out_dir
    gif, poster, sheet = (out / f"previews-order{suffix}" for suffix in (".preview.gif", ".poster.png", ".sheet.png"))
    seen: list[tuple[str, bool, bool]] = []

    def on_event(kind: str, _data: dict) -> None:
        if kind in ("rendered", "previews"):
            seen.append((kind, (out / "previews-order.mp4").is_file(), gif.exists()))

    with previews.turn(workspace.state_dir):
        result = render.render(session, video, on_event=on_event)
        assert result.error is None, result.error
        assert seen == [("rendered", True, False), ("previews", True, False)]
        assert media.probe(result.output, workspace).frames == 30  # the MP4 is whole and verified
        assert (result.preview, result.poster, result.sheet) == (gif, poster, sheet)  # named before they exist
        assert not gif.exists() and not poster.exists() and not sheet.exists()
        assert result.to_json()["previews"] == "pending"
    assert result.previews is not None and result.previews.result(timeout=120) is None
    assert gif.read_bytes()[:6] == b"GIF89a" and poster.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sheet.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.to_json()["previews"] == "done" and result.to_json()["preview"] == str(gif.resolve())
    # The kept version gets the same files (links, no second copy), and the job leaves no folder behind.
    kept = renders.folder(video) / f"v{result.version}.preview.gif"
    assert kept.samefile(gif)
    assert not list((workspace.state_dir / "previews").glob("previews-order.*"))


def test_an_older_job_never_overwrites_a_newer_render_and_each_version_keeps_its_own(
    session: Session, make_video, workspace
) -> None:
    video = make_video("previews-two", {"index.tsx": component(MOVING, frames=20)})
    with previews.turn(workspace.state_dir):  # both jobs wait: the first runs after the second render is in place
        first = render.render(session, video)
        video.entry.write_text(component(MOVING.replace("#f7b733", "#2a9d8f"), frames=20))
        second = render.render(session, video)
    assert first.error is None and second.error is None
    assert first.previews is not None and second.previews is not None
    assert first.previews.result(timeout=120) is None and second.previews.result(timeout=120) is None
    assert first.version != second.version
    kept = renders.folder(video)
    out = workspace.out_dir
    for suffix in (".preview.gif", ".poster.png", ".sheet.png"):
        assert (out / f"previews-two{suffix}").samefile(kept / f"v{second.version}{suffix}"), suffix
        assert (kept / f"v{first.version}{suffix}").is_file(), suffix
        assert not (kept / f"v{first.version}{suffix}").samefile(kept / f"v{second.version}{suffix}"), suffix


def test_a_preview_that_cannot_be_written_leaves_the_mp4_and_the_others_and_says_so_in_one_line(
    session: Session, make_video, workspace, monkeypatch
) -> None:
    video = make_video("previews-blocked", {"index.tsx": component(MOVING, frames=20)})
    blocker = workspace.out_dir / "previews-blocked.preview.gif"
    blocker.mkdir(parents=True)  # a folder where the GIF goes
    try:
        result = render.render(session, video)
        assert result.error is None and result.status == "rendered", result.error
        assert result.previews is not None
        problem = result.previews.result(timeout=120)
        assert problem is not None and "\n" not in problem
        assert "preview" in problem and "previews.log" in problem and "video is in place" in problem
        assert media.probe(result.output, workspace).frames == 20
        assert (workspace.out_dir / "previews-blocked.poster.png").is_file()
        assert (workspace.out_dir / "previews-blocked.sheet.png").is_file()
        assert blocker.is_dir() and not list(blocker.iterdir())  # left as it was
        assert result.to_json()["previews"] == "failed"
        log = (workspace.state_dir / "previews.log").read_text().splitlines()
        assert any("previews-blocked: the preview could not be put beside" in line for line in log)
    finally:
        blocker.rmdir()

    # No ffmpeg once the MP4 is in place: the sheet's frames, the poster and the GIF fail, each alone.
    with previews.turn(workspace.state_dir):
        again = render.render(session, video)
        assert again.error is None, again.error
        monkeypatch.setenv("VIDGEN_FFMPEG", str(workspace.root / "no-such-ffmpeg"))
    assert again.previews is not None
    problem = again.previews.result(timeout=120)
    assert problem is not None and "its frames could not be taken from the video" in problem and "(and 2 more)" in problem
    log = (workspace.state_dir / "previews.log").read_text()
    assert "previews-blocked: the poster could not be made" in log and "previews-blocked: the preview could not be made" in log
    assert media.probe(again.output, workspace).frames == 20
    for kind in ("sheet", "poster"):  # none, rather than the last render's
        assert not (workspace.out_dir / f"previews-blocked.{kind}.png").exists()


def job_of(result, workspace, stills: list, **options) -> previews.PreviewJob:
    """The previews job of a render's result, with the stills given."""
    c = result.composition
    return previews.prepare(
        result.name, workspace.state_dir, result.output, (c.width, c.height), c.fps, c.frames, stills, **options
    )


def test_a_job_travels_as_json_and_runs_in_another_process(session: Session, make_video, workspace, tmp_path) -> None:
    video = make_video("previews-json", {"index.tsx": component(MOVING, frames=20)})
    result = render.render(session, video, output=tmp_path / "json.mp4", previews=False)
    assert result.error is None and result.output is not None and result.composition is not None
    c = result.composition
    checked = render.check(session, video)  # a render draws no stills: the job takes the sample's others from the MP4
    given = checked.stills[:2]
    shown = {int(still["frame"]) for still in given} | {0, 4, 10, 19} | {3, 5}  # the stills, the sample, the marks
    marks = [sheet.Mark(3, 9, (10, 20, 30, 40), "offscreen"), sheet.Mark(5, 5)]
    job = job_of(result, workspace, given, sample=[0, 4, 10, 19], marks=marks)
    assert previews.PreviewJob.from_json(json.loads(json.dumps(job.to_json()))) == job
    for still in checked.stills:
        Path(still["path"]).unlink()  # the next ladder's stills replace these: the job has its own
    code = "import json, sys; from vidgen.media import previews; print(previews.run(previews.PreviewJob.from_json(json.load(sys.stdin))))"
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(job.to_json()), capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout.strip()) == (0, "None"), done.stderr
    assert (tmp_path / "json.preview.gif").read_bytes()[:6] == b"GIF89a"
    assert (tmp_path / "json.sheet.png").is_file() and (tmp_path / "json.poster.png").is_file()
    # One tile for each: the sample's frames that no still shows were taken from the MP4.
    with Image.open(tmp_path / "json.sheet.png") as drawn:
        assert drawn.size == sheet.layout(len(shown), c.width, c.height).size
    assert not Path(job.folder).exists()


def test_a_command_on_the_daemon_returns_before_its_previews(make_video, workspace) -> None:
    make_video("previews-daemon", {"index.tsx": component(MOVING, frames=20)})
    mp4 = workspace.out_dir / "previews-daemon.mp4"
    gif = workspace.out_dir / "previews-daemon.preview.gif"
    gif.unlink(missing_ok=True)
    with previews.turn(workspace.state_dir):  # held: no job can make previews until the command is done
        done = subprocess.run(
            [*VIDGEN, "render", "previews-daemon", "--json"], cwd=workspace.root, capture_output=True, text=True, timeout=300
        )
        payload = json.loads(done.stdout)
        assert (done.returncode, payload["status"], payload["previews"]) == (0, "rendered", "pending"), done.stderr
        assert os.path.samefile(payload["output"], mp4) and not gif.exists()
    # The daemon makes them once it may, with no command waiting.
    deadline = time.monotonic() + 60
    while not gif.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gif.read_bytes()[:6] == b"GIF89a" and Path(payload["sheet"]).is_file() and Path(payload["poster"]).is_file()


def test_a_job_given_to_the_daemon_is_made_even_when_the_command_closes_at_once(session: Session, make_video, workspace) -> None:
    # A CI run lost jobs: the command closed its connection before a background thread had sent them.
    video = make_video("previews-handed", {"index.tsx": component(MOVING, frames=20)})
    result = render.render(session, video, previews=False)
    assert result.error is None and result.output is not None and result.composition is not None, result.error
    sheet = result.output.with_name("previews-handed.sheet.png")
    for attempt in range(5):
        sheet.unlink(missing_ok=True)
        job = job_of(result, workspace, [], sample=[0, 10], make=("sheet",))
        remote = daemon_client.connect(workspace, session.settings.render)
        remote.previews(job)
        remote.stop()  # as a command does right after its render: nothing more is sent
        assert wait_for_file(sheet), f"attempt {attempt}: the daemon never made the job's sheet"
        # The job's folder goes once the job is done, a moment after its last file.
        gone = functools.partial(lambda folder: not folder.exists(), Path(job.folder))
        assert wait_until(gone, 30), f"attempt {attempt}: the job's folder was left"


def test_the_command_waits_for_its_previews_before_it_exits(make_video, workspace) -> None:
    make_video("previews-cli", {"index.tsx": component(MOVING, frames=20)})
    mp4 = workspace.out_dir / "previews-cli.mp4"
    mp4.unlink(missing_ok=True)
    with previews.turn(workspace.state_dir):
        # In the command's own process (the daemon's case is the test above).
        process = subprocess.Popen(
            [*VIDGEN, "render", "previews-cli", "--json", "--no-daemon"], cwd=workspace.root, stdout=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 300
        while not mp4.is_file() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert mp4.is_file(), "no MP4"
        time.sleep(3.0)  # held a while longer: a command that did not wait would print "pending" and exit meanwhile
    out, _ = process.communicate(timeout=300)
    payload = json.loads(out)
    assert (process.returncode, payload["status"], payload["previews"]) == (0, "rendered", "done"), payload
    assert Path(payload["preview"]).read_bytes()[:6] == b"GIF89a" and Path(payload["sheet"]).is_file()
    assert os.path.samefile(payload["output"], mp4)


def test_a_failed_preview_is_one_warning_line_and_the_render_still_succeeds(make_video, workspace) -> None:
    make_video("previews-warned", {"index.tsx": component(MOVING, frames=20)})
    blocker = workspace.out_dir / "previews-warned.sheet.png"
    blocker.mkdir(parents=True)
    try:
        done = subprocess.run(
            # In-process: a command on the daemon does not wait to hear (the failure is in previews.log).
            [*VIDGEN, "render", "previews-warned", "--no-daemon"],
            cwd=workspace.root,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        blocker.rmdir()
    assert done.returncode == 0 and done.stdout.strip().endswith("previews-warned.mp4"), done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "the sheet could not be put beside previews-warned.mp4" in warnings[0], done.stderr
    assert "previews.log" in warnings[0] and "Traceback" not in done.stderr
    assert (workspace.out_dir / "previews-warned.preview.gif").is_file()


def test_hostile_previews_state_is_one_line_and_never_touches_the_video(tmp_path: Path) -> None:
    state_dir = tmp_path / ".vidgen"
    state_dir.mkdir()
    target = tmp_path / "v.mp4"
    target.write_bytes(b"not a video at all")
    still = tmp_path / "frame-00.jpeg"
    Image.new("RGB", (64, 36), (200, 30, 30)).save(still)

    def job() -> previews.PreviewJob:
        return previews.prepare("v", state_dir, target, (64, 36), 30.0, 10, [{"frame": 0, "path": str(still)}])

    (state_dir / "previews.lock").mkdir()  # a folder where the lock goes
    problem = previews.run(job())
    assert problem is not None and "\n" not in problem and problem.startswith("v: the previews could not start: Is a directory")
    (state_dir / "previews.lock").rmdir()

    # A file that is no video: the poster and the GIF fail, the sheet (drawn from the stills) is made.
    problem = previews.run(job())
    assert problem is not None and "the poster could not be made" in problem and "(and 1 more)" in problem
    assert (tmp_path / "v.sheet.png").is_file() and not (tmp_path / "v.preview.gif").exists()
    assert "not a video" not in problem and "not a video" not in (state_dir / "previews.log").read_text()

    (state_dir / "previews").rmdir()  # the job folders' home, a file instead: the job cannot be prepared
    (state_dir / "previews").write_text("")
    with pytest.raises(OSError):
        job()
    assert previews.refused("v", state_dir, OSError(28, "No space left on device")).result() == (
        f"v: its previews could not be prepared: the disk is full: free space on it; the video is in place, and the"
        f" log is {state_dir / 'previews.log'}: fix that and render again for its previews"
    )
    assert target.read_bytes() == b"not a video at all"


def test_the_readme_shows_the_poster_vidgen_makes_of_hello(workspace) -> None:
    """docs/hello-poster.png is what `vidgen render hello` makes today (regenerate it when this fails)."""
    # With the settings a new workspace has: the poster is chosen among the sampled stills.
    defaults = settings_module.Settings().render
    settings = settings_module.load(workspace.root)
    settings = replace(settings, render=replace(settings.render, sample_stills=defaults.sample_stills))
    with Session.open(workspace, settings) as session:
        result = render.render(session, workspace.video("hello"), output=workspace.out_dir / "readme-hello.mp4")
        assert result.error is None and result.previews is not None, result.error
        assert result.previews.result(timeout=120) is None and result.poster is not None
    made = Image.open(result.poster).convert("RGB")
    shown = Image.open(Path(__file__).resolve().parent.parent / "docs" / "hello-poster.png").convert("RGB")
    assert made.size == shown.size
    difference = ImageStat.Stat(ImageChops.difference(made, shown)).mean
    assert max(difference) < 4, difference  # the same frame (encoders aside), not a mid-slide one


# ---------------------------------------------------------------- previews yield to renders (media/yielding.py)

# Slow per frame (a render of it lasts while a test looks at the previews' ffmpeg), and no blank.
CRAWLING = """
let budget = 0;
for (let i = 1; i < 20000000; i++) {
  budget += Math.sqrt(i) % 1;
}
return <AbsoluteFill style={{background: '#123', color: 'white', fontSize: 60, opacity: budget > 0 ? 1 : 0.9}}>{frame}</AbsoluteFill>;
"""
RUNNING = (psutil.STATUS_RUNNING, psutil.STATUS_SLEEPING, psutil.STATUS_DISK_SLEEP)


@pytest.fixture(scope="module")
def long_mp4(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, Path]]:
    """A real MP4 whose previews keep ffmpeg busy for seconds (the poster's choice decodes it all), and two stills."""
    folder = tmp_path_factory.mktemp("long")
    video = folder / "long.mp4"
    subprocess.run(
        [media.ffmpeg_path(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "40"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video)],
        check=True,
        timeout=300,
    )
    return video, poster_module.write_frames(video, [300, 900], folder)


def _long_job(long_mp4: tuple[Path, dict[int, Path]], folder: Path) -> previews.PreviewJob:
    """A job of its own (its own state folder, so no other test's previews hold its lock) on a link of the long MP4."""
    video, stills = long_mp4
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "long.mp4"
    if not target.exists():
        os.link(video, target)
    return previews.prepare(
        "long",
        folder / ".vidgen",
        target,
        (1280, 720),
        30.0,
        1200,
        [{"frame": frame, "path": str(path)} for frame, path in stills.items()],
        make=("poster", "preview"),
    )


def _ffmpeg_children() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ffmpeg" in child.name() and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _running_ffmpeg(jobs: list[Future[str | None]], more: Callable[[], Future[str | None]]) -> psutil.Process:
    """The previews' ffmpeg, once it runs; a new job is handed over when the earlier ones are all done."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for child in _ffmpeg_children():
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.status() in RUNNING:
                    return child
        if all(job.done() for job in jobs):
            jobs.append(more())
        time.sleep(0.01)
    raise AssertionError("no ffmpeg of the previews ran")


def _status(process: psutil.Process) -> str:
    try:
        return process.status()
    except psutil.NoSuchProcess:
        return "gone"


def _becomes(process: psutil.Process, wanted: Callable[[str], bool], within_s: float = 5.0) -> str:
    """The process's status once `wanted` holds for it (or the last one seen when it never does)."""
    deadline = time.monotonic() + within_s
    status = _status(process)
    while not wanted(status) and time.monotonic() < deadline:
        time.sleep(0.01)
        status = _status(process)
    return status


def _test_pattern_to_nowhere(seconds: int) -> list[str]:
    """An ffmpeg that encodes its test pattern for `seconds` into nothing: a busy child to pause."""
    pattern = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", str(seconds)]
    return [media.ffmpeg_path(), "-v", "error", *pattern, "-f", "null", "-"]


def test_the_gate_stops_ffmpeg_while_a_request_runs_and_continues_it_after() -> None:
    gate = yielding.Gate(linger_s=0.3)
    argv = _test_pattern_to_nowhere(seconds=30)
    with ThreadPoolExecutor(max_workers=1) as worker:
        done = worker.submit(gate.run, argv)
        ffmpeg = _running_ffmpeg([done], lambda: pytest.fail("ffmpeg ended before it was looked at"))
        assert ffmpeg.nice() == 19
        if hasattr(os, "SCHED_IDLE"):
            assert os.sched_getscheduler(ffmpeg.pid) == os.SCHED_IDLE
        with gate.rendering():
            assert _becomes(ffmpeg, lambda s: s == psutil.STATUS_STOPPED) == psutil.STATUS_STOPPED
            used = ffmpeg.cpu_times().user
            time.sleep(0.5)
            assert ffmpeg.cpu_times().user == used and _status(ffmpeg) == psutil.STATUS_STOPPED
        time.sleep(0.1)  # within the linger: a command's next request comes this soon
        assert _status(ffmpeg) == psutil.STATUS_STOPPED
        assert _becomes(ffmpeg, lambda s: s != psutil.STATUS_STOPPED) in (*RUNNING, "gone")
        with gate.rendering(), gate.released():  # a stopping service: nothing waits, whatever runs
            assert _becomes(ffmpeg, lambda s: s != psutil.STATUS_STOPPED) in (*RUNNING, "gone")
        ffmpeg.kill()  # thirty seconds of test pattern are no use
        code, _, _ = done.result(timeout=30)
        assert code != 0
    assert not _ffmpeg_children()


def test_a_paused_ffmpeg_is_not_left_stopped_when_its_process_is_killed_outright() -> None:
    code = (
        "import sys, threading, time\n"
        "from vidgen.media import yielding\n"
        "gate = yielding.Gate()\n"
        "threading.Thread(target=gate.run, args=(sys.argv[1:],), daemon=True).start()\n"
        "time.sleep(0.5)\n"
        "gate.render_started()\n"
        "print('paused', flush=True)\n"
        "time.sleep(300)\n"
    )
    argv = _test_pattern_to_nowhere(seconds=600)
    holder = subprocess.Popen([sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "paused"
        (ffmpeg,) = [child for child in psutil.Process(holder.pid).children() if "ffmpeg" in child.name()]
        assert _becomes(ffmpeg, lambda s: s == psutil.STATUS_STOPPED) == psutil.STATUS_STOPPED
        holder.kill()
        holder.wait(timeout=30)
        # It ends with the process that started it, rather than wait forever for a SIGCONT.
        assert _becomes(ffmpeg, lambda s: s in ("gone", psutil.STATUS_ZOMBIE), within_s=30) in ("gone", psutil.STATUS_ZOMBIE)
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_previews_are_paused_while_a_render_request_runs_and_made_after(
    session: Session, make_video, workspace, long_mp4, tmp_path
) -> None:
    video = make_video("yield-held", {"index.tsx": component(MOVING, frames=30)})
    assert session.service.bundle(timeout_s=300) == []
    output = staging_dir(video) / "yield-held.mp4"  # where the jailed service may write
    output.parent.mkdir(parents=True, exist_ok=True)
    jobs: list[Future[str | None]] = [session.service.previews(_long_job(long_mp4, tmp_path))]
    ffmpeg = _running_ffmpeg(jobs, lambda: pytest.fail("the previews ended before a render could start"))
    assert ffmpeg.nice() == 19
    rendering, release = threading.Event(), threading.Event()

    def held(_event: object) -> None:
        rendering.set()
        release.wait(120)  # the request is under way until the test has looked

    def render_request() -> dict:
        return session.service.render(
            RenderArgs(name=video.name, output=str(output), codec="h264", timeout_ms=60000), timeout_s=300, on_progress=held
        )

    try:
        with ThreadPoolExecutor(max_workers=1) as worker:
            rendered = worker.submit(render_request)
            # Stopped from the request's start, long before its first frame.
            assert _becomes(ffmpeg, lambda s: s == psutil.STATUS_STOPPED) == psutil.STATUS_STOPPED
            deadline = time.monotonic() + 180
            while not rendering.wait(0.1) and not rendered.done() and time.monotonic() < deadline:
                pass
            assert rendering.is_set(), rendered.exception(timeout=0) if rendered.done() else "no progress"
            used = ffmpeg.cpu_times()
            time.sleep(1.0)
            assert _status(ffmpeg) == psutil.STATUS_STOPPED and ffmpeg.cpu_times() == used
            assert not jobs[0].done()
            release.set()
            rendered.result(timeout=300)
            assert output.is_file()
        assert _becomes(ffmpeg, lambda s: s != psutil.STATUS_STOPPED) in (*RUNNING, "gone")
        assert [job.result(timeout=300) for job in jobs] == [None] * len(jobs)
    finally:
        release.set()
        output.unlink(missing_ok=True)
    with Image.open(tmp_path / "long.poster.png") as made:
        assert made.size == (1280, 720)
    assert (tmp_path / "long.preview.gif").read_bytes()[:6] == b"GIF89a"
    assert not _ffmpeg_children()


def test_no_ffmpeg_stays_stopped_when_a_render_is_cancelled_fails_or_is_killed_or_the_service_stops(
    own_session: Session, make_video, workspace, long_mp4, tmp_path
) -> None:
    service = own_session.service
    assert isinstance(service, RenderService)
    video = make_video("yield-crawling", {"index.tsx": component(CRAWLING, frames=200)})
    assert service.bundle(timeout_s=300) == []
    output = staging_dir(video) / "yield-crawling.mp4"
    output.parent.mkdir(parents=True, exist_ok=True)
    made = itertools.count()
    jobs: list[Future[str | None]] = []

    def job() -> Future[str | None]:
        return service.previews(_long_job(long_mp4, tmp_path / f"job-{next(made)}"))

    jobs.append(job())

    def render_under_way(on_progress: Callable[[object], None]) -> tuple[Future[dict], list[int]]:
        """A render of the crawling video, started once the previews' ffmpeg runs; stopped that ffmpeg at once."""
        ffmpeg = _running_ffmpeg(jobs, job)
        ids: list[int] = []
        args = RenderArgs(name=video.name, output=str(output), codec="h264", timeout_ms=60000)
        rendered = worker.submit(service.render, args, timeout_s=300, on_progress=on_progress, on_start=ids.append)
        assert _becomes(ffmpeg, lambda s: s == psutil.STATUS_STOPPED) == psutil.STATUS_STOPPED
        return rendered, ids

    def resumed() -> None:
        for ffmpeg in _ffmpeg_children():
            assert _becomes(ffmpeg, lambda s: s != psutil.STATUS_STOPPED) in (*RUNNING, "gone")

    release = threading.Event()
    try:
        with ThreadPoolExecutor(max_workers=2) as worker:
            # Cancelled mid-render.
            progress = threading.Event()
            rendered, ids = render_under_way(lambda _event: progress.set())
            assert progress.wait(120)
            service.cancel(ids[0])
            with pytest.raises(Cancelled):
                rendered.result(timeout=120)
            resumed()

            # A render that fails: no such composition.
            _running_ffmpeg(jobs, job)
            with pytest.raises(ServiceReplyError):
                service.render(
                    RenderArgs(name="no-such-video", output=str(output), codec="h264", timeout_ms=60000), timeout_s=120
                )
            resumed()

            # The service killed under a render (a timeout's restart).
            progress = threading.Event()
            rendered, _ = render_under_way(lambda _event: progress.set())
            assert progress.wait(120)
            service.kill()
            with pytest.raises(ServiceError):
                rendered.result(timeout=120)
            resumed()

            # The service stops while a request is still counted (its thread not back yet): the previews go
            # on and finish, and stop() returns once they are made.
            assert service.bundle(timeout_s=300) == []  # the new Node's build
            holding = threading.Event()

            def held(_event: object) -> None:
                holding.set()
                release.wait(300)

            rendered, _ = render_under_way(held)
            assert holding.wait(120)
            stopped = worker.submit(service.stop)
            resumed()
            assert stopped.result(timeout=300) is None
            assert all(job.done() for job in jobs)
            release.set()
            with pytest.raises(ServiceError):
                rendered.result(timeout=120)
    finally:
        release.set()
        output.unlink(missing_ok=True)
    assert [job.result() for job in jobs] == [None] * len(jobs)
    assert not _ffmpeg_children()
