"""Faults that are not the video's: the one retry on a fresh render service before an error counts.

A crashed service or browser, a service that stopped answering, or a timeout that load can explain
(a page that waited rather than one stuck in a loop) is marked `infra` where it is classified
(ladder.py, check/diagnostics.py). `check` and `render` run through `retry_once`, so every driver (the
CLI, the model loop, batch, watch, mcp) retries the same way, and only a fault that repeats on a
fresh service reaches the model, as what it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from ..errors import StructuredError

Events = Callable[[str, dict[str, Any]], None]


class HasError(Protocol):
    error: StructuredError | None


Result = TypeVar("Result", bound=HasError)


def retry_once(attempt: Callable[[], Result], on_event: Events) -> tuple[Result, list[StructuredError]]:
    """Run `attempt`; after an infra fault, once more on a fresh service. The result, and the faults retried.

    A fault that repeats is returned as the result's error, saying it happened again: twice on a fresh
    service is likely the code (its memory, a delayRender() that is never cleared), so the model hears of it.
    """
    result = attempt()
    first = result.error
    if first is None or not first.infra:
        return result, []
    on_event("infra-retry", {"error": first})
    # The fault already made what failed fresh: a stopped or hung service was killed (the next request
    # starts a new one), a page that timed out had its service restarted, a crashed browser or checker
    # is reopened by the service. Killing the service again here would only end the requests of the
    # others sharing it (a batch's items, the daemon's other commands), which would then fail in turn.
    result = attempt()
    again = result.error
    if again is not None and again.infra:
        result.error = dataclasses.replace(again, message=f"{again.message} (this happened again on a fresh render service)")
    return result, [first]
