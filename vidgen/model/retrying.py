"""Retrying a model call through passing trouble: stamina's backoff, Retry-After honoured, one backoff per endpoint."""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC
from typing import Any, TypeVar

import stamina
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

T = TypeVar("T")
Status = Callable[[str, dict[str, Any]], None]


class Retryable(Exception):
    """Trouble worth waiting for (429, 5xx, a dropped stream); `retry_after` is what the provider asked for."""

    def __init__(self, reason: str, retry_after: float | None = None, unreachable: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.unreachable = unreachable


class Throttle:
    """One backoff shared by everything that calls the same endpoint (batch workers).

    stamina backs off one call; a 429 is about the key and the endpoint, so the other workers
    sharing the client hold off too instead of each spending its own tries on the same limit."""

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


# stamina reports a retry only to process-wide hooks; the call being retried sets here where its own
# report goes (each thread, so each batch worker, has its own).
_REPORT: ContextVar[Callable[[RetryDetails], None] | None] = ContextVar("vidgen_retry_report", default=None)


def _report(details: RetryDetails) -> None:
    report = _REPORT.get()
    if report is not None:
        report(details)


# The only hook: stamina's default one logs every retry as a WARNING, which Python prints on stderr
# when nothing configured logging; vidgen reports its retries as `retry` events (the CLI shows them).
set_on_retry_hooks([_report])


def with_retries(call: Callable[[], T], *, tries: int, base_s: float, max_s: float, throttle: Throttle, on_status: Status) -> T:
    """`call()`, tried up to `tries` times while it raises Retryable; the last Retryable is raised."""

    def backoff(exc: BaseException) -> bool | float:
        if not isinstance(exc, Retryable):
            return False  # what the user must fix is not retried
        # The provider's Retry-After replaces the backoff, but a provider asking for an hour (or a date
        # far ahead) must not hang the command: wait the most we ever wait, try again, and say so.
        return True if exc.retry_after is None else min(exc.retry_after, max_s)

    def report(details: RetryDetails) -> None:
        throttle.hold(details.wait_for)
        reason = str(details.caused_by)
        asked = getattr(details.caused_by, "retry_after", None)
        if asked is not None and asked > max_s:
            reason += f" (the provider asked to wait {asked:.0f}s; waiting at most {max_s:g}s)"
        on_status("retry", {"reason": reason, "delay_s": round(details.wait_for, 2), "attempt": details.retry_num})

    token = _REPORT.set(report)
    try:
        # timeout=None: the tries bound a call (each try has its own deadline), not stamina's 45 s default.
        # The jitter is up to one base wait, so workers that failed together do not come back together.
        for attempt in stamina.retry_context(
            on=backoff, attempts=tries, timeout=None, wait_initial=base_s, wait_max=max_s, wait_jitter=base_s
        ):
            with attempt:
                throttle.wait()
                return call()
    finally:
        _REPORT.reset(token)
    raise AssertionError("stamina ends its tries by returning or raising")  # pragma: no cover


def retry_after_s(value: str | None) -> float | None:
    """Retry-After in seconds, from either of its two forms; None for anything unusable.

    `inf`, `nan`, negative numbers, words and dates in the past are ignored (the usual backoff
    applies); a huge value is kept here and capped by `with_retries`, which says so.
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
