"""`vidgen batch`: many videos from a prompt file."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path
from typing import Any

import click

from .. import batchfile, report, state
from .. import settings as settings_module
from ..batch import BatchRun, Outcome, describe_scorecard, plan, scorecard, totals
from ..errors import EXIT_FAILED, EXIT_OK, UsageError
from ..manifest import Manifest, path_for
from ..model import ModelError, client_for
from ..progress import BatchDisplay
from ..session import Session
from .common import EXIT_INTERRUPTED, err, no_qa_option, qa_flag, workspace_of
from .flags import ModelFlags, model_options
from .output import is_quiet, note, quiet_option


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--jobs", type=click.IntRange(1, 16), default=3, show_default=True, help="Items whose model calls run at once.")
@click.option("--max-repairs", type=click.IntRange(0, 20), default=None, help="Repair turns per item (default 3).")
@click.option("--resume", is_flag=True, help="Skip items already rendered from the same prompt; run the rest.")
@click.option("--retry-failed", is_flag=True, help="Run the items that failed last time again.")
@click.option("--strict", is_flag=True, help="Refuse the whole file if any line is malformed.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None, help="Where to write the HTML report.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@model_options
@no_qa_option
@quiet_option
@click.pass_context
def batch(
    ctx: click.Context,
    file: Path,
    jobs: int,
    max_repairs: int | None,
    resume: bool,
    retry_failed: bool,
    strict: bool,
    report_path: Path | None,
    as_json: bool,
    model_flags: ModelFlags,
) -> None:
    """Make one video per item of FILE (.txt, .jsonl, .yaml or .csv), resumable, with an HTML report."""
    ws = workspace_of(ctx)
    ws.require_node_modules()
    settings = model_flags.apply(qa_flag(settings_module.load(ws.root)))
    # The key and the critique's model are checked before the file is read or a manifest written.
    client = client_for(settings.model)
    critic = model_flags.critic(settings)
    items, problems = batchfile.read(file, settings.limits)
    if problems and strict:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UsageError(f"{file.name} {problems[0]}{more}: fix it, or drop --strict to skip malformed lines")
    for problem in problems:
        err(f"skipped {file.name} {problem}")
    if not items:
        raise UsageError(f"{file.name} has no valid items: fix the lines above")
    manifest = Manifest(path_for(ws, file), file)
    state.read(ws)  # every item records to it: a damaged one stops the batch before any model call
    if manifest.items and not (resume or retry_failed):
        raise UsageError(f"{file.name} ran here before ({manifest.path}): add --resume to continue it, or --retry-failed")
    work = plan(ws, items, manifest, resume=resume, retry_failed=retry_failed)
    for message in work.renamed:
        err(message)
    if work.skipped:
        note(f"{len(work.skipped)} item(s) already done: skipped")
    default_repairs = max_repairs if max_repairs is not None else settings.model.max_repairs
    started = time.monotonic()
    progress = BatchDisplay(len(work.run), quiet=is_quiet())

    def announce(kind: str, data: dict[str, Any]) -> None:
        if kind == "start":
            progress.item_started(data["name"])
        elif kind == "done":
            progress.item_finished(data["name"], data["ok"], data["error"].one_line() if data["error"] else None)

    outcomes: list[Outcome] = []
    with Session.open(ws, settings) as session:
        run = BatchRun(session, client, manifest, jobs, default_repairs, announce, critic=critic)
        progress.start()
        futures = run.start(work.run)
        pending = set(futures)
        interrupted = False
        while pending:
            try:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                outcomes.extend(f.result() for f in done)
            except KeyboardInterrupt:
                if interrupted:  # the second Ctrl-C: stop now
                    progress.stop()
                    session.service.kill()
                    for key, entry in manifest.items.items():
                        if entry.get("status") == "running":
                            manifest.update(key, status="interrupted")
                    err("stopped at once; `vidgen batch --resume` continues")
                    os._exit(EXIT_INTERRUPTED)
                interrupted = True
                run.stop.set()
                progress.say("stopping after the items under way (Ctrl-C again to stop now)")
        progress.stop()
        run.shutdown()
    client.close()
    if critic is not None:
        critic.close()

    keys = [item.key for item in items if manifest.get(item.key)]
    entries = [manifest.get(key) or {} for key in keys]
    usage = totals(entries)
    card = scorecard(entries)
    target = report_path or manifest.path.with_suffix(".html")
    report.write(target, file.name, ws.root, entries, usage.to_dict(), time.monotonic() - started, describe_scorecard(card))
    rendered = sum(1 for e in entries if e.get("status") == "rendered")
    failed = sum(1 for e in entries if e.get("status") == "failed")
    if as_json:
        click.echo(
            json.dumps(
                {
                    "items": [
                        {k: e.get(k) for k in ("name", "prompt", "status", "output", "error", "attempts", "usage")}
                        for e in entries
                    ],
                    "rendered": rendered,
                    "failed": failed,
                    "usage": usage.to_dict(),
                    "scorecard": card,
                }
            )
        )
    else:
        click.echo(str(target.resolve()))
    summary = f"{rendered} rendered, {failed} failed, {len(entries) - rendered - failed} not run; report {target}"
    note(describe_scorecard(card))
    (note if rendered == len(entries) else err)(summary)
    if run.fatal is not None:
        err(f"error: the batch stopped: {run.fatal}; fix it, then `vidgen batch {file} --resume`")
        ctx.exit(run.fatal.exit_code if isinstance(run.fatal, ModelError) else EXIT_FAILED)
    if interrupted:
        err(f"interrupted; `vidgen batch {file} --resume` runs the rest")
        ctx.exit(EXIT_INTERRUPTED)
    ctx.exit(EXIT_OK if rendered == len(entries) else EXIT_FAILED)
