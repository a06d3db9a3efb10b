"""The one request/wait implementation, against a daemon that misbehaves: one that never answers, one that
goes away mid-request, one that sends what no daemon sends. A real Unix socket, a real `RemoteService`."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vidgen.engine.channel import Connection, DaemonFiles
from vidgen.engine.client import RemoteService
from vidgen.engine.messages import (
    LayoutProblem,
    MountedSequence,
    PageElement,
    Queued,
    RenderProgress,
    StillProgress,
    decode_event,
    encode_error,
    encode_event,
    raise_error,
)
from vidgen.errors import Cancelled, ServiceError, ServiceFault, ServiceReplyError, UsageError

Behaviour = Callable[[socket.socket, dict], None]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[[Behaviour], RemoteService]]:
    """A `RemoteService` connected to a fake daemon that does `behaviour(its socket, each request)`."""
    made: list[RemoteService] = []

    def connect(behaviour: Behaviour) -> RemoteService:
        ours, theirs = socket.socketpair()

        def serve() -> None:
            reader = theirs.makefile("rb")
            for line in reader:
                behaviour(theirs, json.loads(line))

        threading.Thread(target=serve, daemon=True).start()
        service = RemoteService(Connection(ours), {"pid": 1}, DaemonFiles(tmp_path))
        service.deadline_margin_s = 0.3  # the daemon's own restart time, shortened: the deadlines are the subject
        made.append(service)
        return service

    yield connect
    for service in made:
        service.stop()


def send(sock: socket.socket, message: object) -> None:
    sock.sendall((json.dumps(message) + "\n").encode())


def test_a_daemon_that_never_answers_is_given_up_at_the_deadline(daemon) -> None:
    asked: list[dict] = []
    service = daemon(lambda sock, message: asked.append(message))
    started = time.monotonic()
    with pytest.raises(ServiceError) as raised:
        service.request("metadata", timeout_s=0.4, name="x")
    waited = time.monotonic() - started
    assert 0.6 <= waited < 5, waited
    assert raised.value.kind == "crash" and "did not answer metadata within 0.7s" in str(raised.value)
    # The daemon is told to drop it, and the request is no longer pending.
    deadline = time.monotonic() + 5
    while len(asked) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert asked[1] == {"op": "cancel", "target": asked[0]["id"]}
    assert service.pending() == []


def test_queued_and_progress_events_keep_a_request_alive(daemon) -> None:
    def slowly(sock: socket.socket, message: dict) -> None:
        if message.get("op") != "render":
            return
        for ahead in (1, 0):  # waiting in line: its own time has not begun
            time.sleep(0.3)
            send(sock, {"id": message["id"], **encode_event(Queued(ahead))})
        for frame in range(1, 4):
            time.sleep(0.3)
            send(sock, {"id": message["id"], **encode_event(RenderProgress(frame, frame - 1, 3))})
        send(sock, {"id": message["id"], "result": {"output": "/x.mp4"}})

    service = daemon(slowly)
    seen: list = []
    # The whole takes 1.5 s, each gap 0.3 s: over the 1 s deadline, under the idle one, queued time not counted.
    result = service.request("render", timeout_s=1.0, idle_s=0.4, on_progress=seen.append, name="x")
    assert result == {"output": "/x.mp4"}
    assert seen[:2] == [Queued(1), Queued(0)] and seen[-1] == RenderProgress(3, 2, 3)


def test_a_daemon_that_goes_away_mid_request_is_an_error_at_once(daemon) -> None:
    service = daemon(lambda sock, message: sock.shutdown(socket.SHUT_RDWR))
    started = time.monotonic()
    with pytest.raises(ServiceError) as raised:
        service.request("bundle", timeout_s=60)
    assert time.monotonic() - started < 5
    assert raised.value.kind == "crash" and "stopped during bundle" in str(raised.value)


@pytest.mark.parametrize(
    "reply",
    [
        {"id": "1", "result": {}},  # not its id
        {"id": 999, "result": {}},  # another request's
        {"id": 1, "event": "progress", "stage": "render", "renderedFrames": "many"},  # odd types
        {"id": 1, "event": "from-the-future", "x": 1},
    ],
)
def test_what_no_daemon_sends_is_ignored_and_the_answer_still_counts(daemon, reply) -> None:
    def odd_then_right(sock: socket.socket, message: dict) -> None:
        send(sock, reply)
        send(sock, {"id": message["id"], "result": {"diagnostics": []}})

    assert daemon(odd_then_right).bundle(timeout_s=5) == []


@pytest.mark.parametrize("line", ["not an object", [1, 2]])
def test_a_daemon_that_sends_what_the_protocol_has_not_got_is_dropped_at_once(daemon, line) -> None:
    service = daemon(lambda sock, message: send(sock, line))
    started = time.monotonic()
    with pytest.raises(ServiceError) as raised:
        service.request("bundle", timeout_s=60)
    assert time.monotonic() - started < 5 and "stopped during bundle" in str(raised.value)


def test_an_error_that_explains_nothing_is_still_one_error(daemon) -> None:
    service = daemon(lambda sock, message: send(sock, {"id": message["id"], "error": "boom"}))
    with pytest.raises(ServiceReplyError) as raised:
        service.bundle(timeout_s=5)
    assert raised.value.fault.kind == "crash" and "could not explain" in raised.value.fault.message


def test_every_error_crosses_the_daemon_as_the_same_exception() -> None:
    node = ServiceFault("timeout", "Timeout exceeded", 7, page_stuck=True, raw="stack")
    for exc, kind in [
        (Cancelled("render was cancelled"), Cancelled),
        (UsageError("frame 99 is past the end"), UsageError),
        (ServiceError("made no progress", kind="timeout", frame=4), ServiceError),
        (ServiceReplyError(node), ServiceReplyError),
        (RuntimeError("a bug"), ServiceError),
    ]:
        wire = json.loads(json.dumps(encode_error(exc)))  # as it travels
        with pytest.raises(kind) as raised:
            raise_error(wire, "render")
        if isinstance(exc, ServiceError):
            assert (raised.value.kind, raised.value.frame) == ("timeout", 4)
        if isinstance(exc, ServiceReplyError):
            assert raised.value.fault == node  # every field, the stack and pageStuck included
    # The service's own cancelled answer is Cancelled too, whoever sent it.
    with pytest.raises(Cancelled):
        raise_error({"kind": "cancelled", "message": "x"}, "stills")


def test_events_decode_to_what_they_say_and_back() -> None:
    for event in [
        Queued(2),
        RenderProgress(5, 3, 30, 0.1, "encoding"),
        StillProgress(4, "/s/4.jpeg", 9),
        StillProgress(0, started=True),
    ]:
        assert decode_event(json.loads(json.dumps(encode_event(event)))) == event
    assert decode_event({"event": "progress", "stage": "still"}) is None  # no frame: nothing to say


def test_layout_problems_decode_to_what_the_page_said_and_junk_to_nothing() -> None:
    reply = {
        "problems": [
            {
                "kind": "occluded",
                "severity": "error",
                "frame": 12,
                "lastFrame": 20,
                "element": {"tag": "div", "text": "ACME", "components": ["Logo", 5, None], "source": "s:1:2"},
                "detail": {"elementBox": {"x": 1, "y": 2, "width": 30, "height": 4}, "cover": {"tag": "div", "what": "a box"}},
            },
            {"kind": "tiny", "severity": "fatal", "frame": "7", "element": "not an element", "detail": {"px": "6", "min": 9}},
            {"severity": "error"},  # no kind: none
            "a string",
            {"kind": 5},
        ]
    }
    occluded, tiny = LayoutProblem.list_from(reply)
    assert (occluded.kind, occluded.severity, occluded.frame, occluded.last_frame) == ("occluded", "error", 12, 20)
    assert occluded.element.components == ("Logo",) and occluded.element.text == "ACME"
    assert occluded.detail.element_box == (1, 2, 30, 4)
    assert occluded.detail.cover == PageElement(tag="div", what="a box")
    # A severity the page cannot give is a warning; a number sent as text is no number.
    assert (tiny.severity, tiny.frame, tiny.element, tiny.detail.px, tiny.detail.min) == ("warning", None, PageElement(), None, 9)
    for junk in (None, {}, {"problems": "x"}, {"problems": {"kind": "tiny"}}):
        assert LayoutProblem.list_from(junk if isinstance(junk, dict) else {}) == []


def test_timeline_sequences_decode_and_junk_is_dropped() -> None:
    found = MountedSequence.list_from(
        [
            {"id": 1, "parent": None, "start": 0, "duration": 30, "source": "s", "scene": True, "series": "Series"},
            {"id": "2", "parent": 1, "start": 10.5, "duration": "long", "name": ["x"], "scene": "yes"},
            [1, 2],
            None,
        ]
    )
    assert found == [
        MountedSequence(1, None, 0.0, 30.0, "s", scene=True, series="Series"),
        MountedSequence("2", 1, 10.5, None, None, None, None, False, None),
    ]
    assert MountedSequence.list_from("sequences") == [] and MountedSequence.list_from({"id": 1}) == []
