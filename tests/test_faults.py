"""Faults that are not the model's: retried once on a fresh service, never a repair turn unless they repeat,
counted apart; a deterministic hang still reaches the model at once, with its frame."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from vidgen import settings as settings_module
from vidgen.agent import loop
from vidgen.batch import runner as batch
from vidgen.engine import client as daemon_client
from vidgen.engine.session import Session
from vidgen.errors import ServiceFault
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.render import video as render
from vidgen.workspace.project import Workspace

from .helpers import MOVING, browser_descendants, component, model, reply

GOOD = component(MOVING, frames=60)


class BrowserKiller:
    """An on_event that kills the service's browser mid-render, in each of the first `times` renders."""

    def __init__(self, session: Session, times: int):
        self.session, self.times = session, times
        self.killed: list[int] = []  # how many browser processes each kill ended
        self.armed = False

    def __call__(self, kind: str, data: dict) -> None:
        if kind == "stage" and data.get("stage") == "render":
            self.armed = len(self.killed) < self.times
        if kind == "progress" and data.get("renderedFrames", 0) >= 5 and self.armed:
            self.armed = False
            pid = self.session.service.pid
            assert pid is not None
            browsers = browser_descendants(pid)
            for browser in browsers:
                try:
                    os.kill(browser, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.killed.append(len(browsers))


@pytest.mark.render
def test_a_browser_crash_costs_no_model_turn(own_session: Session, fresh) -> None:
    video = fresh("faults-crash-once")
    killer = BrowserKiller(own_session, times=1)
    with ScriptedModel([Scripted(reply(GOOD))]) as server:
        outcome = loop.run(own_session, model(server), loop.Request("new", video, "a moving square"), killer)
    assert len(killer.killed) == 1 and killer.killed[0] > 0
    assert outcome.ok and outcome.result.output.is_file()
    assert len(server.requests) == 1  # the model was asked once: the retry was vidgen's
    [attempt] = outcome.attempts
    assert (attempt.stage, attempt.infra) == (None, 1)
    assert [f.code for f in outcome.result.retried] == ["browser_crashed"]
    answer = outcome.to_json()
    assert answer["infra"] == 1 and answer["attempts"][0]["infra"] == 1 and answer["status"] == "rendered"


@pytest.mark.render
def test_a_crash_that_repeats_reaches_the_model_once_with_its_cause(own_session: Session, fresh) -> None:
    video = fresh("faults-crash-twice")
    killer = BrowserKiller(own_session, times=2)  # the try and its retry; the repair renders in peace
    with ScriptedModel([Scripted(reply(GOOD)), Scripted(reply(GOOD))]) as server:
        outcome = loop.run(own_session, model(server), loop.Request("new", video, "a moving square"), killer)
    assert len(killer.killed) == 2
    assert outcome.ok
    assert [(a.stage, a.infra) for a in outcome.attempts] == [("render", 1), (None, 0)]
    first = outcome.attempts[0].error
    assert first is not None and (first.code, first.infra) == ("browser_crashed", True)
    assert len(server.requests) == 2
    sent = server.requests[1]["body"]["messages"][-1]["content"]
    assert "the browser (Chromium) crashed during the render" in sent
    assert "this happened again on a fresh render service" in sent
    assert "favicon" not in sent
    # The batch scorecard: the retried fault apart; the repeated one is the turn's failure, as sent.
    entry = {"status": "rendered", "attempts": [a.to_dict() for a in outcome.attempts]}
    card = batch.scorecard([entry])
    assert (card["first_try"], card["infra"], card["infra_repeated"], card["repairs_by_stage"]) == (0, 1, 1, {"render": 1})


@pytest.mark.render
def test_an_endless_loop_is_not_retried_and_names_its_frame(own_session: Session, make_video) -> None:
    """A page that never yields is the code's, not the machine's: no second timeout before the model hears."""
    body = "if (frame >= 10) {\n  while (true) {\n    // a bug\n  }\n}\n" + MOVING
    video = make_video("faults-loop", {"index.tsx": component(body)})
    result = render.check(own_session, video)
    error = result.error
    assert error is not None and (error.stage, error.code, error.infra) == ("stills", "timeout", False)
    assert error.frame is not None and error.frame >= 10 and f"frame {error.frame} did not finish" in error.message
    assert result.retried == []  # the timeout was waited once
    assert result.to_json()["infra"] == 0


@pytest.mark.render
def test_a_service_killed_on_the_daemon_is_retried_there(workspace: Workspace, make_video) -> None:
    video = make_video("faults-daemon", {"index.tsx": GOOD})
    settings = settings_module.load(workspace.root)
    killed = threading.Event()

    def on_event(kind: str, data: dict) -> None:
        if kind == "progress" and data.get("renderedFrames", 0) >= 5 and not killed.is_set():
            info = daemon_client.status(workspace)
            assert info is not None and info["service_pid"]
            killed.set()
            os.killpg(info["service_pid"], signal.SIGKILL)

    with Session.open(workspace, settings, daemon=True) as session:
        assert isinstance(session.service, daemon_client.RemoteService)
        result = render.render(session, video, previews=False, on_event=on_event)
    assert killed.is_set()
    assert result.error is None, result.error
    [fault] = result.retried
    assert fault.code == "service_crashed" and fault.message.startswith("the render service stopped during render")


def test_the_log_tail_leaves_out_what_never_explains_a_crash(tmp_path: Path) -> None:
    from vidgen.engine.service import RenderService
    from vidgen.settings import RenderSettings

    workspace = Workspace(tmp_path)
    workspace.state_dir.mkdir()
    (workspace.state_dir / "service.log").write_text(
        "[1207/020000.123456:FATAL:memory.cc(22)] Out of memory. size=262144\n"
        "[http://localhost:3000/favicon.ico] Failed to load resource: the server responded with a status of 404 (Not Found)\n"
        "[1207/020001.000001:ERROR:bus.cc(407)] Failed to connect to the bus: Could not parse server address\n"
        "[55:55:1207/020001.000002:WARNING:sandbox_linux.cc(400)] InitializeSandbox() called with multiple threads\n"
        "\n"
    )
    tail = RenderService(workspace, RenderSettings()).log_tail()
    assert tail == "[1207/020000.123456:FATAL:memory.cc(22)] Out of memory. size=262144"


def test_the_scorecard_counts_faults_apart_from_the_model() -> None:
    """Two of three rendered on the first turn, one after a retried crash: 2/3 first try, not 1/3."""
    ok = {"stage": None, "error": None, "infra": 0}
    entries = [
        {"status": "rendered", "attempts": [ok]},
        {"status": "rendered", "attempts": [{**ok, "infra": 1}]},
        {"status": "rendered", "attempts": [{"stage": "typecheck", "error": {"infra": False}, "infra": 0}, ok]},
    ]
    card = batch.scorecard(entries)
    assert (card["first_try"], card["items"], card["infra"], card["infra_repeated"]) == (2, 3, 1, 0)
    assert card["repairs_by_stage"] == {"typecheck": 1}
    assert "faults not the model's, retried by vidgen: 1" in batch.describe_scorecard(card)


@pytest.mark.parametrize(
    ("message", "infra"),
    [
        # The page never answered, not even Remotion's question for its delayRender() handles: a loop in the code.
        ("waiting for the page to render the React component at frame 12 failed: timeout 11000ms exceeded", False),
        # The page answered, or its own timer fired, or the layout page waited: load can explain these.
        ("Timeout (8000ms) exceeded rendering the component at frame 3. Open delayRender() handles: 1. Loading font", True),
        ('A delayRender() "Loading the route" was called but not cleared after 6000ms. See the docs for help.', True),
        ("the page did not render frame 4 within 8000ms: a delayRender() that is never cleared", True),
        ("Timed out after 8000ms while setting up the headless browser. This could be because the you specified", True),
    ],
)
def test_which_timeouts_are_retried(tmp_path: Path, message: str, infra: bool) -> None:
    # The service classifies these messages (remotion-adapter.mjs, tested by its node tests); here, what vidgen
    # does with the error as it arrives: a timeout whose page never answered is the code's, the others retried.
    from vidgen.check import diagnostics

    video = Workspace(tmp_path).video("faults-timeouts")
    wire = {"kind": "timeout", "pageStuck": not infra, "message": message, "frame": 3, "stack": []}
    error = diagnostics.from_runtime("stills", video, ServiceFault.from_wire(wire))
    assert (error.code, error.infra, error.frame) == ("timeout", infra, 3)
