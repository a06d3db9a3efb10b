"""`vidgen batch`: many videos from a prompt file."""

from __future__ import annotations

import dataclasses
import errno
import functools
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from .. import settings as settings_module
from ..agent import critique as critique_module
from ..batch import file as batchfile
from ..batch import report
from ..batch.file import Item
from ..batch.manifest import Manifest, path_for
from ..batch.runner import BatchPlan, BatchRun, Outcome, describe_scorecard, plan, scorecard, totals
from ..engine.client import PREVIEWS_TIMEOUT_S
from ..engine.session import Session
from ..errors import EXIT_FAILED, EXIT_OK, CloudError, ModelError, UsageError
from ..model.client import ModelClient, client_for
from ..render import on_lambda
from ..workspace import project as workspace_module
from ..workspace import state
from .batch_progress import BatchDisplay
from .common import no_daemon_option, no_qa_option, on_flag, on_option, polish_option, qa_flag, session_for, workspace_of
from .flags import ModelFlags, model_options
from .output import is_quiet, note, quiet_option
from .printing import EXIT_INTERRUPTED, err, print_json
from .render import check_output


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--jobs", type=click.IntRange(1, 16), default=3, show_default=True, help="Items whose model calls run at once.")
@click.option("--max-repairs", type=click.IntRange(0, 20), default=None, help="Repair turns per item (default 3).")
@click.option("--resume", is_flag=True, help="Skip items already rendered from the same prompt; run the rest.")
@click.option("--retry-failed", is_flag=True, help="Run the items that failed last time again.")
@click.option("--strict", is_flag=True, help="Refuse the whole file if any line is malformed.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the HTML report (default out/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@on_option
@model_options
@polish_option
@no_qa_option
@no_daemon_option
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
    no_polish: bool,
    model_flags: ModelFlags,
) -> None:
    """Make one video per item of FILE (.txt, .jsonl, .yaml or .csv), resumable, with an HTML report."""
    ws = workspace_of(ctx)
    ws.require_node_modules()
    settings = model_flags.apply(on_flag(qa_flag(settings_module.load(ws.root))))
    if no_polish:
        settings = dataclasses.replace(settings, model=dataclasses.replace(settings.model, polish=False))
    if report_path is not None:
        check_output(ws, report_path, ".html", "--report")
        if report_path.is_file() and not report.is_report(report_path):
            raise UsageError(f"--report {report_path} exists and is not a vidgen report: choose another path")
    if settings.render.on == "lambda":
        on_lambda.preflight(settings, ws)  # deployed, of the workspace's version: before any model is asked
    # Reads only: a bad file, or one that ran here before, is a usage error whatever the key.
    items = _read_items(file, settings, strict)
    manifest = _open_manifest(ws, file, resume=resume, retry_failed=retry_failed)
    # The key and the critique's model are checked before the manifest is written or a model asked.
    client = client_for(settings.model)
    critic = model_flags.critic(settings)
    work = plan(ws, items, manifest, resume=resume, retry_failed=retry_failed)
    _announce_plan(work)
    started = time.monotonic()
    repairs = max_repairs if max_repairs is not None else settings.model.max_repairs
    ended = _run(ws, settings, client, critic, manifest, work, jobs, repairs)
    entries = [entry for entry in (manifest.get(item.key) for item in items) if entry]
    card = scorecard(entries)
    seconds = time.monotonic() - started
    page = functools.partial(
        report.write,
        title=file.name,
        root=ws.root,
        entries=entries,
        usage=totals(entries).to_dict(),
        seconds=seconds,
        scorecard=describe_scorecard(card),
    )
    target = _write_report(
        page, report_path or ws.out_dir / f"{manifest.path.stem}.report.html", manifest.path.with_suffix(".html")
    )
    ctx.exit(_print_summary(file, target, entries, ended, as_json, card))


def _write_report(page: Callable[..., Path], target: Path, fallback: Path) -> Path:
    """The report at `target`; on a full disk (out/ is often where renders filled it), beside the manifest instead."""
    try:
        return page(target)
    except OSError as exc:
        if exc.errno != errno.ENOSPC or target == fallback:
            raise
        err(f"the disk holding {target.parent} is full: the report is written to {fallback} instead")
        return page(fallback)


def _read_items(file: Path, settings: settings_module.Settings, strict: bool) -> list[Item]:
    """The file's valid items; malformed lines are skipped with their line number (refused with --strict)."""
    items, problems = batchfile.read(file, settings.limits)
    if problems and strict:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UsageError(f"{file.name} {problems[0]}{more}: fix it, or drop --strict to skip malformed lines")
    for problem in problems:
        err(f"skipped {file.name} {problem}")
    if not items:
        raise UsageError(f"{file.name} has no valid items: fix the lines above")
    return items


def _open_manifest(ws: workspace_module.Workspace, file: Path, *, resume: bool, retry_failed: bool) -> Manifest:
    """The file's manifest; a file that ran here before needs --resume or --retry-failed."""
    manifest = Manifest(path_for(ws, file), file)
    state.read(ws)  # every item records to it: a damaged one stops the batch before any model call
    if manifest.items and not (resume or retry_failed):
        raise UsageError(f"{file.name} ran here before ({manifest.path}): add --resume to continue it, or --retry-failed")
    return manifest


def _announce_plan(work: BatchPlan) -> None:
    for message in work.renamed:
        err(message)
    if work.skipped:
        note(f"{len(work.skipped)} item(s) already done: skipped")


@dataclass
class _Ended:
    """How the run ended: the error that stopped it, if any, and whether Ctrl-C did."""

    fatal: Exception | None = None
    interrupted: bool = False
    outcomes: list[Outcome] = field(default_factory=list)


def _run(
    ws: workspace_module.Workspace,
    settings: settings_module.Settings,
    client: ModelClient,
    critic: critique_module.Critic | None,
    manifest: Manifest,
    work: BatchPlan,
    jobs: int,
    repairs: int,
) -> _Ended:
    """Run the planned items in one session, with one model client and a live count of where they stand."""
    display = BatchDisplay(len(work.run), quiet=is_quiet())

    def announce(kind: str, data: dict[str, Any]) -> None:
        if kind == "start":
            display.item_started(data["name"])
        elif kind == "done":
            display.item_finished(data["name"], data["ok"], data["error"].one_line() if data["error"] else None)

    try:
        with session_for(click.get_current_context(), ws, settings) as session:
            run = BatchRun(session, client, manifest, jobs, repairs, announce, critic=critic)
            display.start()
            ended = _wait_for_items(run, run.start(work.run), session, manifest, display)
            if not ended.interrupted:
                _wait_for_previews(run, display)
            display.stop()
            run.shutdown()
            ended.fatal = run.fatal
            return ended
    finally:
        client.close()
        if critic is not None:
            critic.close()


def _wait_for_items(
    run: BatchRun, futures: list[Future[Outcome]], session: Session, manifest: Manifest, display: BatchDisplay
) -> _Ended:
    """Wait for every item; Ctrl-C once lets the items under way finish, twice stops at once."""
    ended = _Ended()
    pending = set(futures)
    while pending:
        try:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            ended.outcomes.extend(f.result() for f in done)
        except KeyboardInterrupt:
            if ended.interrupted:
                display.stop()
                _stop_now(session, manifest)
            ended.interrupted = True
            run.stop.set()
            display.say("stopping after the items under way (Ctrl-C again to stop now)")
    return ended


def _wait_for_previews(run: BatchRun, display: BatchDisplay) -> None:
    """The report shows each video's poster and GIF; previews yield to renders, so a batch's are made at its end.
    Ctrl-C here writes the report without the rest."""
    if run.wait_for_previews(timeout_s=0.1) == 0:
        return
    display.note("making the previews for the report (Ctrl-C writes it without them)")
    try:
        left = run.wait_for_previews(timeout_s=PREVIEWS_TIMEOUT_S)
    except KeyboardInterrupt:
        return
    if left:
        display.say(f"{left} previews not made within {PREVIEWS_TIMEOUT_S:g}s: the report shows those videos without them")


def _stop_now(session: Session, manifest: Manifest) -> None:
    """The second Ctrl-C: give up the renders under way, mark what ran as interrupted, and leave at once."""
    session.service.abandon()
    for key, entry in manifest.items.items():
        if entry.get("status") == "running":
            manifest.update(key, status="interrupted")
    err("stopped at once; `vidgen batch --resume` continues")
    os._exit(EXIT_INTERRUPTED)


def _print_summary(
    file: Path, target: Path, entries: list[dict[str, Any]], ended: _Ended, as_json: bool, card: dict[str, Any]
) -> int:
    """The report's path (or the JSON object) on stdout, the counts on stderr; returns the exit code."""
    rendered = sum(1 for e in entries if e.get("status") == "rendered")
    failed = sum(1 for e in entries if e.get("status") == "failed")
    code, line, error = _ending(file, ended, all_rendered=rendered == len(entries))
    if as_json:
        fields = ("name", "prompt", "status", "output", "error", "attempts", "usage")
        payload: dict[str, Any] = {
            "items": [{k: e.get(k) for k in fields} for e in entries],
            "rendered": rendered,
            "failed": failed,
            "usage": totals(entries).to_dict(),
            "report": str(target.resolve()),
            "scorecard": card,
        }
        print_json({**payload, **({"status": "error", "error": error} if error else {})}, code)
    else:
        click.echo(str(target.resolve()))
    note(describe_scorecard(card))
    summary = f"{rendered} rendered, {failed} failed, {len(entries) - rendered - failed} not run; report {target}"
    (note if rendered == len(entries) else err)(summary)
    if line:
        err(line)
    return code


def _ending(file: Path, ended: _Ended, *, all_rendered: bool) -> tuple[int, str, dict[str, str] | None]:
    """The exit code, the closing line on stderr and the --json error of how the run ended."""
    if ended.fatal is not None:
        code = ended.fatal.exit_code if isinstance(ended.fatal, ModelError | CloudError) else EXIT_FAILED
        message = f"the batch stopped: {ended.fatal}; fix it, then `vidgen batch {file} --resume`"
        return code, f"error: {message}", {"message": message, **_code_of(ended.fatal)}
    if ended.interrupted:
        message = f"interrupted; `vidgen batch {file} --resume` runs the rest"
        return EXIT_INTERRUPTED, message, {"message": message, "code": "interrupted"}
    return (EXIT_OK if all_rendered else EXIT_FAILED), "", None


def _code_of(error: Exception) -> dict[str, str]:
    code = getattr(error, "code", None)
    return {"code": code} if isinstance(code, str) else {}
