"""Real renders through the warm service, verified with ffprobe; atomic output; crashes."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from vidgen.engine.session import Session
from vidgen.errors import ServiceError
from vidgen.media import probe as media
from vidgen.render import video as render

from .helpers import MOVING, browser_descendants, component, group_members, still_running

pytestmark = pytest.mark.render


def test_render_writes_a_verified_mp4_with_poster_and_preview(session: Session, make_video, workspace) -> None:
    video = make_video("render-good", {"index.tsx": component(MOVING, frames=45)})
    result = render.render(session, video)
    assert result.error is None, result.error
    assert result.output == workspace.out_dir / "render-good.mp4"
    probed = media.probe(result.output, workspace)
    assert (probed.codec, probed.width, probed.height, probed.frames) == ("h264", 640, 360, 45)
    assert abs(probed.fps - 30) < 0.01 and abs(probed.duration_s - 1.5) < 0.05
    assert result.previews is not None and result.previews.result(timeout=120) is None  # made after the MP4
    assert result.poster.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.preview.read_bytes()[:6] == b"GIF89a"
    assert result.to_json()["status"] == "rendered"
    assert not [p for p in workspace.out_dir.iterdir() if ".partial" in p.name]


def test_render_vp9_and_still(session: Session, make_video, workspace) -> None:
    video = make_video("render-webm", {"index.tsx": component(MOVING, frames=20)})
    result = render.render(session, video, codec="vp9", previews=False)
    assert result.error is None, result.error
    assert media.probe(result.output, workspace).codec == "vp9"
    still = render.render(session, video, still_frame=5)
    assert still.output.name == "render-webm-5.png"
    assert still.output.read_bytes()[:4] == b"\x89PNG"


def test_all_black_and_frozen_videos_fail_verification(session: Session, make_video) -> None:
    black = make_video("render-black", {"index.tsx": component("return <AbsoluteFill style={{backgroundColor: 'black'}} />;")})
    result = render.render(session, black)
    assert result.error.stage == "verify" and "all black" in result.error.message
    assert not result.output
    frozen = make_video(
        "render-frozen",
        {"index.tsx": component("return <AbsoluteFill style={{backgroundColor: '#2a6'}}><h1>Hi</h1></AbsoluteFill>;")},
    )
    result = render.render(session, frozen)
    assert result.error.stage == "verify" and "frozen" in result.error.message


def test_a_failed_render_keeps_the_previous_mp4(session: Session, make_video, workspace) -> None:
    video = make_video("render-atomic", {"index.tsx": component(MOVING)})
    first = render.render(session, video, previews=False)
    assert first.error is None
    before = first.output.read_bytes()
    # Frame 5 is not among the sampled stills (0, 10, 19, 29): only the full render meets it.
    broken = "if (frame === 5) {\n  throw new Error('bad frame');\n}\n" + MOVING
    (video.folder / "index.tsx").write_text(component(broken))
    second = render.render(session, video, previews=False)
    assert second.error is not None and second.error.stage == "render"
    assert second.error.frame == 5 and "bad frame" in second.error.message
    assert first.output.read_bytes() == before
    assert not [p for p in workspace.out_dir.iterdir() if ".partial" in p.name]


def test_killing_the_service_mid_render_renders_again_on_a_fresh_one(own_session: Session, make_video) -> None:
    session = own_session
    video = make_video("render-killed", {"index.tsx": component(MOVING, frames=60)})
    assert render.render(session, video, previews=False).error is None  # warm: bundle and browser ready
    pid = session.service.pid
    assert pid is not None
    killed = threading.Event()
    browsers: set[int] = set()  # this service's, not the other Chromiums on the machine

    def kill_on_progress(kind: str, data: dict) -> None:
        if kind == "progress" and data.get("renderedFrames", 0) >= 5 and not killed.is_set():
            killed.set()
            browsers.update(browser_descendants(pid))
            os.kill(pid, signal.SIGKILL)

    result = render.render(session, video, previews=False, on_event=kill_on_progress)
    assert killed.is_set()
    # Not the video's fault: rendered again at once on a fresh service, the fault kept as retried.
    assert result.error is None and result.output.is_file(), result.error
    [fault] = result.retried
    assert (fault.stage, fault.code, fault.infra) == ("render", "service_crashed", True)
    assert fault.message.startswith("the render service stopped during render"), fault.message
    assert "favicon" not in fault.message  # the log's noise never stands in for the cause
    assert group_members(pid) == set(), "Chromium outlived the killed service"
    assert browsers and still_running(browsers) == set(), "the killed service's browser is still running"
    assert session.service.pid != pid


def test_service_request_timeout_is_reported(own_session: Session) -> None:
    # A bundle takes seconds even with webpack's cache warm: it can never answer in 10 ms, whatever ran before.
    service = own_session.service
    service.start()
    pid = service.pid
    assert pid is not None
    with pytest.raises(ServiceError) as raised:
        service.request("bundle", timeout_s=0.01)
    assert raised.value.kind == "timeout"
    assert str(raised.value) == "bundle made no progress for 0.01s; the render service was restarted"
    assert service.pid is None and group_members(pid) == set()


def test_the_api_sheet_map_example_renders_offline(session: Session, make_video, workspace) -> None:
    """The map example the model is shown must itself pass the ladder and render, with no network."""
    sheet = (workspace.root / "API.md").read_text()
    source = sheet.split("```tsx map-example\n", 1)[1].split("```", 1)[0]
    video = make_video("render-map", {"index.tsx": source})
    result = render.render(session, video, previews=False)
    assert result.error is None, result.error
    assert (result.composition.width, result.composition.frames) == (640, 60)


def test_the_fast_browser_flags_render_identical_frames(session: Session, make_video, workspace, tmp_path) -> None:
    """The launcher's flags must change only the speed, never a pixel."""
    import subprocess

    from vidgen.settings import with_render

    video = make_video("render-flags", {"index.tsx": component(MOVING, frames=20)})
    fast = render.render(session, video, output=tmp_path / "fast.mp4", previews=False)
    assert fast.error is None
    launcher = (workspace.state_dir / "browser-launcher.sh").read_text()
    assert "--disable-frame-rate-limit" in launcher and "--disable-gpu-vsync" in launcher
    plain_settings = with_render(session.settings, browser_flags="")
    with Session.open(workspace, plain_settings) as plain:
        slow = render.render(plain, video, output=tmp_path / "plain.mp4", previews=False)
    assert slow.error is None
    compared = subprocess.run(
        [
            media.ffmpeg_path(),
            "-hide_banner",
            "-i",
            str(fast.output),
            "-i",
            str(slow.output),
            "-lavfi",
            "[0:v][1:v]psnr",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    )
    assert "average:inf" in compared.stderr, compared.stderr[-500:]
