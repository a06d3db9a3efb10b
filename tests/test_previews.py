"""Previews off the critical path: the MP4 first, then the sheet, poster and GIF from a job of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from vidgen import settings as settings_module
from vidgen.engine import client as daemon_client
from vidgen.engine.session import Session
from vidgen.media import previews, sheet
from vidgen.media import probe as media
from vidgen.render import video as render
from vidgen.workspace import outputs as renders

from .helpers import MOVING, VIDGEN, component, wait_for_file


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

    # No ffmpeg once the MP4 is in place: poster and GIF fail, the sheet (drawn without ffmpeg) is made.
    with previews.turn(workspace.state_dir):
        again = render.render(session, video)
        assert again.error is None, again.error
        monkeypatch.setenv("VIDGEN_FFMPEG", str(workspace.root / "no-such-ffmpeg"))
    assert again.previews is not None
    problem = again.previews.result(timeout=120)
    assert problem is not None and "the poster could not be made" in problem and "(and 1 more)" in problem
    assert media.probe(again.output, workspace).frames == 20
    assert (workspace.out_dir / "previews-blocked.sheet.png").is_file()
    assert not (workspace.out_dir / "previews-blocked.poster.png").exists()  # none, rather than the last render's


def test_a_job_travels_as_json_and_runs_in_another_process(session: Session, make_video, workspace, tmp_path) -> None:
    video = make_video("previews-json", {"index.tsx": component(MOVING, frames=20)})
    result = render.render(session, video, output=tmp_path / "json.mp4", previews=False)
    assert result.error is None and result.output is not None and result.composition is not None
    c = result.composition
    marks = [sheet.Mark(3, 9, (10, 20, 30, 40), "offscreen"), sheet.Mark(5, 5)]
    job = previews.prepare(
        video.name, workspace.state_dir, result.output, (c.width, c.height), c.fps, c.frames, result.stills, marks=marks
    )
    assert previews.PreviewJob.from_json(json.loads(json.dumps(job.to_json()))) == job
    for still in result.stills:
        Path(still["path"]).unlink()  # the next ladder's stills replace these: the job has its own
    code = "import json, sys; from vidgen.media import previews; print(previews.run(previews.PreviewJob.from_json(json.load(sys.stdin))))"
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(job.to_json()), capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout.strip()) == (0, "None"), done.stderr
    assert (tmp_path / "json.preview.gif").read_bytes()[:6] == b"GIF89a"
    assert (tmp_path / "json.sheet.png").is_file() and (tmp_path / "json.poster.png").is_file()
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
    c = result.composition
    sheet = result.output.with_name("previews-handed.sheet.png")
    for attempt in range(5):
        sheet.unlink(missing_ok=True)
        job = previews.prepare(
            video.name, workspace.state_dir, result.output, (c.width, c.height), c.fps, c.frames, result.stills, make=("sheet",)
        )
        remote = daemon_client.connect(workspace, session.settings.render)
        remote.previews(job)
        remote.stop()  # as a command does right after its render: nothing more is sent
        assert wait_for_file(sheet), f"attempt {attempt}: the daemon never made the job's sheet"
        assert not Path(job.folder).exists()


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
