"""What the bubblewrap jail costs: one render request on a warm service, jailed against the same request
on a service without the jail (its own network namespace only), in the same process and the same run.

    python tests/benchmarks/bench_jail.py [--workspace PATH] [--runs 3]

Two warm render services on one workspace, each bundled and warmed by an untimed render; then, per run,
the reference video is rendered through each in turn (A B A B ...), and the difference per request is
what the jail adds once the service is up. Target: under 100 ms a request. The start of each service
(Node, webpack, the browser, and for the jailed one bwrap's namespaces and mounts) is reported too.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import NAME, BenchError, Row, Series, add_video, log, main  # noqa: E402

from vidgen import settings
from vidgen.engine import sandbox  # noqa: E402
from vidgen.engine.protocol import RenderArgs  # noqa: E402
from vidgen.engine.service import RenderService  # noqa: E402
from vidgen.workspace.project import Workspace  # noqa: E402


def _started(service: RenderService) -> float:
    started = time.monotonic()
    service.start()  # up to its ready line; it opens its browser as it starts
    return time.monotonic() - started


def _render(service: RenderService, ws: Workspace, label: str) -> float:
    output = ws.state_dir / "staging" / f"bench-jail-{label}.mp4"
    started = time.monotonic()
    service.render(RenderArgs(name=NAME, output=str(output), codec="h264", timeout_ms=30_000), timeout_s=600)
    elapsed = time.monotonic() - started
    output.unlink(missing_ok=True)
    return elapsed


def jail(ws: Workspace, runs: int) -> list[Row]:
    if not sandbox.file_sandbox().active:
        raise BenchError(f"bubblewrap cannot run here ({sandbox.file_sandbox().reason}): nothing to measure")
    add_video(ws)
    loaded = settings.load(ws.root).render
    unjailed = replace(loaded, allow_unsandboxed=True)
    jailed = RenderService(ws, loaded)
    plain = RenderService(ws, unjailed, file_sandbox=sandbox.FileSandbox("", "off for the benchmark"))
    try:
        start_jailed, start_plain = _started(jailed), _started(plain)
        for service in (jailed, plain):
            if service.bundle(timeout_s=600):
                raise BenchError(f"{NAME} does not bundle")
            _render(service, ws, "warm")  # untimed: the browser's tabs and the compositor warm
        with_jail, without = [], []
        for number in range(1, runs + 1):
            with_jail.append(_render(jailed, ws, "on"))
            without.append(_render(plain, ws, "off"))
            log("jail", f"run {number}: jailed {with_jail[-1]:.2f} s, not jailed {without[-1]:.2f} s")
    finally:
        jailed.stop()
        plain.stop()
    added = Series([(a - b) * 1000 for a, b in zip(with_jail, without, strict=True)])
    return [
        Row(
            "the jail: one warm render request (3 s, 1280x720), jailed minus not",
            f"{added.show(unit='ms', digits=0)}",
            f"jailed {Series(with_jail).show()}, not {Series(without).show()}",
            target="< 100 ms",
            met=added.median < 100,
        ),
        Row("the jail: service start to an open browser, jailed / not", f"{start_jailed:.2f} s", f"not {start_plain:.2f} s"),
    ]


if __name__ == "__main__":
    sys.exit(main(__doc__ or "", [jail]))
