"""The model client against a real HTTP server on 127.0.0.1 speaking the OpenAI / z.ai wire format."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time

import pytest

from vidgen import settings as settings_module
from vidgen.errors import KeyProblem, ModelError, UsageError
from vidgen.model import keys, providers
from vidgen.model.client import ModelClient, ModelOptions, client_for
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.settings import ModelSettings

FAST = ModelOptions(model="glm-5.2", backoff_base_s=0.01, backoff_max_s=0.05, max_retries=3, idle_timeout_s=5)
MESSAGES = [{"role": "user", "content": "hi"}]
SECRET = "sk-test-0123456789-secret"


def client(server: ScriptedModel, options: ModelOptions = FAST, key: str | None = SECRET) -> ModelClient:
    return ModelClient(providers.Endpoint("zai", server.base_url, key, glm_extras=True), options)


def test_streams_content_reasoning_and_usage_with_cached_tokens() -> None:
    usage = {"prompt_tokens": 900, "completion_tokens": 120, "cached_tokens": 640}
    with ScriptedModel([Scripted("hello " * 30, reasoning="think " * 20, usage=usage)], chunk_chars=7) as server:
        statuses: list[str] = []
        reply = client(server).complete(MESSAGES, on_status=lambda kind, _d: statuses.append(kind))
    assert reply.content == "hello " * 30 and reply.reasoning == "think " * 20
    assert reply.finish_reason == "stop"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.cached_tokens) == (900, 120, 640)
    assert statuses[0] == "thinking" and statuses[-1] == "writing"
    request = server.requests[0]
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert request["body"]["stream"] is True and request["body"]["model"] == "glm-5.2"


def test_plain_json_replies() -> None:
    with ScriptedModel([Scripted("plain", reasoning="r")]) as server:
        reply = client(server, ModelOptions(stream=False)).complete(MESSAGES)
    assert (reply.content, reply.reasoning, reply.usage.prompt_tokens) == ("plain", "r", 1200)


def test_glm_extras_are_sent() -> None:
    options = ModelOptions(thinking=False, effort="high", max_tokens=1000, temperature=0.2)
    with ScriptedModel([Scripted("ok")]) as server:
        client(server, options).complete(MESSAGES)
    body = server.requests[0]["body"]
    assert body["thinking"] == {"type": "disabled"} and body["reasoning_effort"] == "high"
    assert body["max_tokens"] == 1000 and body["temperature"] == 0.2


def test_429_then_200_honours_retry_after() -> None:
    script = [Scripted(status=429, error_message="slow down", retry_after="0"), Scripted("after the wait")]
    with ScriptedModel(script) as server:
        retries: list[dict] = []
        reply = client(server).complete(MESSAGES, on_status=lambda kind, d: retries.append(d) if kind == "retry" else None)
    assert reply.content == "after the wait" and len(server.requests) == 2
    assert retries[0]["delay_s"] == 0.0


@pytest.mark.parametrize("code", ["1302", "1303", "1305", "1312"])
def test_zai_busy_codes_are_retried(code: str) -> None:
    with ScriptedModel([Scripted(status=429, error_code=code, error_message="busy"), Scripted("ok")]) as server:
        assert client(server).complete(MESSAGES).content == "ok"
    assert len(server.requests) == 2


def test_5xx_and_a_cut_stream_are_retried() -> None:
    script = [Scripted(status=503, error_message="down"), Scripted("half of it " * 20, cut=True), Scripted("whole")]
    with ScriptedModel(script) as server:
        assert client(server).complete(MESSAGES).content == "whole"
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (Scripted(status=401, error_message="bad key"), "refused the API key"),
        (Scripted(status=403, error_message="forbidden"), "refused the API key"),
        (Scripted(status=429, error_code="1113", error_message="no money"), "balance"),
        (Scripted(status=400, error_code="1261", error_message="too long"), "too long"),
        (Scripted(status=400, error_code="1301", error_message="filtered"), "filtered"),
        (Scripted(status=429, error_code="1308", error_message="quota"), "quota"),
        (Scripted(status=429, error_code="1310", error_message="quota"), "quota"),
        (Scripted(status=400, error_code="1211", error_message="no such model"), "--model"),
        (Scripted(status=404, error_message="model not found"), "--model"),
    ],
)
def test_errors_the_user_must_fix_are_not_retried(reply: Scripted, fragment: str) -> None:
    with ScriptedModel([reply, Scripted("never reached")]) as server:
        with pytest.raises(ModelError) as raised:
            client(server).complete(MESSAGES)
    assert fragment in str(raised.value) and raised.value.exit_code == 3
    assert len(server.requests) == 1
    assert SECRET not in str(raised.value)


def test_a_slow_drip_within_the_idle_timeout_is_fine_and_a_silent_one_is_not() -> None:
    with ScriptedModel([Scripted("abcdefghij" * 3, drip_s=0.05)], chunk_chars=3) as server:
        assert client(server).complete(MESSAGES).content == "abcdefghij" * 3
    options = ModelOptions(idle_timeout_s=0.3, max_retries=1, backoff_base_s=0.01)
    with ScriptedModel([Scripted("x", delay_s=1.0), Scripted("y", delay_s=1.0)]) as server:
        with pytest.raises(ModelError, match="kept failing"):
            client(server, options).complete(MESSAGES)


def test_an_unreachable_endpoint_says_so() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = providers.Endpoint("custom", f"http://127.0.0.1:{port}/v1", None, glm_extras=False)
    with pytest.raises(ModelError, match="cannot reach"):
        ModelClient(endpoint, FAST).complete(MESSAGES)


def test_truncation_is_reported_as_such() -> None:
    with ScriptedModel([Scripted("```tsx index.tsx\nconst a", finish_reason="length")]) as server:
        assert client(server).complete(MESSAGES).finish_reason == "length"


def test_keys_go_only_to_their_own_provider(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no stored key of the machine's user
    monkeypatch.delenv("VIDGEN_API_KEY", raising=False)
    monkeypatch.setenv("ZAI_API_KEY", SECRET)
    own = providers.resolve("zai")
    assert own.api_key == SECRET and own.base_url == "https://api.z.ai/api/paas/v4" and own.glm_extras
    elsewhere = providers.resolve("zai", "http://127.0.0.1:9/v1")
    assert elsewhere.api_key is None
    assert SECRET not in repr(own)
    monkeypatch.delenv("ZAI_API_KEY")
    with pytest.raises(KeyProblem, match="ZAI_API_KEY") as raised:
        providers.resolve("zai")
    assert "vidgen demo" in str(raised.value) and "vidgen keys set zai" in str(raised.value)
    assert raised.value.exit_code == 3
    monkeypatch.setenv("OPENAI_API_KEY", "openai-key")
    assert providers.resolve("openai").api_key == "openai-key"
    assert providers.resolve("ollama").api_key is None
    with pytest.raises(UsageError, match="unknown provider"):
        providers.resolve("acme")


def test_stored_keys_come_after_the_environment_and_only_go_to_their_own_url(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for variable in ("VIDGEN_API_KEY", "ZAI_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    keys.store("zai", "stored-zai")
    keys.store("openai", "stored-openai")
    assert providers.resolve("zai").api_key == "stored-zai"
    assert providers.resolve("zai-coding").api_key == "stored-zai"  # the same account's key
    assert providers.resolve("openai").api_key == "stored-openai"
    assert providers.resolve("zai", "http://127.0.0.1:9/v1").api_key is None
    monkeypatch.setenv("ZAI_API_KEY", "env-zai")
    assert providers.resolve("zai").api_key == "env-zai"
    monkeypatch.setenv("VIDGEN_API_KEY", "env-vidgen")
    assert providers.resolve("openai").api_key == "env-vidgen"


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("zai", "glm-5.2"),
        ("zai-coding", "glm-5.2"),
        ("openai", "gpt-5.1"),
        ("openrouter", "z-ai/glm-5.2"),
        ("ollama", "llama3.2"),
    ],
)
def test_each_provider_has_its_own_default_model(monkeypatch: pytest.MonkeyPatch, provider: str, model: str) -> None:
    monkeypatch.setenv("VIDGEN_API_KEY", SECRET)
    client = client_for(ModelSettings(provider=provider))
    assert client.options.model == model and client.endpoint.base_url == providers.get(provider).base_url
    client.close()
    assert client_for(ModelSettings(provider=provider, model="mine")).options.model == "mine"
    assert settings_module.load(None).model.model == ""  # a fresh workspace's default: the provider's model


# ------------------------------------------------------------------ Retry-After, bounded

CAPPED = ModelOptions(model="glm-5.2", backoff_base_s=0.01, backoff_max_s=0.3, max_retries=2, idle_timeout_s=5)


def _after(value: str) -> tuple[float, list[dict]]:
    retries: list[dict] = []
    script = [Scripted(status=429, error_message="slow down", retry_after=value), Scripted("after the wait")]
    with ScriptedModel(script) as server:
        started = time.monotonic()
        reply = client(server, CAPPED).complete(MESSAGES, on_status=lambda k, d: retries.append(d) if k == "retry" else None)
        elapsed = time.monotonic() - started
    assert reply.content == "after the wait" and len(server.requests) == 2
    return elapsed, retries


def test_retry_after_86400_is_capped_at_the_backoff_maximum_and_says_so() -> None:
    elapsed, retries = _after("86400")
    assert elapsed < 3 and retries[0]["delay_s"] == 0.3
    assert "asked to wait 86400s" in retries[0]["reason"] and "at most 0.3s" in retries[0]["reason"]


def test_retry_after_inf_is_ignored() -> None:
    elapsed, retries = _after("inf")
    assert elapsed < 3 and retries[0]["delay_s"] <= 0.3


@pytest.mark.parametrize("value", ["soon", "nan", "-5", "Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 99 Foo 2015", "1e999"])
def test_unusable_retry_after_values_are_ignored(value: str) -> None:
    elapsed, retries = _after(value)
    assert elapsed < 3 and retries[0]["delay_s"] <= 0.3 and "asked to wait" not in retries[0]["reason"]


def test_a_retry_after_date_in_the_future_is_capped() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    elapsed, retries = _after(format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True))
    assert elapsed < 3 and retries[0]["delay_s"] == 0.3 and "asked to wait" in retries[0]["reason"]


def test_each_failed_try_but_the_last_is_reported_once_and_nothing_else_is_printed(capfd: pytest.CaptureFixture[str]) -> None:
    retries: list[dict] = []
    with ScriptedModel([Scripted(status=503, error_message="down")] * 4) as server:
        with pytest.raises(ModelError, match="kept failing .* after 4 tries"):
            client(server).complete(MESSAGES, on_status=lambda k, d: retries.append(d) if k == "retry" else None)
    assert len(server.requests) == 4 and [r["attempt"] for r in retries] == [1, 2, 3]
    assert all(0 < r["delay_s"] <= 0.05 and r["reason"] == "503 down" for r in retries)
    assert capfd.readouterr().err == ""  # stamina's own retry log (a WARNING) is not printed


def test_a_retry_holds_back_the_other_calls_to_the_same_endpoint() -> None:
    script = [Scripted(status=429, error_message="slow down", retry_after="0.4"), Scripted("first"), Scripted("second")]
    with ScriptedModel(script) as server:
        shared = client(server, dataclasses.replace(CAPPED, backoff_max_s=1.0))
        other: dict[str, float] = {}

        def second_call() -> None:
            started = time.monotonic()
            shared.complete(MESSAGES)
            other["waited"] = time.monotonic() - started

        worker = threading.Thread(target=second_call)
        # The second call starts while the first waits out its 429: it waits for the same endpoint too.
        assert shared.complete(MESSAGES, on_status=lambda k, _d: worker.start() if k == "retry" else None).content
        worker.join(10)
    assert other["waited"] >= 0.3 and len(server.requests) == 3
