"""Where a video's elements are written: the `data-vg-src` stamps the bundler puts on its JSX.

remotion-template/service/source-locations.cjs stamps each HTML and SVG element, and Remotion's
Sequence, Series and the like, with "<video>/<file>:<line>", the line of the element's own tag.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ..workspace.project import Video

ATTRIBUTE = "data-vg-src"
_STAMP = re.compile(r"(?P<video>[a-z0-9][a-z0-9-]*)/(?P<file>[^:]+):(?P<line>\d+)")


def parse(stamp: object, video: Video) -> tuple[str, int] | None:
    """The file (relative to the video folder) and line a stamp names, when it is one of `video`'s files.

    The attribute is in the page, where the video's own code could write one: anything that is not a
    file of this video is ignored.
    """
    match = _STAMP.fullmatch(stamp) if isinstance(stamp, str) else None
    if match is None or match["video"] != video.name:
        return None
    file = PurePosixPath(match["file"])
    if file.is_absolute() or ".." in file.parts or not (video.folder / file).is_file():
        return None
    return file.as_posix(), int(match["line"])
