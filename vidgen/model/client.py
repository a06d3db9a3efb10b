"""The model client: OpenAI-compatible chat completions over httpx, streamed, with retries.

Errors the user must fix (key, quota, balance, model name, endpoint) raise ModelError
(exit 3) with one line saying what to do; passing trouble (429, 5xx, timeouts, dropped
streams, z.ai's busy codes) is retried with exponential backoff and jitter.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent

from ..errors import ModelError
from ..settings import ModelSettings
from . import providers
from .providers import Endpoint
from .retrying import Retryable, Status, Throttle, retry_after_s, with_retries

# z.ai business codes (in the error body): which are worth waiting for, and what the rest mean.
RETRY_CODES = {"1302", "1303", "1305", "1312"}
FATAL_CODES = {
    "1113": "the account's balance is used up: top it up at z.ai, or use another provider",
    "1261": "the prompt is too long for the model: shorten the idea or the video's files",
    "1301": "the model's provider filtered the content: rephrase the idea",
    "1211": "the model name is not known to the endpoint: check --model / VIDGEN_MODEL",
}
QUOTA_CODES = {"1308", "1309", "1310", "1311", "1313"}


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_tokens += other.cached_tokens

    def to_dict(self) -> dict[str, int]:
        return {"prompt": self.prompt_tokens, "completion": self.completion_tokens, "cached": self.cached_tokens}

    @classmethod
    def from_api(cls, usage: dict[str, Any] | None) -> Usage:
        usage = usage or {}
        details = usage.get("prompt_tokens_details") or {}
        return cls(
            int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0), int(details.get("cached_tokens") or 0)
        )


@dataclass
class Completion:
    content: str
    reasoning: str = ""
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""


@dataclass(frozen=True)
class ModelOptions:
    model: str = "glm-5.2"
    thinking: bool | None = None  # None: the model's own default
    effort: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    stream: bool = True
    response_format: str | None = None  # "json_object" where the endpoint takes it (z.ai takes only that one)
    connect_timeout_s: float = 15
    idle_timeout_s: float = 180  # between two chunks (thinking can be quiet for a while)
    deadline_s: float = 1200  # one whole call
    max_retries: int = 4
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0


def _quiet(_kind: str, _data: dict[str, Any]) -> None:
    return None


class ModelClient:
    """Chat completions against one endpoint; thread-safe (one httpx client, no shared state)."""

    def __init__(self, endpoint: Endpoint, options: ModelOptions, throttle: Throttle | None = None):
        self.endpoint = endpoint
        self.options = options
        self.throttle = throttle or Throttle()
        self._http = httpx.Client(
            timeout=httpx.Timeout(connect=options.connect_timeout_s, read=options.idle_timeout_s, write=30, pool=30),
            headers={"Content-Type": "application/json", "Accept": "text/event-stream" if options.stream else "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def body(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        o = self.options
        body: dict[str, Any] = {"model": o.model, "messages": messages, "stream": o.stream}
        if o.max_tokens is not None:
            body["max_tokens"] = o.max_tokens
        if o.temperature is not None:
            body["temperature"] = o.temperature
        if o.thinking is not None and (self.endpoint.glm_extras or o.thinking):
            body["thinking"] = {"type": "enabled" if o.thinking else "disabled"}
        if o.effort is not None:
            body["reasoning_effort"] = o.effort
        if o.stream and not self.endpoint.glm_extras:
            body["stream_options"] = {"include_usage": True}
        if o.response_format is not None:
            body["response_format"] = {"type": o.response_format}
        return body

    def complete(self, messages: list[dict[str, Any]], on_status: Status = _quiet) -> Completion:
        """One reply, retried through passing trouble; ModelError for what the user must fix."""
        o = self.options
        try:
            return with_retries(
                lambda: self._once(messages, on_status),
                tries=o.max_retries + 1,
                base_s=o.backoff_base_s,
                max_s=o.backoff_max_s,
                throttle=self.throttle,
                on_status=on_status,
            )
        except Retryable as last:
            where = self.endpoint.base_url
            if last.unreachable:
                raise ModelError(f"cannot reach {where} ({last}): check --base-url / VIDGEN_BASE_URL and the network") from None
            raise ModelError(f"{where} kept failing ({last}) after {o.max_retries + 1} tries: try again later") from None

    def _once(self, messages: list[dict[str, Any]], on_status: Status) -> Completion:
        url = f"{self.endpoint.base_url}/chat/completions"
        headers = self._key_header()
        started = time.monotonic()
        try:
            with self._http.stream("POST", url, json=self.body(messages), headers=headers, auth=self.endpoint.auth) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise_for_status(response)
                kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
                if kind != "text/event-stream" and (not self.options.stream or kind.endswith("json")):
                    response.read()  # a plain reply, asked for or not (some servers ignore `stream`)
                    return self._read_plain(response)
                if kind != "text/event-stream":
                    raise ModelError(
                        f"{self.endpoint.base_url} answered {kind or 'with no content type'}, not the model's event stream: "
                        "a proxy in the way, or not an OpenAI-compatible API (check --base-url / VIDGEN_BASE_URL)"
                    )
                response.stream = _Deadline(response.stream, started + self.options.deadline_s, self.options.deadline_s)
                return self._read_stream(EventSource(response).iter_sse(), on_status)
        except httpx.ConnectError as exc:
            raise Retryable(f"cannot connect: {exc}", unreachable=True) from None
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
            raise Retryable(f"no data for {self.options.idle_timeout_s:g}s") from None
        except httpx.ConnectTimeout:
            raise Retryable("connection timed out", unreachable=True) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise Retryable(f"connection dropped: {exc}") from None
        except httpx.UnsupportedProtocol:
            raise ModelError(
                f"base URL {self.endpoint.base_url} is not an http(s) URL: fix --base-url / VIDGEN_BASE_URL"
            ) from None

    def models(self) -> list[dict[str, Any]]:
        """The endpoint's models (GET /models, OpenAI format), each an object with a string `id`."""
        where = self.endpoint.base_url
        headers = {**self._key_header(), "Accept": "application/json"}
        try:
            response = self._http.get(f"{where}/models", headers=headers, auth=self.endpoint.auth)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ModelError(f"cannot reach {where} ({exc}): check --base-url / VIDGEN_BASE_URL and the network") from None
        except httpx.UnsupportedProtocol:
            raise ModelError(f"base URL {where} is not an http(s) URL: fix --base-url / VIDGEN_BASE_URL") from None
        except httpx.HTTPError as exc:
            raise ModelError(f"{where} did not answer the model list ({type(exc).__name__}): try again later") from None
        if response.status_code == 404:
            raise ModelError(f"{where} has no model list (404 for /models): check --base-url, or its documentation")
        if response.status_code >= 400:
            try:
                self._raise_for_status(response)
            except Retryable as exc:
                raise ModelError(f"{where} could not list its models ({exc}): try again later") from None
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        listed = data.get("data") if isinstance(data, dict) else None
        if not isinstance(listed, list) or not all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in listed):
            raise ModelError(f"{where} did not answer /models with an OpenAI model list: check --base-url")
        return listed

    def _key_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.endpoint.api_key}"} if self.endpoint.api_key else {}

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        code, message = _error_details(response)
        retry_after = retry_after_s(response.headers.get("retry-after"))
        where = self.endpoint.base_url
        if code in RETRY_CODES:
            raise Retryable(f"{status} code {code}: {message}", retry_after)
        if code in FATAL_CODES:
            raise ModelError(f"{FATAL_CODES[code]} ({where} said {code}: {message})")
        if code in QUOTA_CODES:
            raise ModelError(f"the API quota is used up ({where} said {code}: {message}): wait for it to reset or raise it")
        if status in (401, 403):
            stored = f"`vidgen keys set {self.endpoint.provider}`, " if self.endpoint.provider in providers.names() else ""
            raise ModelError(f"{where} refused the API key ({status}): check it ({stored}its key variable or VIDGEN_API_KEY)")
        if status == 404:
            raise ModelError(
                f"{where} answered 404 for model {self.options.model!r}: check --model / VIDGEN_MODEL and --base-url"
            )
        if status == 429 or status >= 500 or status == 408:
            raise Retryable(f"{status} {message}".strip(), retry_after)
        raise ModelError(f"{where} rejected the request ({status}: {message}): check --model, --base-url and the options")

    def _read_plain(self, response: httpx.Response) -> Completion:
        try:
            data = response.json()
        except json.JSONDecodeError:
            raise Retryable("the reply was not JSON") from None
        if "error" in data:
            _raise_body_error(data["error"], self)
        choice = (data.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        return Completion(
            content=message.get("content") or "",
            reasoning=message.get("reasoning_content") or "",
            finish_reason=choice.get("finish_reason"),
            usage=Usage.from_api(data.get("usage")),
            model=data.get("model") or self.options.model,
        )

    def _read_stream(self, events: Iterator[ServerSentEvent], on_status: Status) -> Completion:
        content: list[str] = []
        reasoning: list[str] = []
        finish: str | None = None
        usage = Usage()
        model = self.options.model
        done = False
        chunks = 0
        for event in events:
            # The event's name is not looked at: gateways put their error objects in plain `data` events
            # and in `event: error` ones alike.
            if event.data.strip() == "[DONE]":
                done = True
                break
            try:
                chunk = json.loads(event.data)
            except json.JSONDecodeError:
                continue
            if not isinstance(chunk, dict):
                continue
            if "error" in chunk:
                _raise_body_error(chunk["error"], self)
            model = chunk.get("model") or model
            if chunk.get("usage"):
                usage = Usage.from_api(chunk["usage"])
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("reasoning_content"):
                    reasoning.append(delta["reasoning_content"])
                    chunks += 1
                    on_status("thinking", {"chunks": chunks})
                if delta.get("content"):
                    content.append(delta["content"])
                    chunks += 1
                    on_status("writing", {"chunks": chunks})
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        if not done and finish is None:
            raise Retryable("the stream was cut before the reply ended")
        return Completion("".join(content), "".join(reasoning), finish, usage, model)


class _Deadline(httpx.SyncByteStream):
    """A streamed reply's bytes, cut off at the call's deadline.

    Checked on every piece of bytes, not on every event: keep-alive comments (OpenRouter sends them
    while a model is queued) are no events, and a stream of nothing else would never end.
    """

    def __init__(self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, at: float, deadline_s: float):
        assert isinstance(stream, httpx.SyncByteStream)  # the client is synchronous
        self._stream, self._at, self._deadline_s = stream, at, deadline_s

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._stream:
            if time.monotonic() > self._at:
                raise Retryable(f"the reply took longer than {self._deadline_s:g}s")
            yield piece

    def close(self) -> None:
        self._stream.close()


def _error_details(response: httpx.Response) -> tuple[str | None, str]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, response.text[:200].strip()
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        return (str(code) if code is not None else None), str(error.get("message") or "")[:300]
    return None, str(data)[:200]


def _raise_body_error(error: Any, client: ModelClient) -> None:
    """An error object inside a 200 reply (some gateways send them mid-stream)."""
    code = str(error.get("code")) if isinstance(error, dict) and error.get("code") is not None else None
    message = str(error.get("message") if isinstance(error, dict) else error)[:300]
    if code in FATAL_CODES:
        raise ModelError(f"{FATAL_CODES[code]} ({client.endpoint.base_url} said {code}: {message})")
    if code in QUOTA_CODES:
        raise ModelError(f"the API quota is used up ({client.endpoint.base_url} said {code}: {message})")
    raise Retryable(f"error in the reply: {message}")


def client_for(settings: ModelSettings, throttle: Throttle | None = None, listing: bool = False) -> ModelClient:
    """A client for the configured provider, model and options (the key checked here).

    `listing`: the client only lists the models, so an endpoint the user named needs no model yet.
    """
    endpoint = providers.resolve(settings.provider, settings.base_url)
    options = ModelOptions(
        model=settings.model
        or (providers.get(settings.provider).default_model if listing else providers.default_model(settings.provider)),
        thinking={"enabled": True, "disabled": False}.get(settings.thinking),
        effort=settings.effort or None,
        max_tokens=settings.max_tokens or None,
        temperature=settings.temperature if settings.temperature >= 0 else None,
        stream=settings.stream,
        max_retries=settings.max_retries,
    )
    return ModelClient(endpoint, options, throttle)
