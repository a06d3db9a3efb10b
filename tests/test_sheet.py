"""The contact sheet: written with every render, sized by its grid, not blank, findings outlined."""

from __future__ import annotations

import json
import subprocess

import pytest
from PIL import Image

from vidgen.batch import report
from vidgen.engine.session import Session
from vidgen.media import probe as media
from vidgen.media import sheet
from vidgen.render import ladder
from vidgen.render import video as render

from .helpers import MOVING, component


def _ffprobe_size(path, workspace) -> tuple[int, int]:
    done = subprocess.run(
        [media.ffprobe_path(workspace), "-v", "error", "-show_entries", "stream=width,height", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    stream = json.loads(done.stdout)["streams"][0]
    return stream["width"], stream["height"]


def _luma_range(path) -> tuple[float, float]:
    """YMIN and YMAX of the image, as ffmpeg's signalstats measures them."""
    done = subprocess.run(
        [media.ffmpeg_path(), "-hide_banner", "-i", str(path), "-vf", "signalstats,metadata=print", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    values = dict(line.split("lavfi.signalstats.")[1].split("=") for line in done.stderr.splitlines() if "signalstats.Y" in line)
    return float(values["YMIN"]), float(values["YMAX"])


@pytest.mark.render
def test_every_render_writes_a_contact_sheet(session: Session, make_video, workspace) -> None:
    video = make_video("sheet-render", {"index.tsx": component(MOVING, frames=45)})
    result = render.render(session, video)
    assert result.error is None, result.error
    assert result.sheet == workspace.out_dir / "sheet-render.sheet.png"
    assert result.previews is not None and result.previews.result(timeout=120) is None  # drawn after the MP4
    assert result.stills == []  # a render draws none: the sheet's frames are taken from the MP4
    frames = ladder.sample_frames(45, session.settings.render.sample_stills)
    assert len(frames) == session.settings.render.sample_stills
    grid = sheet.layout(len(frames), 640, 360)
    assert (grid.columns, grid.rows) == (2, 2)
    assert _ffprobe_size(result.sheet, workspace) == grid.size
    low, high = _luma_range(result.sheet)
    assert high - low > 100, "the sheet looks blank"
    assert not [p for p in workspace.out_dir.iterdir() if p.name.startswith(".sheet-render")]
    # The report of a batch shows it (inlined, so the page opens from anywhere).
    entry = {"name": video.name, "status": "rendered", "sheet": result.sheet.relative_to(workspace.root).as_posix()}
    page = report.write(workspace.root / ".vidgen" / "sheet-report.html", "t", workspace.root, [entry], {}, 1.0)
    assert "contact sheet" in page.read_text() and "data:image/jpeg;base64," in page.read_text()
    page.unlink()


def test_a_findings_frames_are_shown_and_outlined_with_its_element_boxed(tmp_path) -> None:
    # A real 1-second video whose frames all differ (ffmpeg's test pattern, its frame counter drawn).
    video = tmp_path / "v.mp4"
    subprocess.run(
        [
            media.ffmpeg_path(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x180:rate=30",
            "-t",
            "1",
            "-pix_fmt",
            "yuv420p",
            str(video),
        ],
        check=True,
    )
    stills = []
    for frame in (0, 10, 20):
        path = tmp_path / f"{frame}.png"
        Image.new("RGB", (320, 180), (20, 60, 120)).save(path)
        stills.append({"frame": frame, "path": str(path)})
    # One finding from frame 13 to 15 with its element's box, one from 20 to 25 without a box.
    marks = [sheet.Mark(13, 15, (100, 50, 40, 30), "offscreen"), sheet.Mark(20, 25, None, "occluded")]
    target = tmp_path / "v.sheet.png"
    assert sheet.write(stills, target, 320, 180, 30, marks=marks, video=video) == target
    grid = sheet.layout(4, 320, 180)  # the three stills and frame 13, taken from the video
    with Image.open(target) as image:
        assert image.size == grid.size
        outlined = [image.getpixel((x + 1, y + 40)) == sheet.MARKED for x, y in map(grid.origin, range(4))]
        assert outlined == [False, False, True, True]  # frames 13 and 20; not 10, which is near but fine
        x, y = grid.origin(2)
        assert image.getpixel((x + 100, y + 65)) == sheet.MARKED  # the box's left side, at its place in the tile
        assert image.getpixel((x + 120, y + 65)) != sheet.MARKED  # and its inside left as the video shows it
        inside = image.crop((x + 10, y + 10, x + 90, y + 40)).convert("L").getextrema()
        assert inside[1] - inside[0] > 100, "frame 13 is the video's picture, not an empty tile"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sheet-")]
    # Without the video, the stills inside a finding's frames are outlined, and only those.
    assert sheet.write(stills, target, 320, 180, 30, marks=marks) == target
    with Image.open(target) as image:
        grid = sheet.layout(3, 320, 180)
        assert [image.getpixel((x + 1, y + 40)) == sheet.MARKED for x, y in map(grid.origin, range(3))] == [False, False, True]
    assert sheet.write([], tmp_path / "none.png", 320, 180, 30) is None
