"""A scripted model: a real HTTP server on 127.0.0.1 speaking the OpenAI / z.ai wire format.

It answers /chat/completions from a script (SSE or plain JSON, reasoning_content, usage,
z.ai error bodies, Retry-After, a stream cut mid-reply, a slow drip), and GET /models with a list. `vidgen demo` runs
the whole loop against it with no network and no key; the tests use it as the model.
Requests that carry an image (the vision critique) are answered from a second script.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Scripted:
    """One scripted answer."""

    content: str = ""
    reasoning: str = ""
    status: int = 200
    error_code: str | None = None
    error_message: str = ""
    retry_after: str | None = None
    finish_reason: str = "stop"
    cut: bool = False  # close the stream halfway, without a finish_reason or [DONE]
    drip_s: float = 0.0  # pause between chunks
    delay_s: float = 0.0  # pause before answering, like a model thinking
    usage: dict[str, Any] = field(default_factory=lambda: {"prompt_tokens": 1200, "completion_tokens": 400})


Script = list[Scripted] | Callable[[dict[str, Any]], Scripted]


def has_image(body: dict[str, Any]) -> bool:
    """Whether a request carries an image_url part (a vision request, as the critique sends)."""
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == "image_url" for p in content):
            return True
    return False


class ScriptedModel:
    """Serve a script on 127.0.0.1; every request's body and headers are kept in `requests`.

    `critique` answers the requests that carry an image; without it they get the main script.
    `models` is what GET /models lists (OpenAI format); `models_status` other than 200 answers it with an error.
    """

    def __init__(
        self,
        script: Script,
        chunk_chars: int = 60,
        critique: Script | None = None,
        models: Sequence[str] = ("scripted-demo",),
        models_status: int = 200,
    ):
        self.script = script
        self.critique = critique
        self.models = list(models)
        self.models_status = models_status
        self.chunk_chars = chunk_chars
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/v1"

    def __enter__(self) -> ScriptedModel:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def vision_requests(self) -> list[dict[str, Any]]:
        """The requests that carried an image."""
        return [r for r in self.requests if has_image(r["body"])]

    @property
    def code_requests(self) -> list[dict[str, Any]]:
        """The requests that carried no image."""
        return [r for r in self.requests if not has_image(r["body"])]

    def _next(self, body: dict[str, Any]) -> Scripted:
        with self._lock:
            script = self.critique if self.critique is not None and has_image(body) else self.script
            if callable(script):
                return script(body)
            if not script:
                return Scripted(status=500, error_message="the script has no replies left")
            return script.pop(0)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return None

            def handle_one_request(self) -> None:
                try:
                    super().handle_one_request()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up on a reply (a deadline under test): not an error

            def do_GET(self) -> None:
                with model._lock:
                    model.requests.append({"path": self.path, "body": {}, "headers": dict(self.headers), "method": "GET"})
                if not self.path.endswith("/models"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                elif model.models_status != 200:
                    self._json(model.models_status, {"error": {"message": "scripted error"}})
                else:
                    listed = [{"id": name, "object": "model", "created": 0, "owned_by": "scripted"} for name in model.models]
                    self._json(200, {"object": "list", "data": listed})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with model._lock:
                    model.requests.append({"path": self.path, "body": body, "headers": dict(self.headers), "method": "POST"})
                if not self.path.endswith("/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = model._next(body)
                time.sleep(reply.delay_s)
                if reply.status != 200 or reply.error_code:
                    headers = {"Retry-After": reply.retry_after} if reply.retry_after else {}
                    error: dict[str, Any] = {"message": reply.error_message or "scripted error"}
                    if reply.error_code:
                        error["code"] = reply.error_code
                    self._json(reply.status if reply.status != 200 else 429, {"error": error}, headers)
                    return
                if body.get("stream"):
                    self._stream(reply, body)
                else:
                    message = {"role": "assistant", "content": reply.content}
                    if reply.reasoning:
                        message["reasoning_content"] = reply.reasoning
                    self._json(
                        200,
                        {
                            "id": "scripted",
                            "object": "chat.completion",
                            "model": body.get("model"),
                            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
                            "usage": reply.usage,
                        },
                    )

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Scripted, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                size = model.chunk_chars
                pieces = [{"reasoning_content": reply.reasoning[i : i + size]} for i in range(0, len(reply.reasoning), size)]
                pieces += [{"content": reply.content[i : i + size]} for i in range(0, len(reply.content), size)]
                if reply.cut:
                    pieces = pieces[: max(1, len(pieces) // 2)]
                for delta in pieces:
                    self._event({"id": "scripted", "model": body.get("model"), "choices": [{"index": 0, "delta": delta}]})
                    time.sleep(reply.drip_s)
                if reply.cut:
                    self.close_connection = True
                    return
                self._event(
                    {
                        "id": "scripted",
                        "model": body.get("model"),
                        "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}],
                    }
                )
                usage = {**reply.usage, "prompt_tokens_details": {"cached_tokens": reply.usage.get("cached_tokens", 0)}}
                self._event({"id": "scripted", "model": body.get("model"), "choices": [], "usage": usage})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        return Handler
