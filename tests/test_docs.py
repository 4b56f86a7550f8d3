"""The README is a page read in minutes, and what it and docs/ say runs as written: every link
lands on a page and a heading that exist, every make target and config key they name is real,
each "Try it locally" row answers what it says, and the SDK example signs in and searches."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import readme_section
from tools.background import LocalServer, free_port
from tools.synth import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.M)
FENCE = re.compile(r"```.*?```", re.S)
CODE = re.compile(r"`([^`\n]+)`")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but hyphens and spaces dropped."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(h) for h in HEADING.findall(FENCE.sub("", page.read_text()))}


def code(page: Path) -> list[str]:
    """What a page shows as commands: its code blocks' lines and its inline code."""
    text = page.read_text()
    blocks = [line for block in FENCE.findall(text) for line in block.splitlines()]
    return blocks + CODE.findall(FENCE.sub("", text))


def test_the_readme_is_a_page_read_in_minutes():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.split()) <= 3_000
    sections = re.findall(r"^## (.+)$", readme, re.M)
    assert sections == [
        "Quick start",
        "Try it locally",
        "Connect your assistant",
        "Deploy to AWS",
        "Configuration",
        "Documentation",
        "Troubleshooting",
        "Development",
    ]
    linked = set(LINK.findall(readme_section("Documentation")))
    assert {f"docs/{p.name}" for p in PAGES[1:]} <= linked  # every page of docs/ has its reader


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_link_lands_on_a_page_and_a_heading_that_exist(page: Path):
    broken = []
    for target in LINK.findall(FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            broken.append(target)
    assert broken == []


def test_every_make_target_and_config_key_the_docs_name_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    projects = (ROOT / "Pulumi.yaml", ROOT / "bootstrap" / "Pulumi.yaml")  # the stack's keys and bootstrap/'s
    keys = {key for p in projects for key in yaml.safe_load(p.read_text()).get("config", {})} | {"aws:region"}
    named_targets, named_keys = set(), set()
    for page in PAGES:
        for line in code(page):
            named_targets |= set(re.findall(r"\bmake (?:-s )?([a-z][a-z-]*)", line))
            named_keys |= set(re.findall(r"\bpulumi config (?:set|rm|get) (?:--secret )?([A-Za-z:]+)", line))
    assert named_targets and named_targets <= targets, named_targets - targets
    assert named_keys and named_keys <= keys, named_keys - keys


# -- "Try it locally", as written ----------------------------------------------------------------

# What each offline row's command prints when the row holds (the README says it in words).
ANSWERS = {
    "offline": ['"full_name"', '"repos"'],
    "sign-in": ["PASS sign-in", " 0 failed"],
    "private repositories": ['"full_name":"acme/private-plans"'],
    "a fence": ["outside_scope", "org:acme"],
    "as deployed": ["HTTP/1.1 401", "WWW-Authenticate: Bearer resource_metadata="],
}


def rows() -> list[tuple[str, str, str]]:
    """(mode, start, try) of each row of the README's table."""
    found = []
    for line in readme_section("Try it locally").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`make dev"):
            found.append((cells[0], cells[1].strip("`"), cells[2].strip("`")))
    return found


def test_the_table_names_every_mode_and_the_offline_ones_are_run():
    modes = [mode for mode, _, _ in rows()]
    assert modes == ["real GitHub", *ANSWERS]  # the first needs github.com, which tests never reach


@pytest.fixture
def started(request: pytest.FixtureRequest) -> Iterator[int]:
    """The row's `make dev` line, run as written on a port the server picks (PORT=0, read from its
    banner: a port chosen here could be taken by another test's server before this one binds it),
    until the test ends."""
    process = subprocess.Popen(
        ["bash", "-c", request.param],
        cwd=ROOT,
        env={**os.environ, "PORT": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ports: queue.Queue[int] = queue.Queue()

    def read() -> None:  # to the end: a server whose pipe fills up stops mid-write
        assert process.stdout is not None
        for line in process.stdout:
            found = BANNER.search(line)
            if found:
                ports.put(int(found.group(1)))

    threading.Thread(target=read, daemon=True).start()
    try:
        port = ports.get(timeout=60)
    except queue.Empty:
        os.killpg(process.pid, signal.SIGTERM)
        raise AssertionError(f"{request.param} printed no banner in 60 s") from None
    yield port
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=10)


BANNER = re.compile(r"local: http://127\.0\.0\.1:(\d+)")
OFFLINE = [(mode, start, attempt) for mode, start, attempt in rows() if mode in ANSWERS]


@pytest.mark.parametrize(
    ("started", "mode", "attempt"), [(s, m, a) for m, s, a in OFFLINE], indirect=["started"], ids=list(ANSWERS)
)
def test_each_mode_answers_what_the_readme_says(started: int, mode: str, attempt: str):
    command = attempt.replace("127.0.0.1:3333", f"127.0.0.1:{started}")
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    said = done.stdout + done.stderr
    assert all(answer in said for answer in ANSWERS[mode]), said[-2000:]


# -- the SDK example -----------------------------------------------------------------------------


def test_the_sdk_example_signs_in_and_searches(fake_server: object):
    running = LocalServer(None, None, "--fake-github", "--auth")
    try:
        env = {
            **os.environ,
            "URL": running.base,
            "CALLBACK_PORT": str(free_port()),
            # What Python's webbrowser runs instead of a browser: a person who approves the
            # consent page (the fake GitHub approves at once); "&": it does not wait for it.
            "BROWSER": f"{sys.executable} -m tools.signin_browser %s &",
            "PYTHONPATH": str(ROOT),
        }
        done = subprocess.run(
            [sys.executable, str(ROOT / "docs" / "examples" / "search_with_sign_in.py")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        running.stop()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all(re.fullmatch(r"[\w.-]+/[\w.-]+ \d+ https://github\.com/\S+", x) for x in lines)
