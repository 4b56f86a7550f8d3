"""What a newcomer sees the first time: a line before the long quiet install, and conformance
results that say where their expected failures are explained."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import readme_section
from tools.conformance import RUNS, summary
from tools.synth import ROOT


def test_the_first_install_says_what_it_is_doing_before_it_starts(tmp_path: Path):
    done = subprocess.run(
        ["make", "-n", "install", f"VENV={tmp_path / 'fresh'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    commands = done.stdout.splitlines()
    announce = next(n for n, c in enumerate(commands) if c.startswith("echo") and "about a minute" in c)
    install = next(n for n, c in enumerate(commands) if "pip install" in c)
    assert announce < install
    assert "about a minute" in readme_section("Quick start")


def test_a_conformance_pass_with_expected_failures_names_the_file_that_explains_them():
    for run in RUNS:
        line = summary(run, True, 30, 34, 26)
        assert line.startswith(f"PASS conformance {run.name}:")
        assert f"conformance/expected-{run.name}.yaml" in line
        assert (ROOT / "conformance" / f"expected-{run.name}.yaml").exists()
    assert "expected" not in summary(RUNS[0], True, 1, 14, 0)  # nothing to explain
    development = (ROOT / "docs" / "development.md").read_text()
    assert "conformance/expected-*.yaml" in development and "names the file" in development


# -- commands that used to fail badly ------------------------------------------------------------


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_smoke_against_a_url_nobody_answers_says_so_in_one_line():
    from tools.background import free_port

    for url, says in ((f"http://127.0.0.1:{free_port()}", "nothing listens there"), ("https://x.invalid", "resolve")):
        done = run("-m", "tools.smoke", url)
        assert done.returncode == 1 and done.stdout == "", done.stdout
        assert done.stderr.strip().splitlines() == [done.stderr.strip()] and says in done.stderr
        assert "Traceback" not in done.stderr and f"smoke test not run: {url} cannot be reached" in done.stderr


def test_smoke_without_a_token_prints_the_line_that_gets_one(fake_server: Any):
    from tools.background import LocalServer

    running = LocalServer(None, None, "--fake-github", "--auth")
    try:
        done = run("-m", "tools.smoke", running.base, env={"SMOKE_TOKEN": ""})
        line = f"make smoke URL={running.base} TOKEN=$(make -s token URL={running.base})"
        skipped = [s for s in done.stdout.splitlines() if s.startswith("SKIP")]
        assert skipped and all(s.endswith(f"pass a token: {line}") for s in skipped)
        assert f"smoke test    {line}" in running.output()  # the banner's own line, the same
    finally:
        running.stop()


def test_a_refused_token_says_why_in_a_line_not_a_page(fake: Any):
    """`make token` for someone the owner did not allow printed the refusal page's raw HTML."""
    from tests.signin_helpers import signin_server

    running = signin_server(fake, "http://127.0.0.1:1", AUTH_ALLOWED_USERS="hubot")
    try:
        done = run("-m", "tools.get_token", running.base)  # no FAKE=1: the fake GitHub is recognised
        assert done.returncode == 1 and done.stdout == ""
        assert "no token: the sign-in was refused (HTTP 403): octocat may not use this service" in done.stderr
        assert "<" not in done.stderr and "Open this URL" not in done.stderr
    finally:
        running.stop()


def test_a_bad_allowed_origin_stops_the_server_with_one_line():
    for name, value in (
        ("ALLOWED_ORIGINS", "foo"),
        ("MCP_ALLOWED_ORIGINS", "claude.ai"),
        ("ALLOWED_ORIGINS", "*"),
    ):
        done = run("-m", "tools.local_server", "--fake-github", "--port", "0", env={name: value})
        assert done.returncode == 2, (name, value, done.stdout)
        assert done.stderr.startswith(f"local server not started: {name}: ") and "is not an origin" in done.stderr
