"""The video's code is untrusted: no network at render time, no secrets in the service, none in URLs shown."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vidgen import settings as settings_module
from vidgen.engine.protocol import RenderArgs, StillsArgs
from vidgen.engine.sandbox import (
    BROWSER_FLAGS,
    HELPER,
    NetworkSandbox,
    network_sandbox,
    require_network_sandbox,
    service_environment,
)
from vidgen.engine.service import RenderService
from vidgen.engine.session import Session
from vidgen.errors import UsageError
from vidgen.media import probe as media
from vidgen.model.providers import resolve, split_credentials
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.render import video as render

from .helpers import MOVING, VIDGEN, browser_pids, component, descendants, vidgen

ROOT = os.geteuid() == 0


class Recorder:
    """An HTTP server on the host's 127.0.0.1 that keeps the path of every request it gets."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return None

            def _answer(self) -> None:
                recorder.paths.append(self.path)
                body = b"export default 1;" if self.path.endswith(".js") else b"{}"
                self.send_response(200)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Type", "text/javascript" if self.path.endswith(".js") else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def calling_video(port: int) -> str:
    """A video that tries to reach 127.0.0.1:port eight ways, and waits until every try has ended.

    It bypasses the lint and imports stages (the test drives the service itself), as code would that
    slipped past them: the namespace is the wall under test.
    """
    body = f"""
const base = 'http://127.0.0.1:{port}';
// Asked for in a layout effect, which runs once the frame is committed: a handle asked for while
// rendering is lost (never continued) when React throws that render away and renders again.
React.useLayoutEffect(() => {{
  const handle = delayRender('network attempts');
  const xhr = () => new Promise<void>((done) => {{
    const request = new XMLHttpRequest();
    request.onloadend = () => done();
    request.open('GET', base + '/xhr');
    request.send();
  }});
  const image = () => new Promise<void>((done) => {{
    const img = new Image();
    img.onload = img.onerror = () => done();
    img.src = base + '/image';
  }});
  const tries: Array<() => unknown> = [
    () => fetch(base + '/fetch'),
    () => (globalThis as any)['fe' + 'tch'](base + '/global-fetch'),
    () => fetch('http://localhost:{port}/localhost'),
    () => new Function('u', 'return fetch(u)')(base + '/function'),
    () => (0, eval)("fetch('" + base + "/eval')"),
    xhr,
    image,
    () => import(/* webpackIgnore: true */ base + '/module.js'),
    () => navigator.sendBeacon(base + '/beacon', 'x'),
  ];
  // Each try gets 2 s to end: one that hangs (a refused connection Chromium retries) must not hold
  // the frame past its timeout; what reached the server is counted all the same.
  const bounded = (attempt: () => unknown) =>
    Promise.race([Promise.resolve().then(attempt), new Promise((done) => setTimeout(done, 2000))]);
  Promise.allSettled(tries.map(bounded))
    .then(() => new Promise((done) => setTimeout(done, 300)))
    .then(() => continueRender(handle));
}}, []);
return (
  <AbsoluteFill style={{{{backgroundColor: '#203060'}}}}>
    <img src={{base + '/img-tag'}} style={{{{width: 10, height: 10}}}} />
    <div style={{{{position: 'absolute', left: frame * 10, top: 120, width: 100, height: 100, backgroundColor: '#f7b733'}}}} />
  </AbsoluteFill>
);
"""
    return component(body, frames=30, imports="import {continueRender, delayRender} from 'remotion';")


# Each attempt ends within about 2.3 s; the rest is room for a busy machine (one CI run hit 13 s).
_FRAME_MS = 30000


def render_directly(service: RenderService, name: str, out: Path) -> Path:
    """Bundle, stills and an MP4 through the service, with no lint or imports stage in front."""
    bundled = service.bundle(timeout_s=240)
    assert not [d for d in bundled if name in str(d.file)], bundled
    out.mkdir(parents=True, exist_ok=True)
    # The service writes only where its jail lets it (stills and staging), as render.py has it do.
    stills = service.workspace.state_dir / "stills" / name
    service.stills(StillsArgs(name, [0, 15, 29], str(stills), _FRAME_MS), timeout_s=120)
    staged = service.workspace.state_dir / "staging" / f"{name}.mp4"
    service.render(RenderArgs(name=name, output=str(staged), codec="h264", timeout_ms=_FRAME_MS), timeout_s=240)
    output = out / f"{name}.mp4"
    shutil.move(staged, output)
    return output


@pytest.mark.render
def test_a_video_reaches_no_loopback_server_of_the_host(session: Session, make_video, workspace, recorder, tmp_path) -> None:
    assert session.settings.render.allow_network is False
    make_video("net-calls", {"index.tsx": calling_video(recorder.port)})
    output = render_directly(session.service, "net-calls", tmp_path)
    assert recorder.paths == []
    probed = media.probe(output, workspace)
    assert (probed.codec, probed.width, probed.height, probed.frames) == ("h264", 640, 360, 30)
    # Node (and so every Chromium it starts) lives in a network namespace other than ours (the jail's
    # launcher above them stays in ours to set it up).
    assert session.service.pid is not None
    inside = descendants(session.service.pid)
    assert inside and all(os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net") for pid in inside)


@pytest.mark.render
def test_the_same_video_does_reach_it_when_the_network_is_allowed(
    session: Session, make_video, workspace, recorder, tmp_path
) -> None:
    # The control for the test above: its attempts are real, and only the sandbox stops them.
    make_video("net-allowed", {"index.tsx": calling_video(recorder.port)})
    service = RenderService(workspace, replace(session.settings.render, allow_network=True))
    try:
        render_directly(service, "net-allowed", tmp_path)
    finally:
        service.stop()
    seen = set(recorder.paths)
    for path in ("/fetch", "/global-fetch", "/localhost", "/function", "/eval", "/xhr", "/image", "/module.js", "/img-tag"):
        assert path in seen, sorted(seen)


@pytest.mark.render
def test_the_browser_flags_alone_let_only_localhost_through(session: Session, make_video, workspace, recorder, tmp_path) -> None:
    # The second wall, inside Chromium, tried without the namespace: every address but localhost
    # (which the bundle server needs) resolves to nothing, IP literals included.
    make_video("net-flags", {"index.tsx": calling_video(recorder.port)})
    flags = f"{session.settings.render.browser_flags} {shlex.join(BROWSER_FLAGS)}"
    service = RenderService(workspace, replace(session.settings.render, allow_network=True, browser_flags=flags))
    try:
        render_directly(service, "net-flags", tmp_path)
    finally:
        service.stop()
    assert set(recorder.paths) == {"/localhost"}


@pytest.mark.render
def test_a_sandboxed_render_is_a_correct_video(session: Session, make_video, workspace) -> None:
    video = make_video("net-moving", {"index.tsx": component(MOVING, frames=45)})
    result = render.render(session, video, previews=False)
    assert result.error is None, result.error
    probed = media.probe(result.output, workspace)
    assert (probed.codec, probed.width, probed.height, probed.frames) == ("h264", 640, 360, 45)
    assert session.service.sandbox is not None and session.service.sandbox.active


@pytest.mark.render
def test_the_service_and_chromium_start_without_secrets(workspace, monkeypatch) -> None:
    marker = "marker-7f3a9c-secret"
    for variable in ("ZAI_API_KEY", "OPENAI_API_KEY", "VIDGEN_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.setenv(variable, marker)
    monkeypatch.setenv("VIDGEN_BASE_URL", f"http://user:{marker}@127.0.0.1:9/v1")
    monkeypatch.setenv("https_proxy", f"http://user:{marker}@127.0.0.1:9")
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=999")
    service = RenderService(workspace, settings_module.load(workspace.root).render)
    try:
        service.start()  # the service opens its browser as it starts, as the daemon's warm start relies on
        assert service.pid is not None
        # The browser and its helpers (zygotes, GPU, network) start a moment later: on a busy machine, later still.
        deadline = time.monotonic() + 120
        while len((members := descendants(service.pid)) & browser_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(members & browser_pids()) >= 2, "the browser and its helpers should be running"
        for pid in [service.pid, *members]:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert marker.encode() not in environ, pid
            names = {entry.split(b"=", 1)[0] for entry in environ.split(b"\0") if entry}
            # (Debian's chromium wrapper sets a GOOGLE_API_KEY of its own: the browser's, not the user's.)
            assert not names & {b"ZAI_API_KEY", b"OPENAI_API_KEY", b"VIDGEN_API_KEY", b"VIDGEN_BASE_URL", b"NODE_OPTIONS"}, pid
    finally:
        service.stop()


def test_the_environment_is_an_allowlist() -> None:
    source = {"PATH": "/bin", "HOME": "/root", "LC_ALL": "C.UTF-8", "ZAI_API_KEY": "k", "VIDGEN_MODEL": "m", "AWS_SECRET": "s"}
    env = service_environment({"VIDGEN_SERVICE_SETTINGS": "{}"}, source)
    assert env == {"PATH": "/bin", "HOME": "/root", "LC_ALL": "C.UTF-8", "VIDGEN_SERVICE_SETTINGS": "{}"}


def _connect_from(command_prefix: list[str], port: int) -> subprocess.CompletedProcess:
    # bash's /dev/tcp: an executable any user may run, unlike a Python under /root.
    connect = f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"
    return subprocess.run([*command_prefix, "/bin/bash", "-c", connect], capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(not ROOT or not shutil.which("setpriv"), reason="needs root to try both ways")
def test_the_namespace_helper_as_root_and_as_an_unprivileged_user(recorder) -> None:
    helper = [sys.executable, "-I", "-S", str(HELPER)]
    assert "connected" in _connect_from([], recorder.port).stdout  # the server is up, seen from here
    as_root = _connect_from(helper, recorder.port)
    assert as_root.returncode != 0 and "Connection refused" in as_root.stderr
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*nobody, *helper, "--probe"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"unprivileged user namespaces are off here: {probe.stderr.strip()}")
    assert probe.stdout.strip() == "user namespace"
    unprivileged = _connect_from([*nobody, *helper], recorder.port)
    assert unprivileged.returncode != 0 and "Connection refused" in unprivileged.stderr
    assert network_sandbox().describe() == "network namespace (unshare)"


@pytest.mark.skipif(not ROOT or not shutil.which("unshare") or not shutil.which("setpriv"), reason="needs root")
def test_where_no_namespace_can_be_made_vidgen_refuses_to_render(workspace) -> None:
    # A user namespace that may hold no more of them, and no capabilities: neither way works there.
    no_namespaces = (
        "echo 0 > /proc/sys/user/max_user_namespaces && "
        f'exec setpriv --bounding-set=-all --inh-caps=-all {shlex.join(VIDGEN)} "$@"'
    )
    done = subprocess.run(
        # In the command's own process: a daemon started elsewhere would render in its own namespace.
        ["unshare", "--user", "--map-root-user", "sh", "-c", no_namespaces, "sh", "check", "hello", "--no-daemon"],
        cwd=workspace.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    # bubblewrap needs namespaces too: the file jail is the first wall refused.
    assert len(errors) == 1 and "refusing to render without the file sandbox" in errors[0], done.stderr
    assert "allow_unsandboxed = true" in errors[0] and "Traceback" not in done.stderr


def test_without_a_sandbox_rendering_is_refused_unless_allowed() -> None:
    none = NetworkSandbox("", "unshare: Operation not permitted")
    with pytest.raises(UsageError) as refused:
        require_network_sandbox(False, none)
    message = str(refused.value)
    assert "\n" not in message and "allow_network = true" in message and "root" in message and "user namespaces" in message
    assert require_network_sandbox(True, none) is none
    assert none.describe() == "none"


def test_allow_network_is_a_documented_setting_off_by_default(tmp_path: Path) -> None:
    assert "allow_network = false" in settings_module.DEFAULT_TOML
    assert settings_module.RenderSettings().allow_network is False
    (tmp_path / "vidgen.toml").write_text("[render]\nallow_network = true\n")
    assert settings_module.load(tmp_path).render.allow_network is True


def test_doctor_shows_the_network_sandbox(workspace) -> None:
    done = vidgen("doctor", cwd=workspace.root)
    line = next(line for line in done.stdout.splitlines() if "network sandbox" in line)
    # The jail's own network namespace, where bubblewrap runs (test_file_jail.py requires it here).
    assert line.startswith("ok") and "network namespace (bubblewrap)" in line, done.stdout


# ---------------------------------------------------------------- credentials in a base URL

SECRET = "secretpass"


def test_credentials_are_taken_out_of_the_base_url(monkeypatch) -> None:
    monkeypatch.delenv("VIDGEN_API_KEY", raising=False)
    assert split_credentials("https://me:p%40ss@host:8/v1") == ("https://host:8/v1", ("me", "p@ss"))
    assert split_credentials("https://host/v1") == ("https://host/v1", None)
    endpoint = resolve("ollama", f"http://me:{SECRET}@127.0.0.1:9/v1")
    assert endpoint.base_url == "http://127.0.0.1:9/v1" and endpoint.auth == ("me", SECRET)
    assert SECRET not in repr(endpoint)


def _files_holding(root: Path, text: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


@pytest.mark.render
def test_a_base_url_password_appears_in_no_output_or_file(workspace, tmp_path: Path) -> None:
    good = f"```tsx index.tsx\n{component(MOVING)}```\n"

    def url(server: ScriptedModel) -> str:
        return server.base_url.replace("http://", f"http://user:{SECRET}@")

    flags = ["--json", "--provider", "ollama"]
    outputs = []
    with ScriptedModel(lambda body: Scripted(status=401, error_message="bad key")) as denied:
        refused = vidgen("new", "a square", "--name", "net-cred-denied", "--base-url", url(denied), *flags, cwd=workspace.root)
        assert refused.returncode == 3 and "refused the API key" in refused.stderr, refused.stderr
        outputs.append(refused)
        batch_file = tmp_path / "denied.txt"
        batch_file.write_text("a denied square\n")
        outputs.append(vidgen("batch", str(batch_file), "--base-url", url(denied), *flags, cwd=workspace.root))
    with ScriptedModel(lambda body: Scripted(good)) as server:
        created = vidgen(
            "new", "a square", "--name", "net-cred", "--no-render", "--base-url", url(server), *flags, cwd=workspace.root
        )
        assert created.returncode == 0, created.stderr
        outputs.append(created)
        outputs.append(vidgen("show", "net-cred", cwd=workspace.root))
        batch_file = tmp_path / "creds.jsonl"
        batch_file.write_text(json.dumps({"prompt": "a square", "name": "net-cred-batch"}) + "\n")
        report = tmp_path / "report.html"
        batched = vidgen("batch", str(batch_file), "--report", str(report), "--base-url", url(server), *flags, cwd=workspace.root)
        assert batched.returncode == 0, batched.stderr
        outputs.append(batched)
        # The credentials still reach the endpoint they were given for, as Basic auth.
        assert all(r["headers"].get("Authorization", "").startswith("Basic ") for r in server.requests)
    try:
        for done in outputs:
            assert SECRET not in done.stdout and SECRET not in done.stderr, done.args
        assert _files_holding(workspace.state_dir, SECRET) == []
        assert report.exists() and SECRET not in report.read_text()
    finally:
        for name in ("net-cred", "net-cred-denied", "net-cred-batch"):
            shutil.rmtree(workspace.video(name).folder, ignore_errors=True)
            shutil.rmtree(workspace.state_dir / "history" / name, ignore_errors=True)
