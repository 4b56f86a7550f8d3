"""`make dev`'s server and `make smoke` against it, with a fake GitHub behind it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from tests.conftest import TOKEN, free_port
from tools.background import LocalServer, server_env
from tools.fake_github import FakeGitHub, repository
from tools.synth import ROOT


@pytest.fixture(scope="module")
def server(fake_server: FakeGitHub) -> Iterator[LocalServer]:
    running = LocalServer(fake_server.url, env={"GITHUB_TOKEN": TOKEN})  # code search needs one
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
    assert sum(line.startswith("PASS ") for line in lines) == 7
    assert lines[-1] == "7 passed, 0 failed"


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


def test_a_server_that_has_logged_more_than_a_pipe_holds_still_answers(fake_server: FakeGitHub):
    """A line per request: a test's long-lived server writes more than a pipe's 64 KiB, and must
    not stop mid-write because nobody reads it until the end (it did, after 1,341 short requests)."""
    running = LocalServer(fake_server.url)
    try:
        with requests.Session() as session:
            for n in range(360):  # about 240 bytes logged each: 86 KB
                q = f"{n:03d} " + "x" * 200
                answer = session.get(running.base + "/api/search", params={"q": q}, timeout=10)
                assert answer.status_code == 200
    finally:
        out = running.stop()
    assert len(out) > 80_000 and "/api/search?q=359+xxx" in out


def test_every_operation_conforms_to_the_spec(server: LocalServer):
    """Schemathesis, from the server's own /openapi.yaml: no server errors, every answer as specified."""
    api = schemathesis.openapi.from_url(server.base + "/openapi.yaml")
    results = list(api.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results  # Err: the spec could not be read
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert [op.label for op in operations] == [
        "GET /api/search",
        "GET /api/search/code",
        "GET /api/search/issues",
        "GET /api/repos/{owner}/{repo}",
        "GET /api/repos/{owner}/{repo}/contents/{path}",
    ]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate()

        conforms()


# -- parallel load, every verb, bad settings, odd hosts ------------------------------------------


def test_two_hundred_parallel_searches_each_answer_as_alone(server: LocalServer, fake_server: FakeGitHub):
    def one(n: int) -> tuple[int, dict]:
        response = requests.get(server.base + "/api/search", params={"q": f"parallel {n}", "limit": "3"}, timeout=30)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, range(200)))
    assert [status for status, _ in answers] == [200] * 200
    for n, (_, payload) in enumerate(answers):
        assert payload == {
            "total_count": 4242,
            "incomplete_results": False,
            "repos": [
                {k: repo[k] for k in ("full_name", "private", "description", "language", "topics", "updated_at")}
                | {"url": repo["html_url"], "star": repo["stargazers_count"]}
                for repo in (repository(i, f"parallel {n}") for i in range(1, 4))
            ],
        }


@pytest.mark.parametrize("verb", ["POST", "PUT", "PATCH", "DELETE", "TRACE", "BREW"])
@pytest.mark.parametrize("path", ["/api/search?q=x", "/openapi.yaml", "/"])
def test_every_other_verb_gets_405_json(server: LocalServer, verb: str, path: str):
    response = requests.request(verb, server.base + path, data=b"{}", timeout=10)
    assert response.status_code == 405, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_options_on_a_file_that_exists_is_204_without_origin(server: LocalServer):
    response = requests.options(server.base + "/openapi.yaml", timeout=10)
    assert response.status_code == 204
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert requests.options(server.base + "/nothing-here", timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("env", "args", "says"),
    [
        ({"PORT": "eighty"}, [], "PORT must be a number"),
        ({"GITHUB_API_URL": "ftp://github.example"}, [], "GITHUB_API_URL must be an http(s) URL"),
        ({"UPSTREAM_READ_TIMEOUT": "soon"}, [], "UPSTREAM_READ_TIMEOUT must be a positive number"),
        ({"UPSTREAM_CONNECT_TIMEOUT": "-1"}, [], "UPSTREAM_CONNECT_TIMEOUT must be a positive number"),
        ({}, ["--port", "BUSY"], "cannot listen on 127.0.0.1:"),
        ({"SEARCH_SCOPE": "org:acme repo:just-a-name"}, [], "SEARCH_SCOPE: 'repo:just-a-name': a repository is"),
    ],
    ids=["port-not-a-number", "bad-api-url", "bad-read-timeout", "negative-connect-timeout", "busy-port", "bad-fence"],
)
def test_bad_settings_stop_the_server_with_one_line(env, args, says):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        args = [a.replace("BUSY", str(busy.getsockname()[1])) for a in args]
        done = subprocess.run(
            [sys.executable, "-m", "tools.local_server", *args],
            cwd=ROOT,
            env=server_env(None, **env),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("local server not started: ") and says in line
    assert "Traceback" not in done.stderr


def test_unreachable_github_names_the_host_and_the_offline_mode():
    running = LocalServer(f"http://127.0.0.1:{free_port()}")
    try:
        response = requests.get(running.base + "/api/search", params={"q": "x"}, timeout=10)
    finally:
        running.stop()
    assert response.status_code == 502
    message = response.json()["error"]["message"]
    assert "could not reach GitHub at 127.0.0.1" in message and "make dev FAKE=1" in message


def test_fake_mode_banner_says_no_token_is_needed():
    running = LocalServer(None, None, "--fake-github")
    try:
        assert requests.get(running.base + "/api/search", params={"q": "x"}, timeout=10).status_code == 200
        # Every tool works offline, code search too (GitHub's needs a token; the fake takes any).
        code = requests.get(running.base + "/api/search/code", params={"q": "x"}, timeout=10)
        assert code.status_code == 200 and code.json()["hits"]
    finally:
        out = running.stop()
    banner = out.splitlines()[0]
    assert "fake GitHub" in banner and "no token needed" in banner
    assert "without a token" not in banner


def test_smoke_passes_with_localhost_in_the_url(server: LocalServer):
    base = f"http://localhost:{server.port}"
    result = smoke(base)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = requests.get(base + "/.well-known/ai-plugin.json", timeout=10).json()
    assert manifest["api"]["url"] == f"{base}/openapi.yaml"
    spoofed = requests.get(server.base + "/openapi.yaml", headers={"Host": "evil.example"}, timeout=10)
    assert f"url: {server.base}" in spoofed.text and "evil.example" not in spoofed.text


def test_access_log_escapes_control_characters_and_caps_length(fake_server: FakeGitHub):
    running = LocalServer(fake_server.url)
    try:
        with socket.create_connection(("127.0.0.1", running.port), timeout=10) as raw:
            raw.sendall(b"GET /api/search?q=\x1b[31mred\x07 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            while raw.recv(65536):
                pass
        requests.get(running.base + "/api/search", params={"q": "y" * 5000}, timeout=10)
    finally:
        out = running.stop()
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31mred\\x07" in out
    assert max(len(line) for line in out.splitlines()) < 400
