"""Run the MCP conformance suite against the local server, for both eras of the protocol.

    make conformance            # part of `make test`; installs the pinned suite and Node 22 first
    python -m tools.conformance [--url http://127.0.0.1:3333/mcp] [--keep DIR]

Four runs: the scenarios revision 2025-11-25 requires (legacy era), those 2026-07-28 requires
(modern era), the pending `http-header-validation` scenario by name, and the authorization
server scenarios against the local server with sign-in on (`--auth`), a headless person
(tools/signin_browser.py) completing the sign-in through the fake GitHub. Each is judged against
its committed list of expected failures (conformance/expected-*.yaml, one `scenario:check-id`
per line with its reason): any other failure or warning fails, and so does an entry that no
longer fails. Scenarios a revision does not score (extensions, pending ones) are not judged.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from tools.background import ROOT, LocalServer, free_port
from tools.signin_browser import Browser

SUITE_DIR = ROOT / "conformance"
NODE = SUITE_DIR / "node_modules" / ".bin" / "node"
CLI = SUITE_DIR / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
JUDGED = ("FAILURE", "WARNING")  # a warning counts as a failure
_TIMESTAMP = re.compile(r"-\d{4}-\d\d-\d\dT[\d-]+Z$")


@dataclass(frozen=True)
class Run:
    name: str
    args: tuple[str, ...]
    requirements: str | None  # the revision whose required scenarios are judged; None: the named scenario

    @property
    def baseline(self) -> Path:
        return SUITE_DIR / f"expected-{self.name}.yaml"


RUNS = (
    Run("2025-11-25", ("--requirements", "2025-11-25"), "2025-11-25"),
    Run("2026-07-28", ("--requirements", "2026-07-28"), "2026-07-28"),
    Run("http-header-validation", ("--scenario", "http-header-validation", "--spec-version", "2026-07-28"), None),
)
AUTHORIZATION = Run("authorization", (), None)  # every authorization server scenario the suite has


def expected_failures(path: Path) -> set[str]:
    entries = (yaml.safe_load(path.read_text()) or {}).get("server") or []
    return {str(entry) for entry in entries}


def required_scenarios(run: Run) -> set[str]:
    if run is AUTHORIZATION:
        every = subprocess.run([str(NODE), str(CLI), "list"], capture_output=True, text=True, check=True, timeout=60)
        part = every.stdout.split("Authorization server scenarios", 1)[1]
        return set(re.findall(r"^\s+- (\S+)", part, re.M))
    if run.requirements is None:
        return {run.args[1]}
    listing = subprocess.run(
        [str(NODE), str(CLI), "list", "--server", "--requirements", run.requirements],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    server_part = listing.split("Server scenarios", 1)[1].split("Client scenarios", 1)[0]
    return set(re.findall(r"^\s+- (\S+)", server_part, re.M))


def results(out_dir: Path) -> dict[str, list[dict[str, object]]]:
    """Checks per scenario, from the suite's `<dir>/server-<scenario>-<timestamp>/checks.json`."""
    found: dict[str, list[dict[str, object]]] = {}
    for checks in sorted(out_dir.glob("*/checks.json")):
        scenario = _TIMESTAMP.sub("", checks.parent.name).removeprefix("authorization-server-").removeprefix("server-")
        found.setdefault(scenario, []).extend(json.loads(checks.read_text()))
    return found


def summary(run: Run, ok: bool, scenarios: int, passed: int, expected: int) -> str:
    """The run's line in `make test`: a count of expected failures says where they are explained."""
    verdict = "PASS" if ok else "FAIL"
    line = f"{verdict} conformance {run.name}: {scenarios} scenarios, {passed} checks succeeded"
    if expected:
        line += f", {expected} expected failures (each with its reason: conformance/{run.baseline.name})"
    return line


def judge(run: Run, url: str, work: Path) -> list[str]:
    """What is wrong with one run, in lines a person can act on (empty: it passed)."""
    out_dir = work / run.name
    command = [str(NODE), str(CLI), "server", "--url", url, *run.args, "-o", str(out_dir)]
    command += ["--expected-failures", str(run.baseline)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    (work / f"{run.name}.log").write_text(done.stdout + done.stderr)
    return verdict(run, out_dir, done.returncode)


def judge_authorization(work: Path) -> list[str]:
    """The authorization server scenarios, against the local server with sign-in on: the suite
    prints the authorization URL and waits for its callback; a headless person signs in."""
    out_dir = work / AUTHORIZATION.name
    server = LocalServer(None, None, "--fake-github", "--auth")
    port = free_port()
    callback = f"http://127.0.0.1:{port}/callback"
    try:
        registration = json.dumps(
            {"client_name": "MCP conformance suite", "redirect_uris": [callback], "token_endpoint_auth_method": "none"}
        )
        request = urllib.request.Request(
            f"{server.base}/register", registration.encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            client_id = json.load(reply)["client_id"]
        command = [str(NODE), str(CLI), "authorization", "--url", server.base, "--client-id", client_id]
        command += ["--resource", f"{server.base}/mcp", "-p", str(port), "-o", str(out_dir)]
        suite = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log = []
        assert suite.stdout is not None
        for line in suite.stdout:
            log.append(line)
            if line.startswith(f"{server.base}/authorize?"):
                landed = Browser(callback).sign_in(line.strip())
                with urllib.request.urlopen(landed, timeout=10):  # the suite's callback server
                    pass
        returncode = suite.wait(timeout=60)
        (work / f"{AUTHORIZATION.name}.log").write_text("".join(log))
    finally:
        server.stop()
    return verdict(AUTHORIZATION, out_dir, returncode)


def verdict(run: Run, out_dir: Path, returncode: int) -> list[str]:
    required = required_scenarios(run)
    checks = results(out_dir)
    baseline = expected_failures(run.baseline)
    problems = [f"scenario {s} produced no results" for s in sorted(required - set(checks))]
    failing: set[str] = set()
    passed = 0
    for scenario in sorted(required & set(checks)):
        for check in checks[scenario]:
            key = f"{scenario}:{check.get('id')}"
            if check.get("status") in JUDGED:
                failing.add(key)
                if key not in baseline:
                    reason = str(check.get("errorMessage") or check.get("description") or "")[:200]
                    problems.append(f"unexpected {check.get('status')} {key}: {reason}")
            elif check.get("status") == "SUCCESS":
                passed += 1
    problems += [
        f"expected failure {key} no longer fails: remove it from {run.baseline.name}"
        for key in sorted(baseline - failing)
    ]
    if returncode != 0 and not problems:
        problems.append(f"the suite exited {returncode}; see {run.name}.log")
    print(summary(run, not problems, len(required), passed, len(failing & baseline)), flush=True)
    for problem in problems:
        print(f"  {problem}", flush=True)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an MCP endpoint already running; default: start the local server offline")
    parser.add_argument("--keep", type=Path, help="keep the suite's results and logs in this directory")
    args = parser.parse_args(argv)
    if not NODE.exists() or not CLI.exists():
        print(
            "the conformance suite is not installed: run `make conformance` (npm ci in conformance/)", file=sys.stderr
        )
        return 2
    server = None if args.url else LocalServer(None, None, "--fake-github")
    url = f"{server.base}/mcp" if server is not None else str(args.url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = args.keep or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            problems = [p for run in RUNS for p in judge(run, url, work)]
            if not args.url:
                problems += judge_authorization(work)
    finally:
        if server is not None:
            server.stop()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
