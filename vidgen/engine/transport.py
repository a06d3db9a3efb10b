"""Requests over one JSON-lines stream: ids, the replies of each, the end of the stream.

Both ends vidgen talks to, its own Node service (over stdio) and the render daemon (over a Unix socket),
answer the same way: any number of events, then one result or one error, each tagged with the request's
id. One reader thread per stream `deliver`s what arrives; the waiting side is `ServiceOps.wait`.
"""

from __future__ import annotations

import itertools
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

# What a request's queue gets when the stream ends before its answer.
END = object()


@dataclass
class Waiting:
    """One request sent and not yet answered."""

    id: int
    replies: queue.Queue[Any] = field(default_factory=queue.Queue)


class Requests:
    """The requests under way on one stream (thread-safe: batch jobs and the daemon's clients share one)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._waiting: dict[int, Waiting] = {}
        self._lock = threading.Lock()

    def open(self) -> Waiting:
        """A new request, registered before it is sent: its answer can come at once."""
        with self._lock:
            waiting = Waiting(next(self._ids))
            self._waiting[waiting.id] = waiting
        return waiting

    def close(self, waiting: Waiting) -> None:
        with self._lock:
            self._waiting.pop(waiting.id, None)

    def deliver(self, message: dict[str, Any]) -> None:
        """A message from the stream, to the request it names (one for a request already given up is dropped)."""
        request_id = message.get("id")
        with self._lock:
            waiting = self._waiting.get(request_id) if isinstance(request_id, int) else None
        if waiting is not None:
            waiting.replies.put(message)

    def end(self) -> None:
        """The stream ended: every request under way learns it now, not at its deadline."""
        with self._lock:
            everyone = list(self._waiting.values())
        for waiting in everyone:
            waiting.replies.put(END)

    def ids(self) -> list[int]:
        with self._lock:
            return list(self._waiting)
