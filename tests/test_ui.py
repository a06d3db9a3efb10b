"""`vidgen ui`'s server without a browser: the guard (token, Host, Origin) and the page's data, over real HTTP.

The app is served by uvicorn on 127.0.0.1 in a thread, as `vidgen ui` serves it; the player's bundler is not
started (tests/test_ui_browser.py runs the whole command in a real workspace)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.helpers import component
from vidgen import settings as settings_module
from vidgen.engine.service import RenderService
from vidgen.engine.session import Session
from vidgen.errors import Finding
from vidgen.model.client import client_for
from vidgen.ui import server
from vidgen.ui.guard import Guard
from vidgen.ui.player import Player
from vidgen.ui.runs import Run, Runs
from vidgen.workspace import history, outputs, project, state


@pytest.fixture
def page(tmp_path: Path) -> Iterator[tuple[Guard, project.Workspace, Runs]]:
    workspace = project.create(tmp_path / "ws", install=False)
    (workspace.root / "src" / "videos" / "tiny").mkdir(parents=True)
    (workspace.root / "src" / "videos" / "tiny" / "index.tsx").write_text(component("return <AbsoluteFill />;"))
    settings = settings_module.load(workspace.root)
    session = Session(workspace, settings, RenderService(workspace, settings.render))  # never started here
    sock = server.listening_socket(0)
    guard = Guard(sock.getsockname()[1])
    runs = Runs(session, lambda: client_for(settings.model))
    app = server.application(workspace, Player(workspace, settings.render), runs, guard)
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not uv.started:
        time.sleep(0.02)
    yield guard, workspace, runs
    uv.should_exit = True
    thread.join(10)
    sock.close()


def test_the_page_needs_its_token(page) -> None:
    guard, *_ = page
    origin = f"http://127.0.0.1:{guard.port}"
    assert httpx.get(guard.url).status_code == 200
    assert "vidgen" in httpx.get(guard.url).text
    for path in ("/", "/api/videos", f"/{guard.token[:-1]}/api/videos", f"/{guard.token}x/api/videos", "/favicon.ico"):
        refused = httpx.get(origin + path)
        assert refused.status_code == 403, path
        assert "token" in refused.text and guard.token not in refused.text


def test_other_hosts_and_origins_are_refused(page) -> None:
    guard, *_ = page
    api = guard.url + "api/videos"
    # DNS rebinding: a name of the attacker's, resolved to 127.0.0.1
    assert httpx.get(api, headers={"host": f"evil.example:{guard.port}"}).status_code == 403
    assert httpx.get(api, headers={"host": "127.0.0.1:1"}).status_code == 403
    assert httpx.get(api, headers={"host": f"localhost:{guard.port}"}).status_code == 200
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{guard.port + 1}"):
        assert httpx.post(guard.url + "api/cancel", headers={"origin": origin}).status_code == 403, origin
    same = httpx.post(guard.url + "api/cancel", headers={"origin": f"http://127.0.0.1:{guard.port}"})
    assert same.status_code == 200 and same.json() == {"cancelled": False}


def test_the_player_token_reaches_the_player_only(page) -> None:
    guard, *_ = page
    player = f"http://127.0.0.1:{guard.port}/{guard.player_token}"
    for path in ("/api/videos", "/", "/file/tiny/mp4"):
        assert httpx.get(player + path, headers={"origin": "null"}).status_code == 404, path
    assert httpx.get(player + "/player/index.html", headers={"origin": "http://evil.example"}).status_code == 403


def test_the_page_lists_videos_with_status_and_version(page) -> None:
    guard, workspace, _ = page
    videos = httpx.get(guard.url + "api/videos").json()["videos"]
    assert [(v["name"], v["status"], v["version"], v["poster"]) for v in videos] == [
        ("hello", "never rendered", None, None),
        ("tiny", "never rendered", None, None),
    ]
    tiny = workspace.video("tiny")
    state.record(
        workspace, "tiny", status="failed", stage="typecheck", message="x", sources=state.fingerprint(state.sources_of(tiny))
    )
    assert [v["status"] for v in httpx.get(guard.url + "api/videos").json()["videos"]] == ["never rendered", "failed"]
    (tiny.folder / "index.tsx").write_text(component("return <AbsoluteFill style={{backgroundColor: 'red'}} />;"))
    assert [v["status"] for v in httpx.get(guard.url + "api/videos").json()["videos"]] == ["never rendered", "outdated"]
    covered = Finding("occluded", "warning", "the title is covered", frame=12, file="index.tsx", line=9, box=(10, 20, 300, 80))
    state.note_warnings(workspace, "tiny", [covered], state.fingerprint(state.sources_of(tiny)))
    (finding,) = httpx.get(guard.url + "api/videos").json()["videos"][1]["findings"]
    assert (finding["frame"], finding["box"], finding["line"], finding["message"]) == (12, [10, 20, 300, 80], 9, covered.message)
    assert httpx.get(guard.url + "file/tiny/mp4").status_code == 404
    assert httpx.get(guard.url + "file/../etc/mp4").status_code == 404


def test_a_run_without_a_prompt_or_video_is_refused(page) -> None:
    guard, *_ = page
    origin = {"origin": f"http://127.0.0.1:{guard.port}"}
    empty = httpx.post(guard.url + "api/run", json={"video": "tiny", "prompt": " ", "kind": "edit"}, headers=origin)
    assert empty.status_code == 400 and "say what" in empty.json()["error"]
    missing = httpx.post(guard.url + "api/run", json={"video": "nope", "prompt": "red", "kind": "edit"}, headers=origin)
    assert missing.status_code == 400 and "no video 'nope'" in missing.json()["error"]
    assert httpx.post(guard.url + "api/undo", json={"video": "tiny"}, headers=origin).status_code == 400


def test_the_url_without_its_slash_is_sent_to_the_page(page) -> None:
    guard, *_ = page
    bare = httpx.get(guard.url.rstrip("/"))
    assert (bare.status_code, bare.headers["location"]) == (308, f"/{guard.token}/")


def test_undo_waits_for_no_run_and_events_take_a_number(page) -> None:
    guard, _, runs = page
    origin = {"origin": f"http://127.0.0.1:{guard.port}"}
    runs.runs.append(Run(1, "tiny", "edit", "make it red"))  # a run under way, as the worker thread holds it
    refused = httpx.post(guard.url + "api/undo", json={"video": "tiny"}, headers=origin)
    assert refused.status_code == 400 and "under way" in refused.json()["error"]  # undo would change its files
    assert httpx.get(guard.url + "api/events?after=x").status_code == 400
    runs.runs[-1].done = True
    assert "under way" not in httpx.post(guard.url + "api/undo", json={"video": "tiny"}, headers=origin).text


def test_a_state_file_naming_a_file_elsewhere_serves_nothing(page, tmp_path: Path) -> None:
    guard, workspace, _ = page
    elsewhere = tmp_path / "secret.mp4"
    elsewhere.write_bytes(b"not the workspace's")
    tiny = workspace.video("tiny")
    sources = state.fingerprint(state.sources_of(tiny))
    state.record(workspace, "tiny", status="rendered", output=str(elsewhere), sources=sources, version=1)
    assert httpx.get(guard.url + "file/tiny/mp4").status_code == 404


def test_the_browser_is_given_a_private_file_not_the_token(tmp_path: Path) -> None:
    from vidgen.cli.ui import redirect_page

    folder = tmp_path / "opener"
    folder.mkdir(mode=0o700)
    url = "http://127.0.0.1:5000/s3cr3t-token/"
    page = redirect_page(url, folder)
    assert "s3cr3t" not in page.as_uri()  # what a browser's command line shows
    assert page.stat().st_mode & 0o777 == 0o600 and url in page.read_text()


def _versions(workspace: project.Workspace) -> project.Video:
    """tiny with two kept versions: 1 the original, 2 an edit; version 1's render (a poster and an MP4) kept."""
    tiny = workspace.video("tiny")
    history.record(tiny, "new", "a black frame")
    (tiny.folder / "index.tsx").write_text(component("return <AbsoluteFill style={{color: 'red'}}>a < b & c</AbsoluteFill>;"))
    history.record(tiny, "edit", "red text")
    kept = outputs.folder(tiny)
    kept.mkdir(parents=True)
    (kept / "v1.mp4").write_bytes(b"version one's video")
    (kept / "v1.poster.png").write_bytes(b"version one's poster")
    return tiny


def _one_line_400(response: httpx.Response, *fragments: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "\n" not in error and "Traceback" not in error
    for fragment in fragments:
        assert fragment in error, error


HOSTILE_VERSIONS = ["x", "", "0", "-1", "1.5", "1e3", "../1", "1/../2", "%2e%2e", "٣", "9" * 40, str(10**9)]


def test_a_versions_diff_and_poster(page) -> None:
    guard, workspace, _ = page
    _versions(workspace)
    rows = httpx.get(guard.url + "api/videos").json()["videos"][1]["versions"]
    assert [(r["number"], r["video"], r["poster"] is not None, r["current"]) for r in rows] == [
        (1, True, True, False),
        (2, False, False, True),
    ]
    assert httpx.get(guard.url + f"file/tiny/poster/1?at={rows[0]['poster']}").content == b"version one's poster"
    answer = httpx.get(guard.url + "api/diff", params={"video": "tiny", "version": "2"})
    assert answer.headers["content-type"] == "application/json"  # text for the page to show as text, never markup
    diff = answer.json()["diff"]
    assert diff.startswith("--- version 1/index.tsx\n+++ version 2/index.tsx\n")
    assert "+  return <AbsoluteFill style={{color: 'red'}}>a < b & c</AbsoluteFill>;" in diff
    assert "-  return <AbsoluteFill />;" in diff
    first = httpx.get(guard.url + "api/diff", params={"video": "tiny", "version": 1}).json()["diff"]
    assert "--- nothing/index.tsx" in first and "+export default Video;" in first


def test_a_diff_asked_for_badly_is_a_400(page, tmp_path: Path) -> None:
    guard, workspace, _ = page
    tiny = _versions(workspace)
    diff = guard.url + "api/diff"
    for version in HOSTILE_VERSIONS:
        _one_line_400(httpx.get(diff, params={"video": "tiny", "version": version}), "version must be")
    _one_line_400(httpx.get(diff, params={"video": "tiny"}), "version must be")
    _one_line_400(httpx.get(diff, params={"video": "tiny", "version": "3"}), "no version 3: it has versions 1 to 2")
    for name in ("../tiny", "nope", "/etc/passwd", "tiny/../hello"):
        assert httpx.get(diff, params={"video": name, "version": "1"}).status_code == 400, name
    # A version folder that is a link to files elsewhere is not read.
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(history.versions(tiny)[1].folder, elsewhere)
    (elsewhere / "files" / "index.tsx").write_text("a secret of the machine\n")
    shutil.rmtree(history.versions(tiny)[1].folder)
    (history.versions(tiny)[0].folder.parent / "0002").symlink_to(elsewhere)
    refused = httpx.get(diff, params={"video": "tiny", "version": "2"})
    _one_line_400(refused, "is a link")
    assert "secret" not in refused.text
    origin = f"http://127.0.0.1:{guard.port}"
    assert httpx.get(origin + "/api/diff?video=tiny&version=1").status_code == 403


def test_render_this_version_is_guarded_and_checks_its_input(page) -> None:
    guard, workspace, runs = page
    _versions(workspace)
    render = guard.url + "api/render"
    origin = {"origin": f"http://127.0.0.1:{guard.port}"}
    body = {"video": "tiny", "version": 1}
    assert httpx.post(f"http://127.0.0.1:{guard.port}/api/render", json=body).status_code == 403  # no token
    for foreign in ("http://evil.example", "null"):
        assert httpx.post(render, json=body, headers={"origin": foreign}).status_code == 403, foreign
    assert runs.runs == []
    for version in [*HOSTILE_VERSIONS, None, True, 1.0, [1], {"n": 1}, 10**30, -3]:
        _one_line_400(httpx.post(render, json={"video": "tiny", "version": version}, headers=origin), "version must be")
    _one_line_400(httpx.post(render, json={"video": "tiny", "version": 7}, headers=origin), "no version 7")
    _one_line_400(httpx.post(render, json={"video": "../tiny", "version": 1}, headers=origin))
    _one_line_400(httpx.post(render, content=b"\xff not json", headers=origin))
    assert runs.runs == []
    runs.runs.append(Run(1, "hello", "edit", "make it red"))  # a run under way
    _one_line_400(httpx.post(render, json=body, headers=origin), "under way")


def test_render_this_version_puts_back_its_kept_video_without_a_render(page) -> None:
    guard, workspace, runs = page
    tiny = _versions(workspace)
    answer = httpx.post(
        guard.url + "api/render", json={"video": "tiny", "version": "1"}, headers={"origin": f"http://127.0.0.1:{guard.port}"}
    )
    assert answer.status_code == 200 and answer.json()["video"] == "tiny"
    with httpx.stream("GET", guard.url + "api/events?after=0") as stream:
        events = [json.loads(line[len("data: ") :]) for line in stream.iter_lines() if line.startswith("data: ")]
    assert [e["kind"] for e in events] == ["restored", "end"]
    assert events[-1]["data"] | {"output": None} == {
        "name": "tiny",
        "status": "rendered",
        "ok": True,
        "version": 1,
        "output": None,
    }
    assert "red" not in (tiny.folder / "index.tsx").read_text()  # version 1's files
    assert (workspace.out_dir / "tiny.mp4").read_bytes() == b"version one's video"
    assert history.current(tiny).number == 1 and runs.current.done
