"""React's production errors, decoded: a rendered video gets "Minified React error #310; visit <link>", which
neither the model nor an offline user can follow. The codes a video can hit, with what they mean and the fix."""

from __future__ import annotations

import re

_MINIFIED = re.compile(r"Minified React error #(?P<code>\d+);[^\n]*")
_LINK = re.compile(
    r"\s*(?:\(?\s*(?:see|visit|read more(?: at)?|more info(?:rmation)?(?: at)?|docs?:?)\s*)?<?https?://\S+>?\)?\.?", re.IGNORECASE
)

# code -> (React's own message, the one-line hint for a Remotion video)
_CODES = {
    "31": (
        "Objects are not valid as a React child",
        "render a string or number, e.g. {String(value)} or {item.name}, not the object",
    ),
    "130": (
        "Element type is invalid: expected a string or a class/function but got undefined",
        "a component is imported with the wrong name or as default when it is a named export (or the reverse)",
    ),
    "152": ("Nothing was returned from render", "every component must return JSX or null"),
    "185": (
        "Maximum update depth exceeded",
        "a state update runs on every render: compute the value from useCurrentFrame() instead",
    ),
    "300": (
        "Rendered fewer hooks than expected",
        "a hook is skipped by an early return or a condition: call every hook at the top, every time",
    ),
    "301": ("Too many re-renders", "setState is called during render: compute the value from useCurrentFrame() instead"),
    "310": (
        "Rendered more hooks than during the previous render",
        "a hook is called conditionally or after an early return: call every hook at the top of the component, every time",
    ),
    "321": (
        "Invalid hook call",
        "hooks can only be called inside the body of a function component, not in loops, callbacks or helpers",
    ),
    "425": ("Text content does not match", "what is rendered must depend only on the frame and props, not on time or randomness"),
}


def decode(message: str) -> str:
    """The message with a minified React error replaced by its meaning and a hint; other text as it was."""
    found = _MINIFIED.search(message)
    if not found:
        return message
    meaning = _CODES.get(found["code"])
    text = f"React error #{found['code']}: {meaning[0]}: {meaning[1]}" if meaning else f"React error #{found['code']}"
    return message[: found.start()] + text + message[found.end() :]


def without_links(message: str) -> str:
    """A message without its web links ('See https://...'): useless offline, and noise for the model."""
    return _LINK.sub("", message).rstrip(" :;,") if "http" in message else message
