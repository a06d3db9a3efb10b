"""Files a user hands to a video with --asset: checked by what they are, copied whole, told to the model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from vidgen.errors import UsageError
from vidgen.media import assets
from vidgen.media import probe as media
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.workspace.project import Workspace

from .helpers import model_flags, vidgen


def _ffmpeg(*args: str) -> None:
    subprocess.run([media.ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture
def logo(tmp_path: Path) -> Path:
    path = tmp_path / "logo.png"
    _ffmpeg("-f", "lavfi", "-i", "color=c=orange:s=64x48", "-frames:v", "1", str(path))
    return path


@pytest.fixture
def chime(tmp_path: Path) -> Path:
    path = tmp_path / "chime.wav"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=660:duration=1", str(path))
    return path


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _video(tmp_path: Path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "package.json").write_text('{"dependencies": {"remotion": "4.0.527"}}')
    return Workspace(root).video("promo")


def test_assets_are_copied_whole_and_described(tmp_path: Path, logo: Path, chime: Path) -> None:
    video = _video(tmp_path)
    added = assets.add(video, [logo, chime])
    assert [a.describe() for a in added] == [
        "staticFile('promo/logo.png'): image, 64x48",
        "staticFile('promo/chime.wav'): audio, 1.0 s",
    ]
    assert (video.workspace.root / "public" / "promo" / "logo.png").read_bytes() == logo.read_bytes()
    # Adding the same file again is fine; files dropped into public/ by hand are listed after the video's own.
    assets.add(video, [logo])
    (video.workspace.root / "public" / "bg.png").write_bytes(logo.read_bytes())
    assert [a.path for a in assets.listed(video.workspace, video)] == ["promo/chime.wav", "promo/logo.png", "bg.png"]

    # Another video's photos and voice are its own: never offered to this one (a shared folder still is).
    other = video.workspace.video("explainer")
    for each in (video, other):
        each.folder.mkdir(parents=True, exist_ok=True)
        (each.folder / "index.tsx").write_text("export default () => null;\n")
    assets.add(other, [logo])
    (video.workspace.root / "public" / "explainer" / "narration").mkdir()
    (video.workspace.root / "public" / "explainer" / "narration" / "intro.wav").write_bytes(chime.read_bytes())
    (video.workspace.root / "public" / "brand").mkdir()
    (video.workspace.root / "public" / "brand" / "mark.png").write_bytes(logo.read_bytes())
    assert [a.path for a in assets.listed(video.workspace, video)] == [
        "promo/chime.wav",
        "promo/logo.png",
        "bg.png",
        "brand/mark.png",
    ]
    assert [a.path for a in assets.listed(video.workspace, other)] == [
        "explainer/logo.png",
        "explainer/narration/intro.wav",
        "bg.png",
        "brand/mark.png",
    ]


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda d: _write(d / "secret.png", "API_KEY=sk-123\n"), "not a readable image"),
        (lambda d: _write(d / "notes.txt", "x"), "not an image, font, audio or video file"),
        (lambda d: _write(d / "font.woff2", "not a font"), "not a readable font"),
        (lambda d: _write(d / "my logo.png", "x"), "use a plain file name"),
        (lambda d: (d / "dir.png").mkdir() or d / "dir.png", "not a regular file"),
        (lambda d: (d / "link.png").symlink_to("/etc/hostname") or d / "link.png", "not a regular file"),
        (lambda d: d / "missing.png", "not a regular file"),
    ],
)
def test_what_is_not_media_is_refused_and_nothing_is_copied(tmp_path: Path, logo: Path, make, fragment: str) -> None:
    video = _video(tmp_path)
    bad = make(tmp_path)
    with pytest.raises(UsageError) as raised:
        assets.add(video, [logo, bad])
    assert fragment in str(raised.value) and "sk-123" not in str(raised.value)
    assert not (video.workspace.root / "public").exists(), "one bad asset copies none"


def test_an_asset_never_replaces_a_different_file(tmp_path: Path, logo: Path) -> None:
    video = _video(tmp_path)
    mine = video.workspace.root / "public" / "promo" / "logo.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"the user's own logo")
    with pytest.raises(UsageError, match="exists with other content: rename logo.png or remove the old file"):
        assets.add(video, [logo])
    assert mine.read_bytes() == b"the user's own logo"


def test_a_public_folder_that_is_a_link_is_refused(tmp_path: Path, logo: Path) -> None:
    video = _video(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (video.workspace.root / "public").symlink_to(elsewhere)
    with pytest.raises(UsageError, match="is not a folder"):
        assets.add(video, [logo])
    assert list(elsewhere.iterdir()) == []


IMAGE_AND_SOUND = """\
import React from 'react';
import {AbsoluteFill, Audio, Img, interpolate, staticFile, useCurrentFrame} from 'remotion';

export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};

const Promo: React.FC = () => {
  const frame = useCurrentFrame();
  const x = interpolate(frame, [0, 29], [40, 500], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{backgroundColor: '#202a44'}}>
      <Img src={staticFile('NAME/logo.png')} style={{position: 'absolute', left: x, top: 150, width: 64, height: 48}} />
      <Audio src={staticFile('NAME/chime.wav')} />
    </AbsoluteFill>
  );
};

export default Promo;
"""


@pytest.mark.render
def test_new_with_an_image_and_a_sound_renders_both(workspace, fresh, logo: Path, chime: Path) -> None:
    video = fresh("asset-promo")
    source = IMAGE_AND_SOUND.replace("NAME", video.name)
    with ScriptedModel([Scripted(f"Here it is.\n\n```tsx index.tsx\n{source}```\n")]) as server:
        done = vidgen(
            "new",
            "a logo sliding in with a chime",
            "--name",
            video.name,
            "--asset",
            str(logo),
            "--asset",
            str(chime),
            "--json",
            *model_flags(server),
            cwd=workspace.root,
        )
        asked = json.dumps(server.code_requests[0]["body"])
    assert done.returncode == 0, done.stderr
    assert "staticFile('asset-promo/logo.png'): image, 64x48" in asked
    assert "staticFile('asset-promo/chime.wav'): audio, 1.0 s" in asked
    output = Path(json.loads(done.stdout)["output"])
    streams = json.loads(
        subprocess.run(
            [media.ffprobe_path(workspace), "-v", "error", "-show_streams", "-of", "json", str(output)],
            capture_output=True,
            check=True,
        ).stdout
    )["streams"]
    assert sorted(s["codec_type"] for s in streams) == ["audio", "video"]
    (workspace.root / "public" / video.name / "logo.png").unlink()
    (workspace.root / "public" / video.name / "chime.wav").unlink()


def test_a_batch_item_names_assets_beside_its_file(tmp_path: Path, logo: Path) -> None:
    from vidgen.batch import file as batchfile
    from vidgen.settings import Limits

    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.png").write_text("sk-123")
    (tmp_path / "linked").symlink_to("/etc")
    lines = [
        {"prompt": "a logo reveal", "assets": ["logo.png"]},
        {"prompt": "steal a key", "assets": ["/etc/hostname"]},
        {"prompt": "climb out", "assets": ["../logo.png"]},
        {"prompt": "home", "assets": ["~/.ssh/id_rsa.png"]},
        {"prompt": "through a link", "assets": ["linked/hostname.png"]},
        {"prompt": "a text file called png", "assets": ["secret/key.png"]},
        {"prompt": "odd type", "assets": {"a": 1}},
    ]
    path = tmp_path / "ideas.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    items, problems = batchfile.read(path, Limits())
    assert [(i.line, i.assets) for i in items] == [(1, (tmp_path / "logo.png",))]
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (2, "asset '/etc/hostname' is outside the batch file's folder"),
        (3, "asset '../logo.png' is outside the batch file's folder"),
        (4, "asset '~/.ssh/id_rsa.png' is outside the batch file's folder"),
        (5, "asset 'linked/hostname.png' is outside the batch file's folder"),
        (6, "asset key.png"),
        (7, "'assets' must be a list of file names beside the batch file, e.g. [\"logo.png\"]"),
    ]
    assert "sk-123" not in " ".join(p.message for p in problems)
