"""`vidgen render --props --scale --frames --crf`, as Remotion's CLI means them: checked, rendered, verified, kept apart."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from vidgen.engine.messages import Composition
from vidgen.engine.protocol import RenderArgs
from vidgen.errors import ServiceReplyError, UsageError
from vidgen.media import probe as media
from vidgen.media.probe import ffmpeg_path
from vidgen.render import options
from vidgen.render.verify import verify
from vidgen.workspace import project as workspace_module
from vidgen.workspace import state

from .helpers import vidgen

# A moving block under a title from the video's props: `--props '{"title": ...}'` changes what is drawn.
TITLED = """
import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';

export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};

const Video: React.FC<{title?: string}> = ({title = 'Default'}) => {
  const frame = useCurrentFrame();
  const x = interpolate(frame, [0, 29], [80, 460], {extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{backgroundColor: '#203060'}}>
      <div style={{position: 'absolute', left: x, top: 200, width: 100, height: 100, backgroundColor: '#f7b733'}} />
      <div style={{position: 'absolute', left: 80, top: 60, color: 'white', fontSize: 40}}>{title}</div>
    </AbsoluteFill>
  );
};

export default Video;
"""
TITLE_BOX = (80, 60, 560, 120)  # where the title is drawn, at 640x360


# ------------------------------------------------------------------ the options themselves, no render


def test_frames_parse_as_remotions_cli_reads_them() -> None:
    assert options.parse_frames("5-14") == (5, 14)
    assert options.parse_frames("5-") == (5, None)
    assert options.parse_frames("7") == (7, 7)
    for bad in ("14-5", "x", "-3", "1-2-3", "1.5"):
        with pytest.raises(UsageError, match="--frames"):
            options.parse_frames(bad)
    video = Composition(640, 360, 30, 30)
    assert options.RenderOptions(frames=(5, None)).frame_range(video) == (5, 29)
    with pytest.raises(UsageError, match="0 to 29"):
        options.RenderOptions(frames=(5, 30)).frame_range(video)


def test_scale_sizes_round_as_remotion_does() -> None:
    assert options.scaled_size(640, 360, 0.5, "h264") == (320, 180)
    assert options.scaled_size(1280, 720, 1.5, "h264") == (1920, 1080)
    # h264 wants even sides: Remotion trims the composition until the scaled side is even.
    assert options.scaled_size(642, 362, 0.5, "h264") == (320, 180)
    assert options.scaled_size(642, 362, 0.5, "vp9") == (321, 181)
    for bad in ("0", "-1", "16.5", "nan", "inf", "x"):
        with pytest.raises(UsageError, match="--scale"):
            options.parse_scale(bad)
    assert options.parse_scale("16") == 16


def test_crf_ranges_are_remotions_per_codec() -> None:
    options.check_crf(1, "h264")
    options.check_crf(51, "h264")
    options.check_crf(0, "vp9")
    options.check_crf(63, "vp9")
    for crf, codec in ((0, "h264"), (52, "h264"), (64, "vp9"), (10, "prores"), (10, "gif")):
        with pytest.raises(UsageError, match="--crf"):
            options.check_crf(crf, codec)
    # vidgen.toml's crf is left out where the codec takes none, gives way to --crf, and is checked where it applies.
    none = options.RenderOptions()
    assert options.with_configured_crf(none, 23, "gif").crf is None
    assert options.with_configured_crf(none, 23, "h264").crf == 23
    assert options.with_configured_crf(options.RenderOptions(crf=40), 23, "h264").crf == 40
    assert options.with_configured_crf(none, 0, "h264").crf is None  # 0: Remotion's own choice
    with pytest.raises(UsageError, match="vidgen.toml"):
        options.with_configured_crf(none, 60, "h264")


def test_variants_are_named_by_what_they_are() -> None:
    default, video = Path("out/v.mp4"), Composition(640, 360, 30, 30)
    assert not options.RenderOptions(crf=30).variant and not options.RenderOptions(scale=1).variant
    assert options.RenderOptions(frames=(5, None)).variant_output(default, video) == Path("out/v.frames-5-29.mp4")
    assert options.RenderOptions(scale=0.5).variant_output(default, video) == Path("out/v@0.5x.mp4")
    both = options.RenderOptions(frames=(5, 14), scale=2).variant_output(default, video)
    assert both == Path("out/v.frames-5-14@2x.mp4")
    props = options.RenderOptions(props={"b": 1, "a": 2}).variant_output(default, video).name
    assert (
        props.startswith("v.props-")
        and props == options.RenderOptions(props={"a": 2, "b": 1}).variant_output(default, video).name
    )
    expected = options.RenderOptions(frames=(5, 14), scale=0.5).expected(video, "h264")
    assert (expected.width, expected.height, expected.frames) == (320, 180, 10)


def test_props_must_be_a_small_json_object_and_errors_never_quote_the_file(tmp_path: Path) -> None:
    assert options.parse_props('{"title": "Hi"}') == {"title": "Hi"}
    good = tmp_path / "props.json"
    good.write_text('{"title": "From a file"}')
    assert options.parse_props(f"@{good}") == {"title": "From a file"}
    secret = tmp_path / "secret.json"
    secret.write_text("ZAI_API_KEY=sk-very-secret\n")
    large = tmp_path / "large.json"
    large.write_text(json.dumps({"x": "y" * 70_000}))
    deep = "[" * 100_000 + "]" * 100_000
    for value, fragment in (
        ("[1, 2]", "JSON object"),
        ('"text"', "JSON object"),
        ("{bad", "not valid JSON"),
        (f"@{secret}", "not valid JSON"),
        (f"@{large}", "64 KiB"),
        (f"@{tmp_path / 'missing.json'}", "not a file"),
        (f"@{tmp_path}", "not a file"),
        (deep, "KiB"),
        ("[" * 30_000 + "]" * 30_000, "nested too deeply"),
    ):
        with pytest.raises(UsageError, match=fragment) as raised:
            options.parse_props(value)
        assert "secret" not in str(raised.value).replace(str(secret), "") and "\n" not in str(raised.value)


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> workspace_module.Workspace:
    """A workspace without `npm ci`: every flag is refused before the ladder runs."""
    return workspace_module.create(tmp_path_factory.mktemp("bare") / "ws", install=False)


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--props", "[1]"], "JSON object"),
        (["--props", "@nope.json"], "not a file"),
        (["--scale", "0"], "--scale 0"),
        (["--scale", "17"], "at most 16"),
        (["--frames", "14-5"], "ends before it starts"),
        (["--crf", "52"], "1 to 51"),
        (["--crf", "30", "--codec", "gif"], "not gif"),
        (["--still", "3", "--scale", "0.5"], "--still"),
        (["--frames", "5-14", "--out", "out/hello.mp4"], "own render"),
    ],
)
def test_bad_options_are_one_line_usage_errors(bare, flags: list[str], fragment: str) -> None:
    done = vidgen("render", "hello", *flags, "--json", cwd=bare.root)
    payload = json.loads(done.stdout)
    assert done.returncode == 2 and payload["error"]["code"] == "usage", payload
    assert fragment in payload["error"]["message"] and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_crf_out_of_range_in_vidgen_toml_is_a_usage_error(tmp_path: Path) -> None:
    ws = workspace_module.create(tmp_path / "ws", install=False)
    config = ws.root / "vidgen.toml"
    config.write_text(config.read_text().replace("crf = 0", "crf = 99"))
    done = vidgen("render", "hello", "--json", cwd=ws.root)
    assert done.returncode == 2 and "render.crf is 99" in json.loads(done.stdout)["error"]["message"]


# ------------------------------------------------------------------ real renders through the CLI


def frame_of(path: Path, index: int = 0) -> Image.Image:
    """One decoded frame of a video, as RGB."""
    done = subprocess.run(
        [ffmpeg_path(), "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{index})", "-frames:v", "1",
         "-f", "image2pipe", "-vcodec", "png", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    from io import BytesIO

    return Image.open(BytesIO(done.stdout)).convert("RGB")


def rendered(workspace, *flags: str) -> dict:
    done = vidgen("render", "ropts", "--no-qa", "--json", *flags, cwd=workspace.root, timeout=600)
    payload = json.loads(done.stdout)
    assert done.returncode == 0 and payload["status"] == "rendered", (payload, done.stderr)
    return payload


@pytest.mark.render
def test_scale_frames_crf_and_props_render_through_the_cli(workspace, make_video) -> None:
    video = make_video("ropts", {"index.tsx": TITLED})
    full = rendered(workspace)  # the video itself: out/ropts.mp4, its version's render
    record = state.read(workspace)["ropts"]
    kept = sorted((workspace.state_dir / "renders" / "ropts").glob("*.mp4"))

    # --scale: verified at the scaled size, written beside the video, recorded as nothing.
    scaled = rendered(workspace, "--scale", "0.5")
    assert Path(scaled["output"]) == workspace.out_dir / "ropts@0.5x.mp4"
    probed = media.probe(Path(scaled["output"]), workspace)
    assert (probed.width, probed.height, probed.frames) == (320, 180, 30)
    assert (scaled["width"], scaled["height"], scaled["previews"]) == (320, 180, None)

    # --frames: 10 frames, inclusive; at two crfs, the same frames are smaller at the higher one.
    low = rendered(workspace, "--frames", "5-14", "--crf", "51")
    assert Path(low["output"]) == workspace.out_dir / "ropts.frames-5-14.mp4"
    probed = media.probe(Path(low["output"]), workspace)
    assert (probed.width, probed.height, probed.frames) == (640, 360, 10) and low["frames"] == 10
    high = rendered(workspace, "--frames", "5-14", "--crf", "1", "--out", str(workspace.out_dir / "ropts-best.mp4"))
    assert Path(high["output"]).stat().st_size > 2 * Path(low["output"]).stat().st_size
    assert media.probe(Path(high["output"]), workspace).frames == 10

    # --props: the component draws the title it is given; only the title's pixels change.
    titled = rendered(workspace, "--props", '{"title": "Hello from props"}', "--frames", "0-2")
    assert ".props-" in Path(titled["output"]).name
    default, given = frame_of(Path(full["output"])), frame_of(Path(titled["output"]))
    assert max(ImageStat.Stat(ImageChops.difference(default.crop(TITLE_BOX), given.crop(TITLE_BOX))).mean) > 5
    block = (0, 180, 640, 360)
    assert max(ImageStat.Stat(ImageChops.difference(default.crop(block), given.crop(block))).mean) < 2

    # None of the variants replaced the video's render: `list`, out/ropts.mp4 and the kept versions are as they were.
    assert state.read(workspace)["ropts"] == record
    assert sorted((workspace.state_dir / "renders" / "ropts").glob("*.mp4")) == kept
    assert media.probe(workspace.out_dir / "ropts.mp4", workspace).frames == 30

    # verify expects exactly what was asked: the scaled file is not the full-size video.
    whole = Composition(640, 360, 30, 30)
    error = verify(video, Path(scaled["output"]), whole, "h264")
    assert error is not None and "320x180, expected 640x360" in error.message

    # Frames past the end are refused with the valid range, before any frame is drawn.
    done = vidgen("render", "ropts", "--no-qa", "--frames", "20-30", "--json", cwd=workspace.root)
    payload = json.loads(done.stdout)
    assert done.returncode == 2 and payload["error"]["code"] == "usage", payload
    assert "0 to 29" in payload["error"]["message"] and state.read(workspace)["ropts"] == record


@pytest.mark.render
def test_the_service_refuses_hostile_render_arguments(session, make_video, workspace) -> None:
    from vidgen.render import video as render

    video = make_video("ropts-wire", {"index.tsx": TITLED})
    assert render.render(session, video, still_frame=0).error is None  # bundled, the composition known
    output = str(workspace.state_dir / "staging" / "ropts-wire-hostile.mp4")  # where the jailed service may write
    for hostile in (
        {"input_props": [1, 2]},
        {"input_props": "text"},
        {"input_props": {"x": "y" * 70_000}},
        {"scale": "2"},
        {"scale": 0},
        {"scale": 1e9},
        {"frame_range": [5, 99]},
        {"frame_range": [9, 3]},
        {"frame_range": "0-3"},
        {"frame_range": [0.5, 3]},
        {"crf": 99},
        {"crf": "18"},
    ):
        args = RenderArgs(name="ropts-wire", output=output, codec="h264", timeout_ms=30_000, **hostile)  # type: ignore[arg-type]
        with pytest.raises(ServiceReplyError) as raised:
            session.service.render(args, timeout_s=60)
        assert raised.value.fault.kind == "usage", (hostile, raised.value.fault)
    assert not Path(output).exists()
