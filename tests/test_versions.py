"""Honest state, kept versions with undo/redo, and results you can open: through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from vidgen.batch import report
from vidgen.media import poster
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.render import verify
from vidgen.workspace import outputs as renders
from vidgen.workspace import project as workspace_module
from vidgen.workspace import state
from vidgen.workspace.files import atomic_write

from .helpers import MOVING, assert_one_line_error, component, model_flags, vidgen, wait_for_file

BLUE = MOVING
ORANGE = MOVING.replace("#203060", "#603020")


def state_of(workspace, name: str) -> str:
    listed = vidgen("list", cwd=workspace.root, timeout=120)
    assert listed.returncode == 0, listed.stderr
    return next(line for line in listed.stdout.splitlines() if line.startswith(name + " ")).split(None, 1)[1]


@pytest.fixture
def fake_opener(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An `xdg-open` first on PATH that records the path it is asked to open."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "opened.txt"
    script = folder / "xdg-open"
    script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {record}\n')
    script.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}, record


def wait_for(path: Path, seconds: float = 20) -> str:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (path.exists() and path.read_text()):
        time.sleep(0.1)
    return path.read_text()


@pytest.mark.render
def test_list_is_honest_stills_are_no_renders_and_open_shows_the_mp4(workspace, make_video, fake_opener) -> None:
    env, opened = fake_opener
    video = make_video("state-honest", {"index.tsx": component(BLUE)})
    assert state_of(workspace, "state-honest") == "never rendered"
    done = vidgen("render", "state-honest", "--open", cwd=workspace.root, env=env)
    assert done.returncode == 0, done.stderr
    mp4 = workspace.out_dir / "state-honest.mp4"
    assert wait_for(opened) == str(mp4.resolve())
    assert state_of(workspace, "state-honest").startswith("rendered at")

    # A still is no render, and a still that fails (a frame past the end) says nothing about the video.
    assert vidgen("render", "state-honest", "--still", "3", cwd=workspace.root).returncode == 0
    assert vidgen("render", "state-honest", "--still", "9999", cwd=workspace.root).returncode != 0
    listed = json.loads(vidgen("list", "--json", cwd=workspace.root).stdout)
    entry = next(row for row in listed["videos"] if row["name"] == "state-honest")
    assert entry["state"].startswith("rendered at") and entry["output"] == str(mp4) and entry["outdated"] is False

    # A hand edit makes the render outdated; putting the file back makes it current again.
    source = video.entry.read_text()
    video.entry.write_text(source.replace("#203060", "#204060"))
    assert state_of(workspace, "state-honest").startswith("outdated: the sources changed since it was rendered at")
    video.entry.write_text(source)
    assert state_of(workspace, "state-honest").startswith("rendered at")

    opened.unlink()
    shown = vidgen("open", "state-honest", cwd=workspace.root, env=env)
    assert shown.returncode == 0 and shown.stdout.strip() == str(mp4.resolve())
    assert wait_for(opened) == str(mp4.resolve())


def test_open_without_a_viewer_or_a_render_says_what_to_do(workspace, tmp_path: Path, make_video) -> None:
    make_video("never-opened", {"index.tsx": component(BLUE)})
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(vidgen("open", "never-opened", cwd=workspace.root), 2, "no rendered video yet", "vidgen render")
    # render --open with no viewer is refused before any work, naming where the file would be.
    done = vidgen("render", "never-opened", "--open", cwd=workspace.root, env={"PATH": str(empty)})
    assert_one_line_error(done, 1, "no xdg-open or open", str(workspace.out_dir / "never-opened.mp4"))
    assert not (workspace.out_dir / "never-opened.mp4").exists()
    mp4 = workspace.out_dir / "never-opened.mp4"
    mp4.write_bytes(b"not checked: open only hands the path over")
    try:
        done = vidgen("open", "never-opened", cwd=workspace.root, env={"PATH": str(empty)})
        assert_one_line_error(done, 1, "no xdg-open or open", str(mp4))
        # An opener that fails (xdg-open without a desktop) is a failure, not a success that showed nothing.
        failing = tmp_path / "failing"
        failing.mkdir()
        (failing / "xdg-open").write_text("#!/bin/sh\nexit 3\n")
        (failing / "xdg-open").chmod(0o755)
        done = vidgen("open", "never-opened", cwd=workspace.root, env={"PATH": f"{failing}{os.pathsep}{os.environ['PATH']}"})
        assert_one_line_error(done, 1, "xdg-open could not show the video (exit 3", str(mp4))
    finally:
        mp4.unlink()


def kept_bytes(workspace, name: str, number: int) -> bytes:
    return (workspace.state_dir / "renders" / name / f"v{number}.mp4").read_bytes()


def history_lines(workspace, name: str) -> list[list[str]]:
    done = vidgen("history", name, cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    return [line.split() for line in done.stdout.splitlines()]


@pytest.mark.render
def test_each_render_keeps_its_version_and_undo_redo_bring_it_back(workspace, make_video) -> None:
    name = "versions-steps"
    shutil.rmtree(workspace.state_dir / "history" / name, ignore_errors=True)
    shutil.rmtree(workspace.state_dir / "renders" / name, ignore_errors=True)
    video = make_video(name, {"index.tsx": component(BLUE)})
    mp4 = workspace.out_dir / f"{name}.mp4"
    assert vidgen("render", name, cwd=workspace.root).returncode == 0
    first = mp4.read_bytes()
    first_at = state.read(workspace)[name]["at"]
    video.entry.write_text(component(ORANGE))
    assert vidgen("render", name, cwd=workspace.root).returncode == 0
    second = mp4.read_bytes()
    assert first != second and kept_bytes(workspace, name, 1) == first and kept_bytes(workspace, name, 2) == second
    # The newest is out/<name>.mp4 and its kept copy is the same file (a hard link: no second copy on disk).
    assert os.stat(mp4).st_ino == os.stat(workspace.state_dir / "renders" / name / "v2.mp4").st_ino
    assert [(line[0], line[2], line[3]) for line in history_lines(workspace, name)] == [
        ("1", "original", "mp4"),
        ("2*", "hand-edit", "mp4"),
    ]

    # Undo: version 1's files and video, no render, no new history entry; `list` says rendered.
    done = vidgen("undo", name, cwd=workspace.root)
    assert done.returncode == 0 and "its video is back" in done.stderr, done.stderr
    assert "#203060" in video.entry.read_text() and mp4.read_bytes() == first
    assert state_of(workspace, name).startswith("rendered at")
    # ... at version 1's render time (its kept file's), not the undo's: the seconds between the file
    # landing and the state being written are all that may differ.
    undone_at = datetime.fromisoformat(state.read(workspace)[name]["at"])
    assert timedelta(0) <= datetime.fromisoformat(first_at) - undone_at < timedelta(seconds=30)
    assert [line[0] for line in history_lines(workspace, name)] == ["1*", "2"]
    assert_one_line_error(vidgen("undo", name, cwd=workspace.root), 2, "no earlier version")

    # Redo: forward to version 2 and its video.
    assert vidgen("redo", name, cwd=workspace.root).returncode == 0
    assert "#603020" in video.entry.read_text() and mp4.read_bytes() == second
    assert_one_line_error(vidgen("redo", name, cwd=workspace.root), 2, "no later version")

    # A hand edit never rendered: undo keeps it as version 3 and goes back to 2; redo returns to 3,
    # which has no video, so out/ keeps version 2's and `list` says outdated.
    video.entry.write_text(component(ORANGE.replace("#f7b733", "#33b7f7")))
    assert vidgen("undo", name, cwd=workspace.root).returncode == 0
    assert mp4.read_bytes() == second and "#603020" in video.entry.read_text()
    done = vidgen("redo", name, cwd=workspace.root)
    assert done.returncode == 0 and "no video kept" in done.stderr
    assert "#33b7f7" in video.entry.read_text() and mp4.read_bytes() == second
    assert state_of(workspace, name).startswith("outdated")
    assert [(line[0], line[3]) for line in history_lines(workspace, name)] == [("1", "mp4"), ("2", "mp4"), ("3*", "-")]


def _spare_video(workspace, tmp_path: Path) -> workspace_module.Video:
    ws = workspace_module.create(tmp_path / "spare", install=False)
    (ws.root / "node_modules").symlink_to(workspace.root / "node_modules")
    return ws.video("hello")


def test_only_the_newest_versions_keep_a_video(workspace, tmp_path: Path) -> None:
    video = _spare_video(workspace, tmp_path)
    out = video.workspace.out_dir / "hello.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    for number in range(1, 5):  # as a render does: every file in out/ is replaced by a rename, never rewritten
        atomic_write(out, f"render {number}")
        atomic_write(out.with_name("hello.poster.png"), f"poster {number}")
        renders.keep(video, number, out, limit=2)
    folder = video.workspace.state_dir / "renders" / "hello"
    assert renders.kept(video) == {3, 4}
    assert sorted(p.name for p in folder.iterdir()) == ["v3.mp4", "v3.poster.png", "v4.mp4", "v4.poster.png"]
    assert (folder / "v3.mp4").read_bytes() == b"render 3"
    assert renders.keep(video, 5, out, limit=0) is None and renders.kept(video) == {3, 4}


# ------------------------------------------------------------------ the poster: the most detailed still


def _frame(tmp_path: Path, name: str, draw_text: bool, fade: float = 1.0) -> Path:
    image = Image.new("RGB", (640, 360), (20, 30, 60))
    if draw_text:
        scene = Image.new("RGB", (640, 360), (20, 30, 60))
        pen = ImageDraw.Draw(scene)
        for row in range(6):
            pen.text((40, 40 + row * 45), "Los Angeles to New York, then Paris", fill=(250, 250, 250))
            pen.rectangle((420, 40 + row * 45, 600, 60 + row * 45), outline=(250, 200, 50), width=3)
        image = Image.blend(image, scene, fade)
    path = tmp_path / f"{name}.jpeg"
    image.save(path, quality=90)
    return path


def test_the_poster_is_the_most_detailed_still_not_a_blank_or_a_cross_fade(tmp_path: Path) -> None:
    blank = _frame(tmp_path, "blank", False)
    fading = _frame(tmp_path, "fading", True, fade=0.5)
    sharp = _frame(tmp_path, "sharp", True)
    assert poster.detail(blank) == 0
    assert poster.detail(sharp) > poster.detail(fading) > 0
    ranked = poster.most_detailed([(0, blank), (20, fading), (39, sharp), (59, blank)])
    assert [frame for _, frame in ranked] == [39, 20]  # blank frames are no candidates
    assert poster.most_detailed([(0, tmp_path / "missing.jpeg")]) == []


@pytest.mark.render
def test_a_rendered_poster_shows_the_content_not_the_middle_frame(workspace, make_video) -> None:
    # Only the last half-second shows anything: the middle frame (the old poster) is blank.
    late = """
    const shown = frame >= 45;
    return (
      <AbsoluteFill style={{backgroundColor: '#102040'}}>
        {shown ? <div style={{position: 'absolute', left: 40 + frame, top: 120, color: 'white', fontSize: 48}}>Late title</div> : null}
      </AbsoluteFill>
    );
    """
    make_video("poster-late", {"index.tsx": component(late, frames=60)})
    done = vidgen("render", "poster-late", "--json", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    made = workspace.out_dir / "poster-late.poster.png"
    assert wait_for_file(made)  # the daemon makes it after the command returned
    assert poster.detail(made) > 0.001  # the title is on it
    with Image.open(made) as image:
        assert verify.content_share(image.convert("RGB"))[0] > 0.001


# ------------------------------------------------------------------ the batch report


def test_the_report_links_each_mp4_relative_to_where_it_is(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "out").mkdir(parents=True)
    (root / "out" / "a video.mp4").write_bytes(b"mp4")
    entries = [
        {"name": "a-video", "status": "rendered", "output": "out/a video.mp4"},
        {"name": "gone", "status": "rendered", "output": "out/gone.mp4"},
        {"name": "failed", "status": "failed", "output": None},
    ]
    page = report.write(root / "out" / "r.report.html", "ideas.txt", root, entries, {}, 1.0).read_text()
    assert page.count('class="open"') == 1 and 'href="a%20video.mp4"' in page
    elsewhere = report.write(root / "reports" / "r.html", "ideas.txt", root, entries, {}, 1.0).read_text()
    assert 'href="../out/a%20video.mp4"' in elsewhere
    assert report.is_report(root / "reports" / "r.html")


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("notes.md", "does not end in .html"),
        ("ideas.txt", "does not end in .html"),
        ("src/videos/hello/page.html", "inside the workspace's src/"),
        (".vidgen/page.html", "inside the workspace's .vidgen/"),
        ("mine.html", "exists and is not a vidgen report"),
    ],
)
def test_report_never_overwrites_a_source_file(workspace, tmp_path: Path, target: str, fragment: str) -> None:
    ws = _spare_video(workspace, tmp_path).workspace
    (ws.root / "notes.md").write_text("mine")
    (ws.root / "mine.html").write_text("<html><title>my page</title></html>")
    ideas = ws.root / "ideas.txt"
    ideas.write_text("a square\n")
    guarded = {path: path.read_bytes() for path in (ws.root / "notes.md", ws.root / "mine.html", ideas)}
    with ScriptedModel([Scripted("never sent")]) as server:
        done = vidgen("batch", "ideas.txt", "--report", target, *model_flags(server), cwd=ws.root, timeout=120)
    assert_one_line_error(done, 2, fragment)
    assert server.requests == [] and {path: path.read_bytes() for path in guarded} == guarded
    assert not (ws.root / "src" / "videos" / "hello" / "page.html").exists()


@pytest.mark.render
def test_a_sliding_busy_frame_loses_the_poster_to_a_steady_one(session, make_video) -> None:
    from vidgen.render import video as render

    # First second: a still title. Second second: stripes racing over a background that changes
    # colour every frame (more edges than the title, and every pixel moving, like a slide).
    busy = """
    if (frame < 30) {
      return (
        <AbsoluteFill style={{backgroundColor: '#102040', color: 'white', fontSize: 40, padding: 40}}>
          <div>A steady title</div><div>with a second line</div>
        </AbsoluteFill>
      );
    }
    const stripes = Array.from({length: 40}, (_, i) => (
      <div key={i} style={{position: 'absolute', left: (i * 97 + (frame - 30) * 23) % 640, top: 0, width: 6, height: 360, backgroundColor: 'white'}} />
    ));
    return <AbsoluteFill style={{backgroundColor: `hsl(${frame * 40}, 70%, 30%)`}}>{stripes}</AbsoluteFill>;
    """
    video = make_video("poster-steady", {"index.tsx": component(busy, frames=60)})
    result = render.render(session, video)
    assert result.error is None, result.error
    checked = render.check(session, video)  # the sample as stills (a render takes them from its file)
    stills = [(int(s["frame"]), Path(s["path"])) for s in checked.stills]
    assert poster.most_detailed(stills)[0][1] >= 30  # the stripes have the most edges
    chosen = poster.poster_frame(result.output, stills, 60, (640, 360))
    assert chosen is not None and chosen < 30
