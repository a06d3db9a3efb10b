"""Batch benchmark: do model calls overlap renders? 6 items, a scripted model taking 2 s an answer, --jobs 3.

    python tests/benchmarks/bench_batch.py [--workspace PATH]

Each item is the reference composition (3 s, 1280x720, 30 fps). It prints the batch's wall
time against the sum of the items' pure render times plus one model latency, as a ratio
(target: wall <= 1.2 x renders + 2 s, a ratio <= 1.0), and the peak memory (RSS) of the whole
process tree: vidgen, the render service and Chromium. A pure render time is the item's
`vidgen render` (ladder, render, verify, previews) alone in a warm service after the batch.
The batch runs without the daemon (`--no-daemon` where vidgen has it), so that the service and its
Chromium are in the measured process tree, as before the daemon. One batch: --runs is not used.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import REFERENCE, VIDGEN, BenchError, Row, log, main, without_daemon  # noqa: E402

from vidgen import settings
from vidgen.batch.manifest import path_for  # noqa: E402
from vidgen.engine.session import Session  # noqa: E402
from vidgen.model.scripted import Scripted, ScriptedModel  # noqa: E402
from vidgen.render import video as render  # noqa: E402
from vidgen.workspace.project import Workspace  # noqa: E402

ITEMS = 6
LATENCY_S = 2.0


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pid = int(entry.name)
            children.setdefault(int(stat[1]), []).append(pid)
            rss[pid] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


def batch(ws: Workspace, _runs: int) -> list[Row]:
    prompts = ws.root / "bench-batch.txt"
    prompts.write_text("".join(f"benchmark item {n}\n" for n in range(ITEMS)))
    manifest = path_for(ws, prompts)
    manifest.unlink(missing_ok=True)
    for folder in ws.root.joinpath("src", "videos").glob("benchmark-item-*"):
        shutil.rmtree(folder)  # items of an earlier run would be skipped as done

    def answer(body: dict) -> Scripted:
        n = int(body["messages"][1]["content"].split("benchmark item ")[1].split()[0])
        source = REFERENCE.replace("const HUE = 210", f"const HUE = {30 * n}")
        return Scripted(f"```tsx index.tsx\n{source}```\n", delay_s=LATENCY_S)

    peak = 0.0
    with ScriptedModel(answer) as server:
        command, env = without_daemon(
            ws.root, [*VIDGEN, "batch", str(prompts), "--jobs", "3", "--base-url", server.base_url, "--provider", "ollama"]
        )
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=ws.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env}
        )
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_mb(process.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        wall = time.monotonic() - started
        done.set()
    entries = list(json.loads(manifest.read_text())["items"].values())
    rendered = sum(1 for e in entries if e["status"] == "rendered")
    if code != 0 or rendered != ITEMS:
        raise BenchError(f"`vidgen batch` exited {code} with {rendered} of {ITEMS} items rendered")
    renders = 0.0
    with Session.open(ws, settings.load(ws.root)) as session:
        render.render(session, ws.video("hello"))  # start the service and warm it: not counted
        for entry in entries:
            started = time.monotonic()
            result = render.render(session, ws.video(entry["name"]))
            if result.error is not None:
                raise BenchError(f"{entry['name']} does not render alone: {result.error.message}")
            renders += time.monotonic() - started
    bound = 1.2 * renders + LATENCY_S
    log("batch", f"wall {wall:.2f} s, sum of pure renders {renders:.2f} s, bound {bound:.2f} s, peak {peak:.0f} MB")
    for folder in ws.root.joinpath("src", "videos").glob("benchmark-item-*"):
        shutil.rmtree(folder)
    return [
        Row(
            f"`vidgen batch`, {ITEMS} items, --jobs 3, model {LATENCY_S:g} s: wall / (1.2 x pure renders + one latency)",
            f"{wall:.2f} s",
            f"bound {bound:.2f} s",
            f"{wall / bound:.2f}",
            "<= 1.00",
            wall / bound <= 1.0,
        ),
        Row("`vidgen batch` peak memory (vidgen + service + Chromium)", f"{peak:.0f} MB", target="reported"),
    ]


if __name__ == "__main__":
    sys.exit(main(__doc__ or "", [batch]))
