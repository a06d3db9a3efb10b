"""The pure parts: names, sampling, limits, import rules, error cleaning, settings, verification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidgen import settings
from vidgen.agent import prompts
from vidgen.check import constraints, diagnostics, imports
from vidgen.engine import protocol
from vidgen.engine.messages import Diagnostic
from vidgen.errors import ServiceFault, Stage, StructuredError, UsageError
from vidgen.media import probe as media
from vidgen.render import ladder
from vidgen.workspace.project import Workspace, validate_name


@pytest.mark.parametrize("name", ["hello", "city-tour-2", "a", "9lives"])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "Hello", "a b", "../x", "a/b", "-lead", "x" * 64, "a_b", "é"])
def test_invalid_names_say_what_to_use(name: str) -> None:
    with pytest.raises(UsageError, match="lowercase letters, digits and hyphens"):
        validate_name(name)


def test_sample_frames_spread_from_first_to_last() -> None:
    assert ladder.sample_frames(30, 4) == [0, 10, 19, 29]
    assert ladder.sample_frames(1, 6) == [0]
    assert ladder.sample_frames(3, 6) == [0, 1, 2]
    assert ladder.sample_frames(0, 6) == []


@pytest.mark.parametrize(
    ("composition", "fragment"),
    [
        (ladder.Composition(641, 360, 30, 30), "even"),
        (ladder.Composition(0, 360, 30, 30), "even"),
        (ladder.Composition(8000, 360, 30, 30), "over the limit"),
        (ladder.Composition(640, 360, 0, 30), "fps"),
        (ladder.Composition(640, 360, 30, 0), "at least 1"),
        (ladder.Composition(640, 360, 30, 10_000_000), "max_seconds"),
    ],
)
def test_limits(composition: ladder.Composition, fragment: str) -> None:
    assert fragment in constraints.limits_problem(composition, settings.Limits())


def test_limits_accept_a_normal_video() -> None:
    assert constraints.limits_problem(ladder.Composition(1280, 720, 30, 90), settings.Limits()) is None


def _video(tmp_path: Path):
    (tmp_path / "package.json").write_text('{"dependencies": {"remotion": "4.0.527", "@remotion/shapes": "4.0.527"}}')
    ws = Workspace(tmp_path)
    video = ws.video("demo")
    video.folder.mkdir(parents=True)
    return video


@pytest.mark.parametrize(
    ("specifier", "problem"),
    [
        ("remotion", None),
        ("@remotion/shapes", None),
        ("./Scene", None),
        ("./scenes/Intro", None),
        ("lodash", "not in the template"),
        ("@remotion/lambda", "not in the template"),
        ("https://esm.sh/react", "URL"),
        ("//cdn.example/x.js", "URL"),
        ("node:fs", "Node module"),
        ("/etc/passwd", "absolute path"),
        ("../other/index", "outside the video folder"),
    ],
)
def test_import_rules(tmp_path: Path, specifier: str, problem: str | None) -> None:
    video = _video(tmp_path)
    allowed = video.workspace.dependencies()
    found = imports.check_specifier(video, video.entry, specifier, allowed)
    assert (found is None) if problem is None else (problem in found)


def test_imports_are_found_in_every_form_and_comments_are_ignored(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text(
        "// import x from 'lodash';\n"
        "/* import y from 'axios'; */\n"
        "import {AbsoluteFill} from 'remotion';\n"
        "export const config = {durationInFrames: 1, fps: 30, width: 2, height: 2};\n"
        "const later = () => import('left-pad');\n"
        "export default later;\n"
    )
    error = imports.check(video)
    assert error is not None and error.line == 5 and "left-pad" in error.message


def test_css_imports_of_urls_are_refused(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text("import './style.css';\nexport const config = {};\nexport default 1;\n")
    (video.folder / "style.css").write_text("body {}\n@import url('https://fonts.googleapis.com/css?family=Inter');\n")
    error = imports.check(video)
    assert error.file == "style.css" and error.line == 2 and "URL" in error.message


def test_symlinks_are_refused(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text("export const config = {};\nexport default 1;\n")
    (video.folder / "secret.ts").symlink_to("/etc/hostname")
    assert "symbolic link" in imports.check(video).message


def test_clean_strips_colours_paths_and_length(tmp_path: Path) -> None:
    video = _video(tmp_path)
    raw = f"\x1b[31mError\x1b[0m in {video.folder.resolve()}/index.tsx\n   at line 3 " + "x" * 1000
    cleaned = diagnostics.clean(raw, video)
    assert "\x1b" not in cleaned and str(tmp_path) not in cleaned and "index.tsx" in cleaned
    assert len(cleaned) <= diagnostics.MAX_MESSAGE and cleaned.endswith("…")


def test_webpack_noise_is_removed(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text("line1\nline2\nimport './x.css';\n")
    resolve = {
        "file": str(video.entry),
        "line": 3,
        "column": 1,
        "message": f"Module not found: Error: Can't resolve './x.css' in '{video.folder}'\nresolve './x.css' in ...\n  using description file: ...",
    }
    error = diagnostics.from_bundle(video, Diagnostic.list_from({"diagnostics": [resolve]})[0])
    assert error.message == "Can't resolve './x.css'" and error.file == "index.tsx" and error.line == 3
    syntax = {
        "file": str(video.entry),
        "message": f'Module build failed (from ./node_modules/esbuild-loader/dist/index.cjs):\nError: Transform failed with 1 error:\n{video.entry}:2:4: ERROR: Expected ";" but found "x"',
    }
    error = diagnostics.from_bundle(video, Diagnostic.list_from({"diagnostics": [syntax]})[0])
    assert (error.file, error.line, error.column) == ("index.tsx", 2, 5)
    assert error.message == 'syntax error: Expected ";" but found "x"'
    assert error.excerpt.splitlines()[1].startswith(">")


def test_runtime_timeouts_name_the_frame(tmp_path: Path) -> None:
    video = _video(tmp_path)
    # The service says it is a timeout of a page that never answered (docs/protocol.md); the frame is in the message.
    message = "waiting for the page to render the React component at frame 12 failed: timeout 9000ms exceeded"
    error = diagnostics.from_runtime("stills", video, ServiceFault("timeout", message, page_stuck=True))
    assert error.frame == 12 and "did not finish in time" in error.message
    assert error.code == "timeout" and not error.infra  # a page that never answered: the code's
    slowed = diagnostics.from_runtime("stills", video, ServiceFault("timeout", message))
    assert slowed.code == "timeout" and slowed.infra  # a page that answered late: load can explain it
    # Kinds, not words: the same message as a plain runtime error is not taken for a timeout.
    assert diagnostics.from_runtime("stills", video, ServiceFault("runtime", message)).code == "runtime"


def test_structured_error_one_line() -> None:
    error = StructuredError("lint", "bad", "index.tsx", 3, 7, 12)
    assert error.one_line() == "lint: index.tsx:3:7: bad (frame 12)"
    assert StructuredError("bundle", "broken").one_line() == "bundle: broken"
    assert set(error.to_dict()) == {"stage", "message", "file", "line", "column", "frame", "excerpt", "code", "infra"}


def test_structured_error_code_defaults_to_the_stages_and_json_holds_plain_strings() -> None:
    assert StructuredError("lint", "bad").code == "compile"
    assert StructuredError("stills", "threw").code == "runtime"
    assert StructuredError("verify", "blank").code == "output"
    full = StructuredError("render", "the disk is full", code="disk_full")
    assert json.loads(json.dumps(full.to_dict())) == {
        "stage": "render",
        "message": "the disk is full",
        "file": None,
        "line": None,
        "column": None,
        "frame": None,
        "excerpt": None,
        "code": "disk_full",
        "infra": False,
    }
    with pytest.raises(ValueError):
        StructuredError("linting", "a stage that does not exist")
    with pytest.raises(ValueError):
        StructuredError("render", "a code that does not exist", code="disk-full")


def test_the_ladder_stages_are_its_stage_list_in_order() -> None:
    assert ladder.STAGES == ("sound", "imports", "lint", "typecheck", "bundle", "composition", "stills", "layout")
    # STAGES is made from LADDER, so compare with what does not come from it: Stage lists the ladder's stages in order.
    assert list(ladder.STAGES) == list(Stage)[: len(ladder.STAGES)]


def test_op_arguments_go_on_the_wire_in_camel_case() -> None:
    args = protocol.RenderArgs(name="intro", output="/tmp/o.mp4", codec="h264", timeout_ms=8000)
    assert protocol.wire(args) == {
        "name": "intro",
        "output": "/tmp/o.mp4",
        "codec": "h264",
        "timeoutMs": 8000,
        "concurrency": None,
        "inputProps": None,
        "scale": None,
        "frameRange": None,
        "crf": None,
        "chunks": None,
    }
    stills = protocol.StillsArgs("intro", [0, 5], "/tmp/stills", 8000)
    assert protocol.wire(stills) == {"name": "intro", "frames": [0, 5], "outputDir": "/tmp/stills", "timeoutMs": 8000}


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "vidgen.toml").write_text('[render]\ncodec = "vp9"\nconcurrency = 2\n')
    monkeypatch.delenv("VIDGEN_CODEC", raising=False)
    assert settings.load(tmp_path).render.codec == "vp9"
    monkeypatch.setenv("VIDGEN_CODEC", "prores")
    loaded = settings.load(tmp_path)
    assert loaded.render.codec == "prores" and loaded.render.concurrency == 2
    assert settings.with_render(loaded, codec="gif").render.codec == "gif"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[render]\nbogus = 1\n", "unknown setting render.bogus"),
        ("[render]\nconcurrency = 'many'\n", "is not a int"),
        ("[render\n", "not valid TOML"),
        ("[render]\nframe_timeout_s = 1\n", "minimum of 7"),
    ],
)
def test_bad_settings_say_what_to_fix(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "vidgen.toml").write_text(text)
    with pytest.raises(UsageError, match=fragment):
        settings.load(tmp_path)


def test_a_settings_file_nested_too_deeply_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "vidgen.toml").write_text("[render]\nbrowser = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(UsageError) as caught:
        settings.load(tmp_path)
    assert (
        str(caught.value)
        == f"{tmp_path / 'vidgen.toml'} is not valid TOML (nested too deeply): fix it, or delete it for the defaults"
    )


def test_verification_compares_every_property() -> None:
    probe = media.Probe("h264", 640, 360, 30.0, 30, 1.0)
    assert media.mismatches(probe, media.Expected("h264", 640, 360, 30, 30)) == []
    problems = media.mismatches(probe, media.Expected("vp9", 1280, 720, 25, 60))
    assert len(problems) == 4


def test_every_bad_import_of_a_reply_is_reported_at_once(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text(
        "import {ThreeCanvas} from '@remotion/three';\nimport {Scene} from './Scene';\n"
        "export const config = {};\nexport default Scene;\n"
    )
    (video.folder / "Scene.tsx").write_text(
        "import React from 'react';\n\nimport * as THREE from 'three';\nexport const Scene = 1;\n"
    )
    error = imports.check(video)
    assert (error.file, error.line) == ("index.tsx", 1)
    assert error.message.startswith("imports '@remotion/three', which is not in the template")
    assert error.message.endswith("(also: Scene.tsx:1 imports 'react'; Scene.tsx:3 imports 'three')")


def test_a_missing_static_file_names_what_exists(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text(
        "import {Img, staticFile} from 'remotion';\nexport const config = {};\n"
        "export default () => <Img src={staticFile('paper-texture.jpg')} />;\n"
        "const fine = staticFile('logo.png');\nconst computed = staticFile(`frames/${1}.png`);\n"
    )
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "public" / "grain.jpg").write_bytes(b"\xff\xd8")
    error = imports.check(video)
    assert (error.stage, error.file, error.line) == ("imports", "index.tsx", 3)
    assert (
        error.message
        == "staticFile('paper-texture.jpg') names a file that does not exist in public/: use one of grain.jpg, logo.png"
    )


def test_a_static_file_with_an_empty_public_folder_says_so(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text(
        "import {staticFile} from 'remotion';\nexport const config = {};\nexport default staticFile('../../package.json');\n"
    )
    error = imports.check(video)
    assert error.line == 3 and error.message.startswith(
        "staticFile('../../package.json') names a file that does not exist: public/ is empty"
    )


def test_css_animations_are_refused_with_their_line(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text("import './style.css';\nexport const config = {};\nexport default 1;\n")
    (video.folder / "style.css").write_text("/* animation: none */\n.title {\n  color: red;\n  transition: opacity 1s;\n}\n")
    error = imports.check(video)
    assert (error.file, error.line) == ("style.css", 4)
    assert error.message.startswith("CSS animations and transitions do not follow the frame")


def test_tooling_packages_are_not_importable() -> None:
    import json

    from vidgen.workspace import resources

    package = json.loads((resources.template_dir() / "package.json").read_text())
    for tool in (
        "@remotion/bundler",
        "@remotion/cli",
        "@remotion/renderer",
        "@remotion/eslint-plugin",
        "@remotion/player",
        "react-dom",
    ):
        assert tool in package["devDependencies"] and tool not in package["dependencies"]
    assert all(version[0].isdigit() for version in {**package["dependencies"], **package["devDependencies"]}.values())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Minified React error #310; visit https://react.dev/errors/310 for the full message or use the non-minified dev"
            " environment for full errors and additional helpful warnings.",
            "React error #310: Rendered more hooks than during the previous render: a hook is called conditionally or after an"
            " early return: call every hook at the top of the component, every time",
        ),
        ("Minified React error #9999; visit https://react.dev/errors/9999", "React error #9999"),
        ("Prefer staticFile(). See https://www.remotion.dev/docs/staticfile", "Prefer staticFile()."),
        ("x is not defined", "x is not defined"),
    ],
)
def test_react_errors_are_decoded_and_links_dropped(raw: str, expected: str) -> None:
    from vidgen.check import hints

    assert hints.without_links(hints.decode(raw)) == expected


def test_a_known_slip_in_an_import_gets_the_export_meant() -> None:
    from vidgen.check import hints

    message = "Module '\"remotion\"' has no exported member 'useFrame'."
    assert hints.likely_export(message) == message + " Did you mean useCurrentFrame?"
    other = "Module '\"remotion\"' has no exported member 'useSparkles'."
    assert hints.likely_export(other) == other


@pytest.mark.parametrize(
    ("problem", "line"),
    [
        ("config width and height must be even and positive (got 641x360): e.g. 1280x720", 4),
        ("config size 9000x360 is over the limit 3840x2160 set in vidgen.toml [limits]", 4),
        ("config fps must be between 1 and 120 (got 500): e.g. 30", 3),
        ("config durationInFrames 90000 is 3000s at 30 fps, over the 600s limit", 6),
        ("config says 30 fps but --fps asks 60", 3),
        ("something else entirely", 2),
    ],
)
def test_composition_problems_point_at_their_line_of_config(tmp_path: Path, problem: str, line: int) -> None:
    from vidgen.check import constraints

    entry = tmp_path / "index.tsx"
    entry.write_text(
        "// width: 1 in a comment is not the config\n"
        "export const config = {\n  fps: 30,\n  width: 641, height: 360,\n"
        "  // durationInFrames: 1\n  durationInFrames: 90,\n};\n"
    )
    assert constraints.config_line(entry, problem) == line


@pytest.mark.parametrize(
    ("size", "fragment"),
    [
        ("0x0", "must be even and positive: e.g. 1280x720"),
        ("641x360", "must be even and positive: e.g. 640x360"),
        ("99999x99999", "over the limit 3840x2160 (vidgen.toml [limits]): e.g. 2160x2160"),
        ("7680x4320", "over the limit 3840x2160 (vidgen.toml [limits]): e.g. 3840x2160"),
    ],
)
def test_a_refused_size_suggests_one_that_is_accepted(size: str, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        constraints.build(None, None, size, None, settings.Limits())
    assert fragment in str(caught.value)
    suggested = str(caught.value).rsplit("e.g. ", 1)[1]
    constraints.build(None, None, suggested, None, settings.Limits())  # the suggestion itself passes


def test_a_narrated_request_never_says_silent_or_five_to_ten_seconds() -> None:
    narrated = prompts.create("hash-tables", "a 20-second narrated explainer", "", prompts.Extras(narrate=True))["content"]
    assert "silent" not in narrated and "5 to 10 seconds" not in narrated and "totalFrames" in narrated
    with_music = prompts.create("promo", "a promo", "", prompts.Extras(music=True))["content"]
    assert "silent" not in with_music
    plain = prompts.create("card", "a title card", "")["content"]
    assert "the video is silent" in plain and "5 to 10 seconds" in plain
