"""How a command's answer prints: its JSON object on stdout, its error as one line on stderr (and one object with --json)."""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import EXIT_OK

EXIT_INTERRUPTED = 130


def err(message: str) -> None:
    click.echo(message, err=True)


def print_json(payload: dict[str, Any], exit_code: int = EXIT_OK) -> None:
    """A command's one JSON object: its result, with `status` and `exit_code` every object carries.

    `status` is "ok" on success and "failed" when the work ran and failed (the object says where);
    results that already name their own status (a render's "rendered") keep it.
    """
    status = "ok" if exit_code == EXIT_OK else "failed"
    click.echo(json.dumps({"status": status, **payload, "exit_code": exit_code}))


def print_error(
    message: str,
    exit_code: int,
    as_json: bool,
    *,
    code: str,
    label: str = "error",
) -> None:
    """A command that could not run: one line on stderr and, with --json, the error object on stdout."""
    err(f"{label}: {message}")
    if as_json:
        error = {"message": message, "code": code}
        click.echo(json.dumps({"status": "error", "error": error, "exit_code": exit_code}))
