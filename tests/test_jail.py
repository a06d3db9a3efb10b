"""The file jail (imports stage and the bundler's resolver) and a browser that dies mid-render."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vidgen import settings as settings_module
from vidgen.check import imports
from vidgen.engine.messages import encode_event
from vidgen.engine.protocol import RenderArgs
from vidgen.engine.session import Session
from vidgen.errors import ServiceReplyError, StructuredError
from vidgen.media import probe as media
from vidgen.render import ladder
from vidgen.render import video as render
from vidgen.workspace.project import Video, Workspace

from .helpers import MOVING, browser_descendants, component

pytestmark = pytest.mark.render

MARKER = "VIDGEN-JAIL-SECRET-7f3a9c"
CONFIG = "export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};\n"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A host file outside the workspace, holding a marker that must never be quoted or bundled."""
    folder = tmp_path / "host"
    folder.mkdir()
    (folder / "secret.json").write_text(f'{{"password": "{MARKER}"}}\n')
    path = folder / "secret.txt"
    path.write_text(f"root:x:0:0:{MARKER}:/root:/bin/bash\n")
    return path


def entry(first_line: str, body: str = "return <AbsoluteFill />;") -> str:
    """A video whose first line is `first_line` (so a refusal must point at line 1)."""
    return first_line + "\n" + component(body)


def bundle_error(session: Session, video: Video) -> StructuredError | None:
    """The bundle stage alone: the resolver must refuse what the imports stage would catch first."""
    return ladder.bundle_error(session, video)


def climb(to: Path) -> str:
    """A relative path from anywhere in the workspace up to the root and down to `to`."""
    return "../" * 30 + str(to).lstrip("/")


def assert_not_leaked(workspace: Workspace, error: StructuredError | None) -> None:
    assert error is not None
    assert MARKER not in repr(error)
    for path in workspace.state_dir.rglob("*"):  # service log, bundles, stills
        if path.is_file() and not path.is_symlink():
            assert MARKER.encode() not in path.read_bytes(), path


def assert_refused(error: StructuredError | None, video: Video, line: int = 1) -> None:
    assert error is not None and error.stage == "bundle"
    assert (error.file, error.line) == ("index.tsx", line), error
    assert f"src/videos/{video.name}/" in error.message and "\n" not in error.message


# ---------------------------------------------------------------- attacks, one per test


def test_subpath_traversal_to_a_host_file(session: Session, make_video, workspace, secret: Path) -> None:
    specifier = "world-atlas/" + climb(secret)
    video = make_video(
        "jail-subpath", {"index.tsx": entry(f"import leak from '{specifier}';", "return <div>{String(leak)}</div>;")}
    )
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert "climbs out of the package 'world-atlas'" in error.message
    assert_not_leaked(workspace, error)
    stage = ladder.run(session, video, stills=ladder.Stills.NONE).error
    assert stage is not None and stage.stage == "imports" and "climbs out" in stage.message
    assert_not_leaked(workspace, stage)


def test_absolute_path_to_a_host_file(session: Session, make_video, workspace, secret: Path) -> None:
    video = make_video(
        "jail-absolute", {"index.tsx": entry(f"import leak from '{secret}';", "return <div>{String(leak)}</div>;")}
    )
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert "absolute path" in error.message
    assert_not_leaked(workspace, error)


def test_json_reached_by_climbing_out_of_the_folder(session: Session, make_video, workspace, secret: Path) -> None:
    target = climb(secret.with_name("secret.json"))
    video = make_video("jail-json", {"index.tsx": entry(f"import leak from '{target}';", "return <div>{leak.password}</div>;")})
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert "outside the video folder" in error.message
    assert_not_leaked(workspace, error)


def test_require_context_reaching_out(session: Session, make_video, workspace, secret: Path) -> None:
    line = "const found = require.context('../../..', true, /secret/);"
    video = make_video("jail-context", {"index.tsx": entry(line, "return <div>{found.keys().join()}</div>;")})
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert "'../../..'" in error.message
    assert_not_leaked(workspace, error)
    stage = imports.check(video)
    assert stage is not None and "require.context" in stage.message and stage.line == 1


def test_dynamic_import_with_a_template_string(session: Session, make_video, workspace, secret: Path) -> None:
    folder = climb(secret.parent)
    line = f"const load = (name: string) => import(`{folder}/${{name}}.json`);"
    video = make_video("jail-dynamic", {"index.tsx": entry(line, "load('secret');\nreturn <AbsoluteFill />;")})
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert_not_leaked(workspace, error)
    stage = imports.check(video)
    assert stage is not None and "computed path" in stage.message and stage.line == 1


def test_loader_prefixed_specifier(session: Session, make_video, workspace, secret: Path) -> None:
    # css-loader is installed (Remotion uses it), so webpack would run it on the host file.
    video = make_video(
        "jail-loader", {"index.tsx": entry(f"import leak from '!!css-loader!{secret}';", "return <div>{String(leak)}</div>;")}
    )
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert_not_leaked(workspace, error)
    stage = imports.check(video)
    assert stage is not None and "loader prefix" in stage.message


def test_raw_loader_and_query_specifiers(session: Session, make_video, workspace, secret: Path) -> None:
    # raw-loader is not installed and Remotion has no ?raw rule: both are refused before webpack
    # looks for either.
    for name, specifier in (("jail-raw-loader", f"!!raw-loader!{secret}"), ("jail-raw-query", climb(secret) + "?raw")):
        video = make_video(name, {"index.tsx": entry(f"import leak from '{specifier}';", "return <div>{String(leak)}</div>;")})
        error = bundle_error(session, video)
        assert_refused(error, video)
        assert_not_leaked(workspace, error)
        found = imports.check(video)  # the first wall refuses it too, at the same line
        assert found is not None and (found.stage, found.file, found.line) == ("imports", "index.tsx", 1), found


def test_installed_package_outside_the_template_list(session: Session, make_video) -> None:
    # webpack is in node_modules (Remotion bundles with it) but is no package a video may use.
    video = make_video(
        "jail-package", {"index.tsx": entry("import webpack from 'webpack';", "return <div>{String(webpack)}</div>;")}
    )
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert "resolves outside the video folder" in error.message


def test_file_url(session: Session, make_video, workspace, secret: Path) -> None:
    # webpack reads file: URLs itself, without the resolver: the factory's check is the wall.
    video = make_video(
        "jail-file-url", {"index.tsx": entry(f"import leak from 'file://{secret}';", "return <div>{String(leak)}</div>;")}
    )
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert_not_leaked(workspace, error)


def test_data_url_module_importing_a_host_file(session: Session, make_video, workspace, secret: Path) -> None:
    # A data: module is never resolved as a file, and what it imports has the data: URL as issuer,
    # no video's folder: the host JSON would be bundled, drawn and quoted.
    target = secret.with_name("secret.json")
    line = f"import leak from \"data:text/javascript,export {{default}} from '{target}'\";"
    video = make_video("jail-data-url", {"index.tsx": entry(line, "return <div>{String(leak.password)}</div>;")})
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert "'data:text/javascript,…', which is a data: URL" in error.message, error.message
    assert str(target) not in error.message and "export" not in error.message
    assert_not_leaked(workspace, error)
    stage = ladder.run(session, video).error
    assert stage is not None and (stage.stage, stage.file, stage.line) == ("imports", "index.tsx", 1), stage
    assert "(data:text/javascript,…)" in stage.message and str(target) not in stage.message
    assert_not_leaked(workspace, stage)


def test_type_only_import_of_a_host_file(session: Session, make_video, workspace, secret: Path) -> None:
    # webpack never sees a type-only import; TypeScript reads the file and names its keys in the error.
    target = secret.with_name("secret.json")
    line = f"import type Leak from '{target}';"
    body = "const shown: Leak = 1 as unknown as Leak;\nreturn <div>{String(shown)}</div>;"
    video = make_video("jail-type-import", {"index.tsx": "import React from 'react';\n" + entry(line, body)})
    stage = ladder.run(session, video).error
    assert stage is not None and (stage.stage, stage.file, stage.line) == ("imports", "index.tsx", 2), stage
    assert "absolute path" in stage.message and "password" not in stage.message
    assert_not_leaked(workspace, stage)


def test_hls_playlist_naming_a_host_video(session: Session, make_video, workspace, secret: Path) -> None:
    # The compositor (not the browser) fetches OffthreadVideo's source: a data: playlist sends it to a file: URL.
    playlist = f"data:audio/x-mpegurl;utf8,#EXTM3U%0A#EXTINF:1,%0Afile://{secret}%0A#EXT-X-ENDLIST"
    body = f'return <AbsoluteFill><OffthreadVideo src={{"{playlist}"}} /></AbsoluteFill>;'
    video = make_video("jail-hls", {"index.tsx": entry("import {OffthreadVideo} from 'remotion';", body)})
    stage = ladder.run(session, video).error
    assert stage is not None and (stage.stage, stage.file, stage.line) == ("imports", "index.tsx", 9), stage
    assert stage.message.startswith("gives <OffthreadVideo src> 'data:audio/x-mpegurl;utf8,…'"), stage.message
    assert "EXTM3U" not in stage.message
    assert_not_leaked(workspace, stage)


def test_other_schemes_are_refused_by_the_resolver(session: Session, make_video, workspace, secret: Path) -> None:
    cases = {
        "node:fs": "is a Node module",
        "https://example.com/leak.js": "is a https: URL",
        "http://127.0.0.1:1/leak.js": "is a http: URL",
        f"file://{secret}": "is a file: URL",
        'data:application/json,{"a": 1}': "is a data: URL",
    }
    for number, (specifier, expected) in enumerate(cases.items()):
        source = entry(f"import leak from '{specifier}';", "return <div>{String(leak)}</div>;")
        video = make_video(f"jail-scheme-{number}", {"index.tsx": source})
        error = bundle_error(session, video)
        assert_refused(error, video)
        assert expected in error.message, (specifier, error.message)
        assert_not_leaked(workspace, error)


@pytest.fixture
def visible_secret(workspace: Workspace) -> Iterator[Path]:
    """A file outside the video folder that the OS jail still holds (the workspace's src/): the resolver is
    the wall tried here, alone (a host file would not even exist for webpack)."""
    folder = workspace.root / "src" / "not-a-video"
    folder.mkdir(exist_ok=True)
    path = folder / "secret.txt"
    path.write_text(f"root:x:0:0:{MARKER}:/root:/bin/bash\n")
    yield path
    shutil.rmtree(folder)


def test_package_json_browser_field_cannot_redirect_outside(
    session: Session, make_video, workspace, visible_secret: Path
) -> None:
    secret = visible_secret
    # The import looks harmless; the folder's own package.json maps it to the host file. Only the
    # path the resolver found shows it.
    video = make_video(
        "jail-browser-field",
        {
            "index.tsx": entry("import leak from './data';", "return <div>{String(leak)}</div>;"),
            "data.ts": "export default 1;\n",
            "package.json": f'{{"browser": {{"./data.ts": "{secret}"}}}}\n',
        },
    )
    assert imports.check(video) is None
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert "resolves outside the video folder" in error.message
    assert_not_leaked(workspace, error)


def test_symbolic_link_out_of_the_folder(session: Session, make_video, workspace, visible_secret: Path) -> None:
    secret = visible_secret
    video = make_video("jail-symlink", {"index.tsx": entry("import leak from './data';", "return <div>{String(leak)}</div>;")})
    (video.folder / "data.ts").symlink_to(secret)
    error = bundle_error(session, video)
    assert_refused(error, video)
    assert_not_leaked(workspace, error)


def test_imports_stage_refuses_ignore_comments_and_computed_requires(make_video) -> None:
    cases = {
        "const m = import(/* webpackIgnore: true */ 'https://example.com/x.js');": "webpackIgnore",
        "const name = 'x';\nconst m = require(name);": "computed path",
        "const c = import.meta.webpackContext('./');": "require.context",
        "import leak from '#secret';": "climbs out",
        '/// <reference path="/etc/hostname" />': "<reference",
    }
    for number, (source, expected) in enumerate(cases.items()):
        video = make_video(f"jail-stage-{number}", {"index.tsx": entry(source)})
        error = imports.check(video)
        assert error is not None and expected in error.message, (source, error)
        assert error.file == "index.tsx"


def test_a_video_may_still_import_its_files_packages_and_css(session: Session, make_video) -> None:
    files = {
        "index.tsx": component(
            "return <div className='x'>{Object.keys(atlas).length}{label}</div>;",
            imports="import './style.css';\nimport atlas from 'world-atlas/countries-110m.json';\nimport {label} from './parts/label';",
        ),
        "style.css": ".x { color: white; background: url('data:image/gif;base64,R0lGODlhAQABAAAAACw='); }\n",
        "parts/label.ts": "export const label = 'ok';\n",
    }
    video = make_video("jail-allowed", files)
    assert imports.check(video) is None
    assert bundle_error(session, video) is None


def test_a_refused_import_does_not_stop_another_video(session: Session, make_video, workspace, secret: Path) -> None:
    make_video(
        "jail-bad-neighbour", {"index.tsx": entry(f"import leak from '{climb(secret)}';", "return <div>{String(leak)}</div>;")}
    )
    video = make_video("jail-good-neighbour", {"index.tsx": component(MOVING)})
    result = render.render(session, video, previews=False)
    assert result.error is None, result.error
    probed = media.probe(result.output, workspace)
    assert (probed.width, probed.height, probed.frames) == (640, 360, 30)


# ---------------------------------------------------------------- the browser's own walls

DOWNLOADER = (
    """
React.useEffect(() => {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob(['MARKER'.repeat(1000)], {type: 'application/octet-stream'}));
  link.download = 'vidgen-download.bin';
  document.body.appendChild(link);
  link.click();
}, []);
""".replace("MARKER", MARKER)
    + MOVING
)


def test_a_download_clicked_by_the_video_writes_nothing(workspace, make_video, tmp_path: Path, monkeypatch) -> None:
    # Chromium saves a clicked <a download> in $HOME/Downloads; the service's browser denies downloads.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    video = make_video("jail-download", {"index.tsx": component(DOWNLOADER)})
    with Session.open(workspace, settings_module.load(workspace.root)) as session:  # a service started with this HOME
        result = ladder.run(session, video)
        assert result.error is None, result.error
        assert render.render(session, video, previews=False).error is None
    written = [path for path in home.rglob("*") if path.is_file() and MARKER.encode() in path.read_bytes()]
    assert not written and not list(home.rglob("vidgen-download*")), written


# ---------------------------------------------------------------- a browser that dies


def killer(service_pid: int) -> tuple[threading.Event, Callable[[str, dict], None]]:
    """A progress callback that kills the service's Chromium once 10 frames are rendered."""
    killed = threading.Event()

    def on_event(kind: str, data: dict) -> None:
        if kind == "progress" and data.get("renderedFrames", 0) >= 10 and not killed.is_set():
            killed.set()
            for pid in browser_descendants(service_pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    return killed, on_event


def test_browser_killed_mid_render_is_reported_and_the_next_render_works(
    own_session: Session, make_video, workspace, tmp_path
) -> None:
    session = own_session
    video = make_video("jail-browser-crash", {"index.tsx": component(MOVING, frames=60)})
    assert render.render(session, video, previews=False).error is None  # warm: bundle and browser ready
    service_pid = session.service.pid
    assert service_pid is not None and browser_descendants(service_pid)

    # The service's own answer: an error of kind browser-crashed.
    killed, on_event = killer(service_pid)
    with pytest.raises(ServiceReplyError) as raised:
        session.service.render(
            RenderArgs(name=video.name, output=str(workspace.state_dir / "staging" / "raw.mp4"), codec="h264", timeout_ms=8000),
            timeout_s=120,
            on_progress=lambda event: on_event("progress", encode_event(event)),
        )
    assert killed.is_set() and raised.value.fault.kind == "browser-crashed", raised.value.fault

    # What the user (and the model, were it to repeat) reads, through the whole pipeline: not the video's
    # fault, so the render is tried once more on a fresh service, and succeeds.
    killed, on_event = killer(service_pid)
    result = render.render(session, video, previews=False, on_event=on_event)
    assert killed.is_set()
    assert result.error is None, result.error
    [fault] = result.retried
    assert (fault.stage, fault.code) == ("render", "browser_crashed"), fault
    message = fault.message
    assert message.startswith("the browser (Chromium) crashed during the render"), message
    assert message.endswith("render again")
    for word in ("download", "DNS", "ENOTFOUND", "getaddrinfo", "googleapis"):
        assert word not in message, message
    assert session.service.pid == service_pid  # the service lives on; only the browser was lost (and reopened)
    assert media.probe(result.output, workspace).frames == 60
