"""The model client: OpenAI-compatible chat completions over httpx, streamed, with retries.

Errors the user must fix (key, quota, balance, model name, endpoint) raise ModelError
(exit 3) with one line saying what to do; passing trouble (429, 5xx, timeouts, dropped
streams, z.ai's busy codes) is retried with exponential backoff and jitter.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx

from ..errors import ModelError
from ..settings import ModelSettings
from . import providers
from .providers import Endpoint

Status = Callable[[str, dict[str, Any]], None]

# z.ai business codes (in the error body): which are worth waiting for, and what the rest mean.
RETRY_CODES = {"1302", "1303", "1305", "1312"}
FATAL_CODES = {
    "1113": "the account's balance is used up: top it up at z.ai, or use another provider",
    "1261": "the prompt is too long for the model: shorten the idea or the video's files",
    "1301": "the model's provider filtered the content: rephrase the idea",
    "1211": "the model name is not known to the endpoint: check --model / VIDGEN_MODEL",
}
QUOTA_CODES = {"1308", "1309", "1310", "1311", "1313"}


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, unreachable: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.unreachable = unreachable


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


class Throttle:
    """One backoff shared by everything that calls the same endpoint (batch workers)."""

    def __init__(self) -> None:
        self._not_before = 0.0
        self._lock = threading.Lock()

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def wait(self) -> None:
        while True:
            with self._lock:
                delay = self._not_before - time.monotonic()
            if delay <= 0:
                return
            time.sleep(min(delay, 0.5))


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
        last = _Retryable("no attempt made")
        for attempt in range(o.max_retries + 1):
            self.throttle.wait()
            try:
                return self._once(messages, on_status)
            except _Retryable as exc:
                last = exc
                if attempt == o.max_retries:
                    break
                delay, reason = _delay(exc, attempt, o)
                self.throttle.hold(delay)
                on_status("retry", {"reason": reason, "delay_s": round(delay, 2), "attempt": attempt + 1})
        if last.unreachable:
            raise ModelError(
                f"cannot reach {self.endpoint.base_url} ({last}): check --base-url / VIDGEN_BASE_URL and the network"
            )
        raise ModelError(f"{self.endpoint.base_url} kept failing ({last}) after {o.max_retries + 1} tries: try again later")

    def _once(self, messages: list[dict[str, Any]], on_status: Status) -> Completion:
        url = f"{self.endpoint.base_url}/chat/completions"
        headers = self._key_header()
        started = time.monotonic()
        try:
            with self._http.stream("POST", url, json=self.body(messages), headers=headers, auth=self.endpoint.auth) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise_for_status(response)
                if "text/event-stream" in response.headers.get("content-type", ""):
                    return self._read_stream(response.iter_lines(), on_status, started)
                response.read()
                return self._read_plain(response)
        except httpx.ConnectError as exc:
            raise _Retryable(f"cannot connect: {exc}", unreachable=True) from None
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
            raise _Retryable(f"no data for {self.options.idle_timeout_s:g}s") from None
        except httpx.ConnectTimeout:
            raise _Retryable("connection timed out", unreachable=True) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Retryable(f"connection dropped: {exc}") from None
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
            except _Retryable as exc:
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
        retry_after = _retry_after(response.headers.get("retry-after"))
        where = self.endpoint.base_url
        if code in RETRY_CODES:
            raise _Retryable(f"{status} code {code}: {message}", retry_after)
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
            raise _Retryable(f"{status} {message}".strip(), retry_after)
        raise ModelError(f"{where} rejected the request ({status}: {message}): check --model, --base-url and the options")

    def _read_plain(self, response: httpx.Response) -> Completion:
        try:
            data = response.json()
        except json.JSONDecodeError:
            raise _Retryable("the reply was not JSON") from None
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

    def _read_stream(self, lines: Iterator[str], on_status: Status, started: float) -> Completion:
        content: list[str] = []
        reasoning: list[str] = []
        finish: str | None = None
        usage = Usage()
        model = self.options.model
        done = False
        chunks = 0
        for line in lines:
            if time.monotonic() - started > self.options.deadline_s:
                raise _Retryable(f"the reply took longer than {self.options.deadline_s:g}s")
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                done = True
                break
            try:
                chunk = json.loads(payload)
            except json.JSONDecodeError:
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
            raise _Retryable("the stream was cut before the reply ended")
        return Completion("".join(content), "".join(reasoning), finish, usage, model)


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
    raise _Retryable(f"error in the reply: {message}")


def _delay(exc: _Retryable, attempt: int, options: ModelOptions) -> tuple[float, str]:
    """How long to wait before the next try, and why: Retry-After, but never past the backoff maximum."""
    if exc.retry_after is None:
        delay = min(options.backoff_max_s, options.backoff_base_s * 2**attempt) * random.uniform(0.8, 1.2)
        return delay, str(exc)
    if exc.retry_after > options.backoff_max_s:
        # A provider asking for an hour (or `inf`) must not hang the command: wait the most we
        # ever wait, try again, and say so.
        asked = f"{exc.retry_after:.0f}s"
        return options.backoff_max_s, f"{exc} (the provider asked to wait {asked}; waiting at most {options.backoff_max_s:g}s)"
    return exc.retry_after, str(exc)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from either of its two forms; None for anything unusable.

    `inf`, `nan`, negative numbers, words and dates in the past are ignored (the usual backoff
    applies); a huge value is kept here and capped by the caller (`_delay`), which says so.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if parsed.tzinfo is None:  # "-0000": UTC as far as the sender knows
            parsed = parsed.replace(tzinfo=UTC)
        seconds = parsed.timestamp() - time.time()
        return seconds if seconds > 0 else None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


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
