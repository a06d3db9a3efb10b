"""The imports stage reads scripts with a parser: strings and comments hide no import, a string cannot end early,
schemes are refused at their line, and media props load only what the bundle serves (issue 20).

No workspace is installed: these are the stage alone; tests/test_jail.py and tests/test_sources.py run the same
attacks through the whole ladder."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidgen.check import imports, syntax
from vidgen.workspace.project import Video, Workspace

HOST = "/any/host/file.json"
CONFIG = "export const config = {durationInFrames: 1, fps: 30, width: 2, height: 2};\nexport default 1;\n"


def _video(tmp_path: Path, source: str, name: str = "index.tsx") -> Video:
    (tmp_path / "package.json").write_text('{"dependencies": {"remotion": "4.0.527", "react": "19.2.0"}}')
    video = Workspace(tmp_path).video("demo")
    video.folder.mkdir(parents=True, exist_ok=True)
    if name != "index.tsx":
        video.entry.write_text(f"import './{Path(name).stem}';\n{CONFIG}")
        (video.folder / name).write_text(source)
    else:
        video.entry.write_text(source + CONFIG)
    return video


def _refused(tmp_path: Path, source: str, name: str = "index.tsx"):
    error = imports.check(_video(tmp_path, source, name))
    assert error is not None and error.stage == "imports", source
    assert error.file == name, error
    return error


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        # The attack: the regex stopped at the inner quote; the data: module imports the host file.
        (f"import s from \"data:text/javascript,export {{default}} from '{HOST}'\";", "imports a data: URL"),
        (f"export {{default}} from \"data:text/javascript,export {{default}} from '{HOST}'\";", "imports a data: URL"),
        ("import s from '\\x64ata:text/javascript,1';", "imports a data: URL"),  # an escape is still data:
        (f"import type S from '{HOST}';", "absolute path"),  # webpack never sees it; the typecheck reads it
        (f"export type {{S}} from '{HOST}';", "absolute path"),
        (f"type S = typeof import('{HOST}');", "absolute path"),
        ("import type S from 'data:application/json,{\"a\": 1}';", "imports a data: URL"),
        ("import 'https://example.com/x.js';", "imports a URL"),
        ("const m = require('file:///etc/hostname');", "imports a URL"),
        ("import fs = require('node:fs');", "Node module"),
        ("const m = import('http://127.0.0.1:1/x.js');", "imports a URL"),
        ("const m = require.resolve('/etc/hostname');", "absolute path"),
    ],
)
def test_every_import_form_is_read_and_schemes_are_refused_at_their_line(tmp_path: Path, line: str, fragment: str) -> None:
    error = _refused(tmp_path, "import React from 'react';\n" + line + "\n")
    assert error.line == 2 and fragment in error.message, error
    assert "/any/host" not in error.message or "absolute path" in fragment  # a data: URL's content is not quoted


def test_a_data_url_is_quoted_by_its_media_type_alone(tmp_path: Path) -> None:
    error = _refused(tmp_path, f"import s from \"data:text/javascript,export {{default}} from '{HOST}'\";\n")
    assert "(data:text/javascript,…)" in error.message and HOST not in error.message and "export" not in error.message


def test_strings_and_comments_hide_no_import_and_make_none(tmp_path: Path) -> None:
    source = (
        "// import x from 'lodash';\n"
        "const s = \"import y from 'axios'\";\n"
        "const t = `require('left-pad')`;\n"
        "/* import('/etc/passwd') */\n"
        "import {AbsoluteFill} from 'remotion';\n"
    )
    assert imports.check(_video(tmp_path, source)) is None


def test_a_syntax_error_does_not_hide_the_imports_found(tmp_path: Path) -> None:
    error = _refused(tmp_path, "import React from 'react';\nconst broken = ((( ;\nimport leak from '/etc/hostname';\n")
    assert error.line == 3 and "absolute path" in error.message


@pytest.mark.parametrize(
    "line",
    [
        '<OffthreadVideo src={"data:audio/x-mpegurl;utf8,#EXTM3U%0Afile:///host/video.mp4"} />',
        "<OffthreadVideo src='file:///host/video.mp4' />",
        '<Video src="https://example.com/clip.mp4" />',
        "<Audio src={`http://127.0.0.1:1/a.mp3`} />",
        '<Img src="blob:http://localhost/x" />',
        '<IFrame src="https://example.com" />',
        '<img src="//cdn.example.com/a.png" />',
        '<Img src="&#100;ata:text/html,x" />',  # JSX decodes entities in attribute strings
        "<Video src={ready ? 'file:///a.mp4' : staticFile('b.mp4')} />",
        "<div style={{backgroundImage: 'url(https://example.com/a.png)'}} />",
        "<div style={{background: \"url('file:///etc/hostname')\"}} />",
        "<image href='https://example.com/a.svg' />",
    ],
)
def test_media_props_load_only_what_the_bundle_serves(tmp_path: Path, line: str) -> None:
    source = f"import React from 'react';\nconst ready = true;\nexport const V = () => (\n  {line}\n);\n"
    error = _refused(tmp_path, source)
    assert error.line == 4, error
    assert "staticFile('name')" in error.message and "EXTM3U" not in error.message  # a data: URL by its type alone


@pytest.mark.parametrize(
    "line",
    [
        'const playlist = "data:audio/x-mpegurl;utf8,#EXTM3U";',
        "const page = 'data:text/html,<script>1</script>';",
        "const where = 'file:///etc/hostname';",
        "const sneaky = 'da\\nta:video/mp4;base64,AAAA';",  # the URL parser drops newlines
    ],
)
def test_non_image_data_and_file_urls_are_refused_anywhere(tmp_path: Path, line: str) -> None:
    error = _refused(tmp_path, "import React from 'react';\n" + line + "\n")
    assert error.line == 2, error


def test_what_the_bundle_serves_and_inline_images_pass(tmp_path: Path) -> None:
    source = (
        "import React from 'react';\n"
        "import {Img, OffthreadVideo, staticFile} from 'remotion';\n"
        "const svg = 'data:image/svg+xml;utf8,<svg xmlns=\"http://www.w3.org/2000/svg\"/>';\n"
        "export const V = () => (\n"
        "  <div style={{backgroundImage: `url(${svg})`, background: 'url(data:image/png;base64,AAAA)'}}>\n"
        "    <a href='https://example.com'>a link</a>\n"
        "    <Img src={svg} />\n"
        "    <Img src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' />\n"
        "    <OffthreadVideo src={staticFile('clip.mp4')} />\n"
        "    <svg xmlns='http://www.w3.org/2000/svg' />\n"
        "  </div>\n"
        ");\n"
    )
    video = _video(tmp_path, source)
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "clip.mp4").write_bytes(b"")
    assert imports.check(video) is None


def test_css_url_with_a_scheme_is_refused_and_an_inline_image_passes(tmp_path: Path) -> None:
    css = ".a { background: url(data:image/png;base64,AAAA); }\n.b { background: url('data:text/html,x'); }\n"
    error = _refused(tmp_path, css, "style.css")
    assert error.line == 2 and "CSS url()" in error.message


def test_the_parser_reads_each_import_form() -> None:
    script = syntax.parse(
        "import a from 'a';\nimport type B from 'b';\nexport * from 'c';\nimport 'd';\nimport('e');\n"
        "require('f');\nimport g = require('g');\nexport type {H} from 'h';\n",
        ".ts",
    )
    assert [(i.specifier, i.line, i.type_only) for i in script.imports] == [
        ("a", 1, False),
        ("b", 2, True),
        ("c", 3, False),
        ("d", 4, False),
        ("e", 5, False),
        ("f", 6, False),
        ("g", 7, False),
        ("h", 8, True),
    ]
