"""Who may use the page: requests to 127.0.0.1 carrying the token, from the page itself.

The server binds 127.0.0.1 only, but another local user, or a web page in the user's browser, can reach
it. Every path starts with a secret token (printed in the URL, compared in constant time); the `Host`
header must name this server, so a DNS name rebound to 127.0.0.1 gets nothing; an `Origin` header, which
browsers send with every POST and every cross-origin request, must be this server's. The player runs the
model's code, so it is served under a second token and sandboxed in the page (an opaque origin): that
token reaches the player's files only, and its requests (Origin: null) are refused anything else.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE = "page"
PLAYER = "player"


@dataclass(frozen=True)
class Guard:
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    player_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def hosts(self) -> tuple[str, ...]:
        return (f"127.0.0.1:{self.port}", f"localhost:{self.port}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.token}/"

    def admit(self, path: str, headers: dict[str, str]) -> tuple[str | None, str]:
        """(PAGE or PLAYER, the path after the token) for an admitted request; (None, why) for a refused one."""
        if headers.get("host", "") not in self.hosts:
            return None, "this server answers only to 127.0.0.1 and localhost"
        first, _, rest = path.lstrip("/").partition("/")
        # Both compared, always: the time taken says nothing about either token.
        page = hmac.compare_digest(first.encode(), self.token.encode())
        player = hmac.compare_digest(first.encode(), self.player_token.encode())
        if not (page or player):
            return None, "the token is missing or wrong: open the URL `vidgen ui` printed"
        origin = headers.get("origin")
        if page and origin is not None and origin not in (f"http://{host}" for host in self.hosts):
            return None, "requests from other pages are refused"
        if player and origin not in (None, "null", *(f"http://{host}" for host in self.hosts)):
            return None, "requests from other pages are refused"
        return (PAGE if page else PLAYER), "/" + rest


def guarded(guard: Guard, page: App, player: App) -> App:
    """An ASGI app that refuses what `guard` does not admit (403, a plain line) and passes the rest on,
    with the path after the token, to `page` or `player`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan
            await page(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        which, rest = guard.admit(scope["path"], headers)
        if which is None:
            body = f"refused: {rest}\n".encode()
            start = {"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain; charset=utf-8")]}
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        if which == PAGE and scope["path"].rstrip("/") == f"/{guard.token}" and not scope["path"].endswith("/"):
            # The page's links are relative to its folder: without the slash they would lose the token.
            start = {"type": "http.response.start", "status": 308, "headers": [(b"location", f"/{guard.token}/".encode())]}
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            return
        inner = {**scope, "path": rest, "raw_path": rest.encode()}
        await (page if which == PAGE else player)(inner, receive, send)

    return app
