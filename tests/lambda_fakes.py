"""What the Remotion Lambda tests stand on instead of AWS (this machine has no network): a real `npx` program on PATH
that records its argv and answers as Remotion's CLI would, and a workspace that has the Lambda CLI "installed"."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from vidgen.workspace import project as workspace_module

VERSION = "4.0.527"
FUNCTION = "remotion-render-4-0-527-mem2048mb-disk2048mb-120sec"
SERVE_URL = "https://remotionlambda-useast1-abcdefghij.s3.us-east-1.amazonaws.com/sites/vidgen/index.html"

# The program: argv appended to calls.jsonl, then the answer `<kind>-<verb>` has in answers/ (stdout, stderr, exit).
_NPX = """#!{python}
import json, os, sys
folder = os.environ["FAKE_NPX_DIR"]
with open(os.path.join(folder, "calls.jsonl"), "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
words = [w for w in sys.argv[1:] if not w.startswith("-")]
name = "-".join(words[2:4])  # remotion lambda <kind> <verb>
answer = os.path.join(folder, "answers", name + ".json")
found = json.load(open(answer)) if os.path.exists(answer) else {{}}
sys.stdout.write(found.get("stdout", ""))
sys.stderr.write(found.get("stderr", ""))
sys.exit(found.get("exit", 0))
"""


class FakeNpx:
    """The fake `npx` in `folder`/bin: `answer()` sets what a subcommand prints, `calls()` what it was run with."""

    def __init__(self, folder: Path):
        self.folder = folder
        (folder / "bin").mkdir(parents=True, exist_ok=True)
        (folder / "answers").mkdir(exist_ok=True)
        program = folder / "bin" / "npx"
        program.write_text(_NPX.format(python=sys.executable))
        program.chmod(0o755)
        self.answer("functions-deploy", stdout=f"{FUNCTION}\n")
        self.answer("sites-create", stdout=f"Deployed to S3!\nServe URL: {SERVE_URL}\nSite Name: vidgen\n")

    def answer(self, command: str, stdout: str = "", stderr: str = "", exit: int = 0) -> None:
        (self.folder / "answers" / f"{command}.json").write_text(json.dumps({"stdout": stdout, "stderr": stderr, "exit": exit}))

    def calls(self) -> list[list[str]]:
        log = self.folder / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def env(self) -> dict[str, str]:
        return {"PATH": f"{self.folder / 'bin'}{os.pathsep}{os.environ['PATH']}", "FAKE_NPX_DIR": str(self.folder)}


def lambda_workspace(root: Path, toml: str = "") -> workspace_module.Workspace:
    """A workspace without `npm ci` but with @remotion/lambda's package.json, as `npm install @remotion/lambda` leaves."""
    workspace = workspace_module.create(root, install=False)
    package = workspace.root / "node_modules" / "@remotion" / "lambda"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "@remotion/lambda", "version": VERSION}))
    if toml:
        (workspace.root / "vidgen.toml").write_text(toml)
    return workspace
