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
    frames = [s["frame"] for s in result.stills]
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


def test_frames_with_findings_are_outlined_in_red(tmp_path) -> None:
    stills = []
    for frame in (0, 10, 20):
        path = tmp_path / f"{frame}.jpg"
        Image.new("RGB", (320, 180), (20, 60, 120)).save(path)
        stills.append({"frame": frame, "path": str(path)})
    target = tmp_path / "v.sheet.png"
    assert sheet.write(stills, target, 320, 180, 30, marked=[11]) == target
    grid = sheet.layout(3, 320, 180)
    with Image.open(target) as image:
        assert image.size == grid.size
        marked_x, marked_y = grid.origin(1)
        plain_x, plain_y = grid.origin(0)
        assert image.getpixel((marked_x + 1, marked_y + 40)) == sheet.MARKED  # the nearest tile to frame 11
        assert image.getpixel((plain_x + 1, plain_y + 40)) != sheet.MARKED
    assert sheet.write([], tmp_path / "none.png", 320, 180, 30) is None
    assert sheet.marked_tiles([0, 10, 20], [19, 0]) == {0, 2}
