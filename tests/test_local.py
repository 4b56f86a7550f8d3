"""`make dev`'s server and `make smoke` against it, with a fake GitHub behind it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from tests.conftest import free_port
from tools.fake_github import FakeGitHub
from tools.synth import ROOT


class LocalServer:
    def __init__(self, github_url: str, static_dir: Path | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "tools.local_server", "--port", str(self.port)]
        if static_dir is not None:
            args += ["--static-dir", str(static_dir)]
        env = {**os.environ, "GITHUB_API_URL": github_url, "PYTHONUNBUFFERED": "1"}
        env.pop("ALLOWED_ORIGINS", None)
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/", timeout=1)
                return
            except requests.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.communicate()[0]) from None
                time.sleep(0.05)
        raise RuntimeError("local server did not start")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=10)
        return out


@pytest.fixture(scope="module")
def server(fake_server: FakeGitHub) -> Iterator[LocalServer]:
    running = LocalServer(fake_server.url)
    yield running
    running.stop()


def smoke(base: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.smoke", base], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_smoke_passes_against_the_local_server(server: LocalServer):
    result = smoke(server.base)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("PASS ") for line in lines) == 5
    assert lines[-1] == "5 passed, 0 failed"


def broken_copy(tmp_path: Path, name: str, text: str | bytes) -> Path:
    static = tmp_path / "static"
    shutil.copytree(ROOT / "static", static)
    target = static / name
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    return static


@pytest.mark.parametrize(
    ("name", "change", "failing"),
    [
        ("ai-plugin.json", lambda t: t.replace("{{base_url}}/legal", "{{base_url}}/legal-gone"), "manifest:"),
        ("logo.png", lambda t: "not an image", "pages:"),
    ],
    ids=["manifest-url-404", "logo-not-png"],
)
def test_smoke_fails_on_exactly_the_broken_check(tmp_path: Path, fake_server: FakeGitHub, name, change, failing):
    original = (ROOT / "static" / name).read_bytes()
    text = change(original.decode("utf-8", errors="replace"))
    broken = LocalServer(fake_server.url, broken_copy(tmp_path, name, text))
    try:
        result = smoke(broken.base)
    finally:
        broken.stop()
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(failed) == 1, result.stdout
    assert failed[0].startswith(f"FAIL {failing}")


def test_paths_types_and_404s(server: LocalServer):
    expected = {
        "/": "text/html",
        "/index.html": "text/html",
        "/.well-known/ai-plugin.json": "application/json",
        "/openapi.yaml": "application/yaml",
        "/legal": "text/html",
        "/logo.png": "image/png",
    }
    for path, media in expected.items():
        response = requests.get(server.base + path, timeout=10)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(media), path
    missing = requests.get(server.base + "/nothing-here", timeout=10)
    assert missing.status_code == 404
    api_missing = requests.get(server.base + "/api/nothing", timeout=10)
    assert api_missing.status_code == 404 and api_missing.json()["error"]["code"] == "not_found"


def test_cors_for_chatgpt_with_preflight(server: LocalServer):
    origin = {"Origin": "https://chatgpt.com"}
    search = requests.get(server.base + "/api/search", params={"q": "x"}, headers=origin, timeout=10)
    assert search.headers["Access-Control-Allow-Origin"] == "https://chatgpt.com"
    manifest = requests.get(
        server.base + "/.well-known/ai-plugin.json", headers={"Origin": "https://chat.openai.com"}, timeout=10
    )
    assert manifest.headers["Access-Control-Allow-Origin"] == "https://chat.openai.com"
    preflight = requests.options(
        server.base + "/api/search", headers={**origin, "Access-Control-Request-Method": "GET"}, timeout=10
    )
    assert preflight.status_code == 204 and "GET" in preflight.headers["Access-Control-Allow-Methods"]
    other = requests.get(
        server.base + "/api/search", params={"q": "x"}, headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_sigterm_stops_cleanly(fake_server: FakeGitHub):
    running = LocalServer(fake_server.url)
    requests.get(running.base + "/api/search", params={"q": "x"}, timeout=10)
    out = running.stop()
    assert running.process.returncode == 0
    assert "/api/search?q=x 200" in out  # one line per request
    assert "http://127.0.0.1:" in out.splitlines()[0]  # the URLs to try, on start


def test_every_operation_conforms_to_the_spec(server: LocalServer):
    """Schemathesis, from the server's own /openapi.yaml: no server errors, every answer as specified."""
    api = schemathesis.openapi.from_url(server.base + "/openapi.yaml")
    results = list(api.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results  # Err: the spec could not be read
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert [op.label for op in operations] == ["GET /api/search"]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate()

        conforms()
