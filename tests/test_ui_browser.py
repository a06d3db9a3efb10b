"""`vidgen ui` in a real browser: the system Chromium driven by Playwright (its own browser is never downloaded).

One `vidgen ui` serves the suite's workspace for the module, with a scripted model on 127.0.0.1; it is
stopped with SIGTERM at the end, and nothing it started may be left."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from PIL import Image, ImageChops

from tests.helpers import (
    MOVING,
    VIDGEN,
    browser_executable,
    component,
    descendants,
    model_flags,
    reply,
    still_running,
    videos_written,
)
from vidgen.model.scripted import Scripted, ScriptedModel

playwright_api = pytest.importorskip("playwright.sync_api")

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FLAGS += ["--no-first-run", "--host-resolver-rules=MAP evil.example 127.0.0.1"]  # a name rebound to this machine


class Ui(NamedTuple):
    url: str
    port: int
    replies: list[Scripted]


def _url_line(process: subprocess.Popen[str], within_s: float = 120.0) -> str:
    """The URL `vidgen ui` prints once it listens."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()  # type: ignore[union-attr]
    while True:
        line = lines.get(timeout=within_s)
        if line.startswith("vidgen ui on "):
            return line.split()[3]


@pytest.fixture(scope="module")
def ui(workspace) -> Iterator[Ui]:
    replies: list[Scripted] = []
    with ScriptedModel(lambda _body: replies.pop(0) if replies else Scripted("no more replies")) as model:
        command = [*VIDGEN, "ui", "--no-open", "--port", "0", *model_flags(model)]
        process = subprocess.Popen(command, cwd=workspace.root, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        try:
            url = _url_line(process)
            yield Ui(url, int(url.split(":")[2].split("/")[0]), replies)
            started = descendants(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
    assert code == 0
    assert still_running(started) == set(), "vidgen ui left processes behind"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser_executable(), args=FLAGS, headless=True)
        yield chromium
        chromium.close()


def _seek(page, frame: int) -> None:
    page.evaluate(f"document.getElementById('player').contentWindow.postMessage({{seek: {frame}}}, '*')")
    page.wait_for_function(f"document.getElementById('frame').textContent === 'frame {frame}'")


def _differ(first: bytes, second: bytes) -> float:
    """How far apart two screenshots are: the mean of their difference, 0 to 255."""
    a, b = (Image.open(io.BytesIO(shot)).convert("L") for shot in (first, second))
    histogram = ImageChops.difference(a, b).histogram()
    return sum(value * count for value, count in enumerate(histogram)) / (a.width * a.height)


def test_the_player_plays_hello_and_draws_a_finding_at_its_frame(ui: Ui, browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(ui.url + "?video=hello")
    player = page.frame_locator("#player")
    player.locator(".__remotion-player").wait_for(timeout=120_000)
    assert page.locator("#title").text_content() == "hello"
    assert page.locator("#videos li[data-video=hello] .status").text_content() in ("never rendered", "rendered", "outdated")
    _seek(page, 0)
    first = page.locator("#player").screenshot(path=str(tmp_path / "frame-0.png"))
    _seek(page, 60)
    later = page.locator("#player").screenshot(path=str(tmp_path / "frame-60.png"))
    assert _differ(first, later) > 5, "the player shows the same picture at frames 0 and 60"
    assert player.get_by_text("vidgen").count() == 0  # the title scene is over at frame 60
    _seek(page, 20)
    assert player.get_by_text("vidgen").count() == 1

    # A finding as the checks report one (box in video pixels): drawn from its frame to its last, not elsewhere.
    finding = {"kind": "occluded", "severity": "warning", "message": "the title is covered", "frame": 20, "last_frame": 30}
    # The page sends hello's own findings (none) on every refresh, every 5 s: held back from here on, so a
    # refresh between the post and the look cannot wipe this one (seen in CI under load).
    page.locator("#player").element_handle().content_frame().evaluate(
        "() => window.addEventListener('message', (e) => {"
        " if (e.data && Array.isArray(e.data.findings) && !e.data.test) e.stopImmediatePropagation(); }, true)"
    )
    page.evaluate(
        "f => document.getElementById('player').contentWindow.postMessage({findings: [f], test: true}, '*')",
        {**finding, "box": [340, 260, 600, 200]},
    )
    player.locator("[data-finding=occluded]").wait_for()
    assert player.get_by_text("the title is covered").count() == 1
    page.screenshot(path=str(tmp_path / "page.png"))
    _seek(page, 45)
    assert player.locator("[data-finding=occluded]").count() == 0
    page.close()


class _Elsewhere(BaseHTTPRequestHandler):
    """Another site on this machine: a page that knows the URL with its token and tries to start a run."""

    def do_GET(self) -> None:
        body = b"<html><body>elsewhere</body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


def test_other_pages_and_names_are_refused(ui: Ui, browser) -> None:
    page = browser.new_page()
    assert page.goto(f"http://127.0.0.1:{ui.port}/").status == 403  # no token
    assert page.goto(ui.url.replace("127.0.0.1", "evil.example")).status == 403  # a rebound name, with the token even
    runs = httpx.get(ui.url + "api/build").json()["runs"]
    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), _Elsewhere)
    threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{elsewhere.server_address[1]}/")
        # A simple request (no preflight): the browser sends it, with the other site's Origin, and the server refuses it.
        start = "url => fetch(url, {method: 'POST', mode: 'no-cors', body: JSON.stringify({video: 'hello', prompt: 'x', kind: 'edit'})})"
        page.evaluate(start, ui.url + "api/run")
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()
    assert httpx.get(ui.url + "api/build").json()["runs"] == runs
    page.close()


def test_an_instruction_makes_a_new_version_and_undo_restores_the_last(workspace, ui: Ui, browser) -> None:
    blue = component(MOVING.replace("#f7b733", "#2040c0"))
    red = component(MOVING.replace("#f7b733", "#c02020"))
    with videos_written(workspace, {"ui-tiny": {"index.tsx": blue}}) as made:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(ui.url + "?video=ui-tiny")
        page.locator("#videos li[data-video=ui-tiny]").wait_for()

        # A slow reply, cancelled while it streams: the run ends at once and writes nothing.
        ui.replies.append(Scripted(reply(red), drip_s=0.5))
        page.fill("#prompt", "make it red, slowly")
        page.click("#edit")
        page.locator("#log li", has_text="model: edit").wait_for(timeout=60_000)
        page.click("#cancel")
        page.locator("#log li", has_text="cancelled").wait_for(timeout=30_000)
        assert "2040c0" in (made["ui-tiny"].folder / "index.tsx").read_text()

        ui.replies.append(Scripted(reply(red)))
        page.fill("#prompt", "make it red")
        page.click("#edit")
        done = page.locator("#log li", has_text="done: ui-tiny")
        done.wait_for(timeout=240_000)
        item = page.locator("#videos li[data-video=ui-tiny]")
        page.wait_for_function("document.querySelector('#videos li[data-video=ui-tiny]').textContent.includes('v2')")
        assert "rendered" in item.text_content()
        # The history is redrawn after the list: its MP4 link is awaited, not counted at once.
        page.locator("#versions li", has_text="v2").locator("a", has_text="MP4").wait_for(timeout=30_000)
        assert page.locator("#versions li", has_text="v2").locator("a", has_text="MP4").count() == 1
        assert "c02020" in (made["ui-tiny"].folder / "index.tsx").read_text()

        built = httpx.get(ui.url + "api/build").json()["build"]
        page.click("#undo")
        page.wait_for_function("document.querySelector('#videos li[data-video=ui-tiny]').textContent.includes('v1')")
        assert "2040c0" in (made["ui-tiny"].folder / "index.tsx").read_text()
        # The player follows the files: the undone files are bundled again, and the page loads that build.
        page.wait_for_function(f"Number(new URL(document.getElementById('player').src).searchParams.get('build')) > {built}")
        page.click("#redo")
        page.wait_for_function("document.querySelector('#videos li[data-video=ui-tiny]').textContent.includes('v2')")
        assert "c02020" in (made["ui-tiny"].folder / "index.tsx").read_text()
        page.close()


def test_a_failed_turns_error_the_reply_a_versions_diff_and_rendering_a_version(
    workspace, ui: Ui, browser, tmp_path: Path
) -> None:
    green = component(MOVING.replace("#f7b733", "#20c040"))
    broken = component("return <AbsoluteFill style={{backgroundColor: COLOUR}} />;")
    red = component(MOVING.replace("#f7b733", "#c02020"))
    with videos_written(workspace, {"ui-fix": {"index.tsx": green}}) as made:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(ui.url + "?video=ui-fix")
        page.locator("#videos li[data-video=ui-fix]").wait_for()
        ui.replies.extend([Scripted("Made the square <b>red</b>.\n\n" + reply(broken).split("\n\n", 1)[1]), Scripted(reply(red))])
        page.fill("#prompt", "make it red")
        page.click("#edit")
        page.locator("#log li", has_text="done: ui-fix rendered in 2 turn(s)").wait_for(timeout=240_000)

        # The failed turn's error in its own panel, its fields as the repair turn sent them.
        error = page.locator("#errors li")
        assert error.count() == 1
        fields = {name: error.locator(f"dd[data-field={name}]").text_content() for name in ("stage", "file", "line")}
        assert fields == {"stage": "typecheck", "file": "index.tsx", "line": "8"}
        assert "Cannot find name 'COLOUR'" in error.locator(".message").text_content()
        assert "COLOUR" in error.locator("pre").text_content()
        # Each reply in short: its file, and its own words (as text: the <b> is not markup).
        replies = page.locator("#log li.reply")
        assert replies.nth(0).text_content().startswith("reply: index.tsx changed (+1 −6, 11 lines)")
        assert replies.nth(0).locator("q").text_content() == "Made the square <b>red</b>."
        assert replies.nth(1).text_content() == "reply: index.tsx changed (+6 −1, 16 lines)Here is the video."

        # v1 the files as found, v2 the broken edit, v3 the repair: v3's diff is against v2, shown as text.
        page.wait_for_function("document.querySelectorAll('#versions li').length === 3")
        page.locator("#versions li[data-version='3'] button.diff").click()
        diff = page.locator("#diff pre")
        diff.wait_for()
        text = diff.text_content()
        assert text.startswith("--- version 2/index.tsx\n+++ version 3/index.tsx\n@@ ")
        assert any(line.startswith("+") and "<div" in line and "#c02020" in line for line in text.splitlines())
        assert "-  return <AbsoluteFill style={{backgroundColor: COLOUR}} />;" in text
        assert page.locator("#diff pre *:not(span)").count() == 0  # its <AbsoluteFill> lines stayed text
        assert page.locator("#diff pre span.add").count() >= 4
        page.screenshot(path=str(tmp_path / "page.png"))  # the page docs/ui.png shows

        # Render v1, which has no video yet: its files come back, rendered, and it gets its MP4 and poster.
        page.locator("#versions li[data-version='1'] button.render").click()
        page.locator("#log li", has_text="render ui-fix v1").wait_for()  # the chat's log begins anew
        page.locator("#log li", has_text="v1 restored: rendering it").wait_for()
        page.locator("#log li", has_text="done: ui-fix rendered").wait_for(timeout=240_000)
        assert page.locator("#log li", has_text="turn(s)").count() == 0
        assert "20c040" in (made["ui-fix"].folder / "index.tsx").read_text()
        v1 = page.locator("#versions li[data-version='1']")
        v1.locator("a", has_text="MP4").wait_for(timeout=10_000)
        v1.locator("img").wait_for(timeout=30_000)  # the poster, made once the render is in place
        page.close()
