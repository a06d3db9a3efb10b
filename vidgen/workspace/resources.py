"""Where the files vidgen ships live: inside the wheel, or beside the package in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def _shipped(name: str) -> Path:
    bundled = _PACKAGE / "_data" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE.parent / name


def template_dir() -> Path:
    """The Remotion project every workspace is made from."""
    return _shipped("remotion-template")


def prompts_dir() -> Path:
    """The jinja2 templates for the model."""
    return _shipped("prompts")
