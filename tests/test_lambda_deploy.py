"""`vidgen lambda deploy/status/remove`: the exact argv vidgen gives Remotion's CLI (a real program on PATH records it),
its failures as one line with exit 3, and [lambda]'s values checked before anything runs."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, vidgen
from tests.lambda_fakes import FUNCTION, SERVE_URL, VERSION, FakeNpx, lambda_workspace
from vidgen import settings as settings_module
from vidgen.cloud import deployment, remotion_cli, versions
from vidgen.errors import CloudError, UsageError
from vidgen.settings import LambdaSettings

REPO = Path(__file__).resolve().parent.parent
LAMBDA = ["npx", "--no-install", "remotion", "lambda"]
TOML = '[lambda]\nregion = "eu-central-1"\nmemory_mb = 3008\ndisk_mb = 4096\ntimeout_s = 240\nsite_name = "my-site"\n'


def test_deploy_runs_remotions_cli_with_the_lambda_table(tmp_path: Path, npx: FakeNpx) -> None:
    workspace = lambda_workspace(tmp_path / "ws", TOML)
    done = vidgen("lambda", "deploy", "--json", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert npx.calls() == [
        [
            "--no-install",
            *LAMBDA[2:],
            "functions",
            "deploy",
            "--region=eu-central-1",
            "--memory=3008",
            "--disk=4096",
            "--timeout=240",
            "--yes",
        ],
        ["--no-install", *LAMBDA[2:], "sites", "create", "src/index.ts", "--site-name=my-site", "--region=eu-central-1", "--yes"],
    ]
    made = json.loads(done.stdout)
    assert made["function_name"] == FUNCTION and made["serve_url"] == SERVE_URL and made["version"] == VERSION
    assert deployment.read(workspace) == deployment.Deployment("eu-central-1", FUNCTION, "my-site", SERVE_URL, VERSION)


def test_status_says_which_function_matches_the_workspaces_version(tmp_path: Path, npx: FakeNpx) -> None:
    workspace = lambda_workspace(tmp_path / "ws")
    deployment.deploy(workspace, LambdaSettings())
    older = "remotion-render-4-0-400-mem2048mb-disk2048mb-120sec"
    npx.answer("functions-ls", stdout=f"{FUNCTION} {older}\n")
    npx.answer("sites-ls", stdout="vidgen other-site\n")
    done = vidgen("lambda", "status", "--json", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["functions"] == [
        {"name": FUNCTION, "version": VERSION, "matches": True},
        {"name": older, "version": "4.0.400", "matches": False},
    ]
    assert found["sites"] == ["vidgen", "other-site"] and found["ready"] is True
    assert npx.calls()[-2:] == [
        ["--no-install", "remotion", "lambda", "functions", "ls", "--region=us-east-1", "--quiet"],
        ["--no-install", "remotion", "lambda", "sites", "ls", "--region=us-east-1", "--quiet"],
    ]
    npx.answer("functions-ls", stdout=f"{older}\n")  # someone removed ours
    assert deployment.status(workspace, LambdaSettings())["ready"] is False


def test_remove_removes_the_function_and_the_site_then_the_record(tmp_path: Path, npx: FakeNpx) -> None:
    workspace = lambda_workspace(tmp_path / "ws")
    deployment.deploy(workspace, LambdaSettings())
    done = vidgen("lambda", "remove", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert npx.calls()[-2:] == [
        ["--no-install", "remotion", "lambda", "functions", "rm", FUNCTION, "--region=us-east-1", "--yes"],
        ["--no-install", "remotion", "lambda", "sites", "rm", "vidgen", "--region=us-east-1", "--yes"],
    ]
    assert deployment.read(workspace) is None
    assert_one_line_error(vidgen("lambda", "remove", cwd=workspace.root), 2, "nothing is deployed")


@pytest.mark.parametrize(
    ("stderr", "fragments"),
    [
        ("CredentialsProviderError: Could not load credentials from any providers\n", ["no credentials", "aws configure"]),
        ("UnrecognizedClientException: The security token included in the request is invalid.\n", ["refused them"]),
        ("TooManyRequestsException: Rate Exceeded.\n", ["rate limit", "10 functions"]),
        ("Bundling...\nError: the bucket policy could not be set\n", ["failed (exit 1)", "bucket policy could not be set"]),
    ],
)
def test_a_failing_cli_is_one_clear_error(tmp_path: Path, npx: FakeNpx, stderr: str, fragments: list[str]) -> None:
    workspace = lambda_workspace(tmp_path / "ws")
    npx.answer("functions-deploy", stderr=f"\x1b[31m{stderr}\x1b[0m", exit=1)
    with pytest.raises(CloudError) as raised:
        deployment.deploy(workspace, LambdaSettings())
    line = str(raised.value)
    assert "\n" not in line and "\x1b" not in line and raised.value.exit_code == 3
    for fragment in ["`npx remotion lambda functions deploy`", *fragments]:
        assert fragment in line, line
    assert deployment.read(workspace) is None


def test_a_failing_cli_exits_3_with_one_line(tmp_path: Path, npx: FakeNpx) -> None:
    workspace = lambda_workspace(tmp_path / "ws")
    npx.answer("functions-deploy", stderr="Could not load credentials from any providers\n", exit=1)
    assert_one_line_error(vidgen("lambda", "deploy", cwd=workspace.root), 3, "no credentials")


def test_a_key_the_cli_prints_is_never_shown(tmp_path: Path, npx: FakeNpx) -> None:
    workspace = lambda_workspace(tmp_path / "ws")
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    npx.answer("sites-create", stderr=f"Error: signing failed for AKIAIOSFODNN7EXAMPLE with {secret}\n", exit=1)
    done = vidgen("lambda", "deploy", "--json", cwd=workspace.root)
    assert done.returncode == 3
    assert "AKIAIOSFODNN7EXAMPLE" not in done.stdout + done.stderr and secret not in done.stdout + done.stderr
    assert json.loads(done.stdout)["error"]["code"] == "lambda"


def test_without_remotions_lambda_package_it_says_how_to_install_it(tmp_path: Path, npx: FakeNpx) -> None:
    bare = lambda_workspace(tmp_path / "ws")
    for path in sorted((bare.root / "node_modules").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    done = vidgen("lambda", "status", cwd=bare.root)
    assert_one_line_error(done, 2, f"npm install --save-exact @remotion/lambda@{VERSION}")
    assert npx.calls() == []


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('region = "us-east-1 --yes; rm -rf ~"', "lambda.region"),
        ('region = "--profile=evil"', "lambda.region"),
        ('site_name = "--yes"', "lambda.site_name"),
        ('site_name = "a b$(touch pwned)"', "lambda.site_name"),
        ("memory_mb = 100", "lambda.memory_mb = 100 is outside 512 to 10240"),
        ("timeout_s = 901", "lambda.timeout_s"),
        ("frames_per_lambda = 20\nconcurrency = 5", "both set"),
        ("unknown = 1", "unknown setting lambda.unknown"),
    ],
)
def test_lambda_settings_are_checked_before_anything_runs(tmp_path: Path, toml: str, fragment: str) -> None:
    (tmp_path / "vidgen.toml").write_text(f"[lambda]\n{toml}\n")
    with pytest.raises(UsageError, match=re.escape(fragment)) as raised:
        settings_module.load(tmp_path)
    assert "\n" not in str(raised.value) and "rm -rf" not in str(raised.value)


def test_a_bad_lambda_setting_stops_deploy_before_npx(tmp_path: Path, npx: FakeNpx) -> None:
    workspace = lambda_workspace(tmp_path / "ws", '[lambda]\nsite_name = "x $(touch pwned)"\n')
    assert_one_line_error(vidgen("lambda", "deploy", cwd=workspace.root), 2, "lambda.site_name")
    assert npx.calls() == [] and not (workspace.root / "pwned").exists()


def test_a_hostile_name_never_becomes_an_option() -> None:
    for name in ("--yes", "-f", "a;b", "../x", ""):
        with pytest.raises(UsageError, match="not a name Remotion gives"):
            remotion_cli.remove_argv("functions", name, LambdaSettings())


def test_the_client_pin_is_the_templates_remotion_version() -> None:
    """One version for Node and Python: package.json's `remotion`, the pyproject pin and the installed client."""
    template = versions.template_version(REPO / "remotion-template")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert f"remotion-lambda=={template}" in extras["lambda"] and f"remotion-lambda=={template}" in extras["dev"]
    assert versions.client_version() == template
    lock = json.loads((REPO / "remotion-template" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/remotion"]["version"] == template


def test_versions_that_differ_are_named_both() -> None:
    with pytest.raises(CloudError, match="client is 4.0.400 but the workspace's Remotion is 4.0.527"):
        versions.require_client("4.0.527", "4.0.400")
    with pytest.raises(CloudError, match="runs Remotion 4.0.400 but the workspace's is 4.0.527"):
        versions.require_function("remotion-render-4-0-400-mem2048mb-disk2048mb-120sec", "4.0.527")
    assert versions.function_version("remotion-render-4-0-527-mem3008mb-disk2048mb-240sec") == "4.0.527"
