"""Running Remotion's own Lambda CLI (`npx remotion lambda ...`) in the workspace, and reading what it says.

vidgen deploys nothing itself: the function and the site are made by Remotion's CLI, the one Remotion
documents and keeps in step with its Lambda. Every argument is one argv entry (no shell): a value from a
prompt or a batch file can never become an option or a command, and what could (the region, the site
name) is checked in settings.py first. The CLI finds AWS credentials the AWS SDK's way; vidgen passes its
environment through and never writes a credential anywhere.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import CloudError, UsageError
from ..settings import LambdaSettings

PROGRAM = "npx"
ENTRY_POINT = "src/index.ts"
_TIMEOUT_S = 900  # a site upload of a large workspace on a slow line
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# An AWS access key id, or a 40-character secret: never shown, even if a tool printed one.
_SECRETS = re.compile(r"\b(?:A[KS]IA[0-9A-Z]{16}|[A-Za-z0-9/+]{40})\b")
_CREDENTIALS = (
    "credential",
    "unrecognizedclientexception",
    "invalidclienttokenid",
    "security token included in the request is invalid",
    "signaturedoesnotmatch",
    "accessdenied",
    "is not authorized to perform",
    "expiredtoken",
)
_RATE = ("toomanyrequestsexception", "rate exceeded", "throttl")


@dataclass(frozen=True)
class Completed:
    """What one CLI run printed and how it ended."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], Path], Completed]


def run_process(argv: Sequence[str], cwd: Path) -> Completed:
    """The real runner: the process in the workspace, its output kept for reading (never shown whole)."""
    try:
        done = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise UsageError(f"`{argv[0]}` is not installed: Remotion's Lambda CLI runs with npx (Node.js 20 or newer)") from None
    except subprocess.TimeoutExpired:
        raise CloudError(
            f"`{describe(argv)}` did not finish within {_TIMEOUT_S}s: check the network, then run it again"
        ) from None
    return Completed(tuple(argv), done.returncode, done.stdout, done.stderr)


def lambda_argv(*args: str) -> list[str]:
    """`npx --no-install remotion lambda ARGS`: the workspace's own Remotion CLI, never one fetched on the fly."""
    return [PROGRAM, "--no-install", "remotion", "lambda", *args]


def deploy_function_argv(settings: LambdaSettings) -> list[str]:
    return lambda_argv(
        "functions",
        "deploy",
        f"--region={settings.region}",
        f"--memory={settings.memory_mb}",
        f"--disk={settings.disk_mb}",
        f"--timeout={settings.timeout_s}",
        "--yes",
    )


def create_site_argv(settings: LambdaSettings) -> list[str]:
    return lambda_argv(
        "sites", "create", ENTRY_POINT, f"--site-name={settings.site_name}", f"--region={settings.region}", "--yes"
    )


def list_argv(kind: str, settings: LambdaSettings) -> list[str]:
    """`functions ls` or `sites ls`, quiet: names only."""
    return lambda_argv(kind, "ls", f"--region={settings.region}", "--quiet")


def remove_argv(kind: str, name: str, settings: LambdaSettings) -> list[str]:
    """`functions rm NAME` or `sites rm NAME`, without the question (the user asked vidgen to remove it)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise UsageError(f"{name[:60]!r} is not a name Remotion gives a function or a site: it is not removed")
    return lambda_argv(kind, "rm", name, f"--region={settings.region}", "--yes")


def require_installed(root: Path, version: str) -> None:
    """`npx remotion lambda` needs @remotion/lambda in the workspace: say how to add it, at the workspace's version."""
    if not (root / "node_modules" / "@remotion" / "lambda" / "package.json").is_file():
        raise UsageError(
            f"Remotion's Lambda CLI is not installed in this workspace: run `npm install --save-exact @remotion/lambda@{version}`"
            " in it, then run this again"
        )


def run(argv: Sequence[str], root: Path, runner: Runner = run_process) -> str:
    """Run one CLI command; its output when it succeeds, else one CloudError line saying what to do."""
    done = runner(argv, root)
    if done.returncode != 0:
        raise explain(done)
    return clean(done.stdout)


def explain(done: Completed) -> CloudError:
    """A failed run as one line: credentials, a rate limit, or the CLI's last line (secrets taken out)."""
    text = clean(f"{done.stdout}\n{done.stderr}")
    lowered = text.lower()
    command = describe(done.argv)
    if any(word in lowered for word in _CREDENTIALS):
        return CloudError(f"`{command}`: AWS found no credentials or refused them; {CREDENTIALS_HELP}")
    if any(word in lowered for word in _RATE):
        return CloudError(f"`{command}`: AWS's rate limit was hit; {RATE_HELP}")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1][:200] if lines else "no output"
    return CloudError(f"`{command}` failed (exit {done.returncode}): {last}")


CREDENTIALS_HELP = (
    "set them the AWS way (`aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for a user with"
    " the policy `npx remotion lambda policies user` prints; vidgen never stores them"
)
RATE_HELP = (
    "new AWS accounts may run only 10 functions at once: lower [lambda] concurrency (or raise frames_per_lambda),"
    " or ask AWS for more with `npx remotion lambda quotas increase`, then run it again"
)


def clean(text: str) -> str:
    """Colour codes out, anything like an AWS key replaced."""
    return _SECRETS.sub("[hidden]", _ANSI.sub("", text))


def describe(argv: Sequence[str]) -> str:
    """`npx remotion lambda functions deploy`: the command without its options."""
    return " ".join(word for word in argv if not word.startswith("-"))


def function_names(output: str) -> list[str]:
    """The Remotion function names in a CLI's output (`functions ls -q`, `functions deploy`)."""
    return list(dict.fromkeys(re.findall(r"\bremotion-render-[a-z0-9-]+\b", output)))


def serve_url(output: str) -> str | None:
    """The site's Serve URL in `sites create`'s output."""
    found = re.findall(r"https://[^\s\"']+/sites/[^\s\"'/]+/index\.html", output)
    return found[-1] if found else None


def words(output: str) -> list[str]:
    """A quiet listing's names (`sites ls -q` prints them space-separated, `()` when there are none)."""
    return [word for word in output.split() if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", word)]
