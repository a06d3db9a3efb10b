"""Errors turned into what to do: React's minified errors decoded, web links dropped, likely names suggested.

A rendered video gets "Minified React error #310; visit <link>", which neither the model nor an offline
user can follow; a model that guesses `useFrame` (React Three Fiber's habit) gets no suggestion from
TypeScript, whose spelling hints only reach near misses.
"""

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


# Names models reach for that a package does not export, and what it does export for that job.
_LIKELY_EXPORTS = {
    ("remotion", "useFrame"): "useCurrentFrame",
    ("remotion", "useVideo"): "useVideoConfig",
    ("remotion", "useConfig"): "useVideoConfig",
    ("remotion", "useDuration"): "useVideoConfig",
    ("remotion", "interpolateColor"): "interpolateColors",
    ("remotion", "Video"): "OffthreadVideo",
    ("remotion", "Image"): "Img",
    ("remotion", "Fill"): "AbsoluteFill",
    ("remotion", "Transition"): "TransitionSeries from @remotion/transitions",
    ("remotion", "TransitionSeries"): "TransitionSeries from @remotion/transitions",
    ("remotion", "fitText"): "fitText from @remotion/layout-utils",
    ("remotion", "loadFont"): "loadFont from @remotion/fonts",
    ("@remotion/transitions", "fade"): "fade from @remotion/transitions/fade",
    ("@remotion/transitions", "slide"): "slide from @remotion/transitions/slide",
    ("@remotion/transitions", "wipe"): "wipe from @remotion/transitions/wipe",
    ("@remotion/three", "Canvas"): "ThreeCanvas",
}
_NO_EXPORT = re.compile(r"""Module '"(?P<module>[^"]+)"' has no exported member '(?P<name>[^']+)'\.(?! Did you mean)""")


def likely_export(message: str) -> str:
    """A TypeScript "has no exported member" message with the export meant, when it is a known slip."""
    found = _NO_EXPORT.search(message)
    meant = _LIKELY_EXPORTS.get((found["module"], found["name"])) if found else None
    return f"{message} Did you mean {meant}?" if found and meant else message
