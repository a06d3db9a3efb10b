"""The model's event stream at its edges, byte by byte, from a real HTTP server on 127.0.0.1.

The scripted model writes whole, well-formed events; these replies are what gateways and proxies
send instead: comments, events split across packets, CRLF lines, no [DONE], an HTML page.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest

from vidgen.errors import ModelError
from vidgen.model import providers
from vidgen.model.client import ModelClient, ModelOptions

FAST = ModelOptions(model="glm-5.2", backoff_base_s=0.01, backoff_max_s=0.05, max_retries=1, idle_timeout_s=5)
MESSAGES = [{"role": "user", "content": "hi"}]


def event(payload: dict[str, Any] | str) -> bytes:
    return b"data: " + (payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)).encode() + b"\n\n"


def delta(text: str) -> dict[str, Any]:
    return {"model": "glm-5.2", "choices": [{"index": 0, "delta": {"content": text}}]}


FINISH = {"model": "glm-5.2", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


class Answered:
    """A server's address and how many requests it had."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.requests = 0

    def ask(self, options: ModelOptions = FAST) -> str:
        endpoint = providers.Endpoint("custom", self.base_url, "sk-test", glm_extras=False)
        return ModelClient(endpoint, options).complete(MESSAGES).content


@contextmanager
def answering(pieces: list[bytes], content_type: str = "text/event-stream", pause_s: float = 0.02) -> Iterator[Answered]:
    """Answer every POST with `pieces`, each written and flushed on its own after a pause."""
    answered = Answered("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answered.requests += 1
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Connection", "close")
            self.end_headers()
            for piece in pieces:
                try:
                    self.wfile.write(piece)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (the deadline test)
                time.sleep(pause_s)
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    answered.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield answered
    finally:
        server.shutdown()
        server.server_close()


def test_comments_are_skipped() -> None:
    with answering(
        [b": keep-alive\n\n", event(delta("a")), b": OPENROUTER PROCESSING\n\n", event(delta("b")), event(FINISH)]
    ) as server:
        assert server.ask() == "ab"


def test_an_event_split_across_packets_and_a_character_split_across_them_are_joined() -> None:
    whole = event(delta("héllo"))
    cut = whole.index("é".encode()) + 1  # inside the two bytes of é
    pieces = [whole[:10], whole[10:cut], whole[cut:-1], whole[-1:], event(FINISH), event("[DONE]")]
    with answering(pieces) as server:
        assert server.ask() == "héllo"


def test_crlf_lines_are_read_like_lf_ones() -> None:
    pieces = [e.replace(b"\n", b"\r\n") for e in (event(delta("one")), event(FINISH), event("[DONE]"))]
    with answering(pieces) as server:
        assert server.ask() == "one"


def test_a_stream_that_ends_without_done_after_its_finish_reason_is_whole() -> None:
    with answering([event(delta("all of it")), event(FINISH)]) as server:
        assert server.ask() == "all of it"
    assert server.requests == 1


def test_a_stream_that_ends_without_done_or_a_finish_reason_was_cut_and_is_retried() -> None:
    with answering([event(delta("half"))]) as server:
        with pytest.raises(ModelError, match="the stream was cut before the reply ended"):
            server.ask()
    assert server.requests == 2  # max_retries=1


def test_an_error_event_inside_the_stream_is_read() -> None:
    zai = {"error": {"code": "1113", "message": "Insufficient balance"}}
    with answering([event(delta("a")), b"event: error\n" + event(zai)]) as server:
        with pytest.raises(ModelError, match="balance is used up") as raised:
            server.ask()
    assert server.requests == 1 and raised.value.exit_code == 3
    openai = {"error": {"message": "The server had an error while processing your request.", "type": "server_error"}}
    with answering([event(delta("a")), event(openai)]) as server:
        with pytest.raises(ModelError, match="error in the reply: The server had an error"):
            server.ask()
    assert server.requests == 2


def test_a_proxy_page_instead_of_the_stream_is_one_clear_line_and_not_retried() -> None:
    with answering([b"<html><body>Please log in to the proxy</body></html>"], content_type="text/html; charset=utf-8") as server:
        with pytest.raises(ModelError) as raised:
            server.ask()
    message = str(raised.value)
    assert "answered text/html, not the model's event stream" in message and "--base-url" in message
    assert "\n" not in message and raised.value.exit_code == 3 and server.requests == 1


def test_a_plain_json_reply_to_a_stream_request_is_still_read() -> None:
    reply = {"model": "glm-5.2", "choices": [{"message": {"content": "not streamed"}, "finish_reason": "stop"}]}
    with answering([json.dumps(reply).encode()], content_type="application/json") as server:
        assert server.ask() == "not streamed"


def test_keep_alive_comments_alone_do_not_outlast_the_deadline() -> None:
    options = ModelOptions(model="glm-5.2", deadline_s=0.5, max_retries=0, idle_timeout_s=5)
    started = time.monotonic()
    with answering([b": ping\n\n"] * 100, pause_s=0.05) as server:
        with pytest.raises(ModelError, match=r"the reply took longer than 0.5s"):
            server.ask(options)
    assert time.monotonic() - started < 2.5
