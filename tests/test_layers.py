"""The function's parts stay layered: nothing imports a part above its own, and only the standard
library comes from outside. Read from the source with `ast`, every import statement counted:
lazy ones inside functions (sign-in and the MCP front are imported lazily) and typing-only ones
too. Then, at run time, the parts a request does not need are not loaded.

    app (entry, REST front)
      -> mcp_front, signin (siblings: neither imports the other)
        -> search -> (the standard library)
      proxy: the bottom; mcp_front, signin and app use it, search does not
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.function_code import LAMBDA_HANDLER, build_archive
from tools.fake_github import FakeGitHub

HANDLER = Path(__file__).resolve().parent.parent / "handler"
# What each part may import of the others (its own modules always).
ALLOWED = {
    "proxy": frozenset(),
    "search": frozenset(),
    "mcp_front": frozenset({"search", "proxy"}),
    "signin": frozenset({"search", "proxy"}),
    "app": frozenset({"proxy", "search", "mcp_front", "signin"}),
}


def part_of(path: Path, root: Path) -> tuple[str, tuple[str, ...]]:
    """The part a module belongs to, and its package (for relative imports)."""
    relative = path.relative_to(root).with_suffix("").parts
    return relative[0], relative[:-1]


def imported(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level name) of every module an import statement in `path` names."""
    _, package = part_of(path, root)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module is not None
                yield node.lineno, node.module.split(".")[0]
                continue
            base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else ()
            if base:
                yield node.lineno, base[0]
            elif node.module:
                yield node.lineno, node.module.split(".")[0]
            else:  # `from .. import x` at the top: each name is a top-level module
                for alias in node.names:
                    yield node.lineno, alias.name


def violations(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        part, _ = part_of(path, root)
        where = path.relative_to(root).as_posix()
        if part not in ALLOWED:
            found.append(f"{where}: not in a known part ({', '.join(ALLOWED)})")
            continue
        for line, name in imported(path, root):
            if name == part or name in ALLOWED[part]:
                continue
            if name in ALLOWED:
                found.append(f"{where}:{line}: {part} imports {name}, which it may not")
            elif name not in sys.stdlib_module_names and name != "__future__":
                found.append(f"{where}:{line}: {name} is not the standard library")
    return found


def test_no_part_imports_a_part_above_or_beside_it():
    assert violations(HANDLER) == []


def test_every_kind_of_import_is_seen():
    """The reader sees what the layers rely on: the lazy imports inside functions."""
    seen = {
        (p.relative_to(HANDLER).as_posix(), name) for p in HANDLER.rglob("*.py") for _, name in imported(p, HANDLER)
    }
    assert ("app.py", "signin") in seen  # `from signin import door`, inside `respond`
    assert ("app.py", "mcp_front") in seen  # inside `_mcp`
    assert ("signin/door.py", "search") in seen  # the GitHub client, inside `_server`


UPWARD = [
    # (file, an import added inside a function, as a lazy one would be)
    ("search/service.py", "from signin import door"),
    ("search/query.py", "import mcp_front.tools"),
    ("search/service.py", "from proxy import response"),
    ("signin/gate.py", "from mcp_front.protocol import Reply"),
    ("mcp_front/tools.py", "from signin.store import token_hash"),
    ("mcp_front/protocol.py", "import app"),
    ("signin/door.py", "from .. import app"),
    ("search/mapping.py", "import requests"),
    ("proxy.py", "from search import service"),
]


@pytest.mark.parametrize(("module", "statement"), UPWARD, ids=[f"{m}: {s}" for m, s in UPWARD])
def test_an_upward_import_fails_the_check(tmp_path: Path, module: str, statement: str):
    copy = tmp_path / "handler"
    shutil.copytree(HANDLER, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + f"\n\ndef _added() -> None:\n    {statement}  # noqa\n")
    [found] = violations(copy)
    assert found.startswith(f"{module}:")


# -- at run time: what a request loads ----------------------------------------------------------

RUNNER = """
import json, sys
sys.path.insert(0, sys.argv[1])
module, function = sys.argv[2].rsplit(".", 1)
handler = getattr(__import__(module), function)
answers = [handler(json.loads(arg), None)["statusCode"] for arg in sys.argv[3:]]
print(json.dumps({"answers": answers, "modules": sorted(m for m in sys.modules if m.split(".")[0] in
    ("app", "proxy", "search", "mcp_front", "signin"))}))
"""
SEARCH: dict[str, object] = {"resource": "/api/search", "httpMethod": "GET", "queryStringParameters": {"q": "pulumi"}}
MCP: dict[str, object] = {
    "resource": "/mcp",
    "httpMethod": "POST",
    "headers": {"Content-Type": "application/json"},
    "body": json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
}


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("archive")
    unpacked = workdir / "task"
    with zipfile.ZipFile(build_archive(workdir / "function.zip").path) as zf:
        zf.extractall(unpacked)
    return unpacked


def loaded(task: Path, fake: FakeGitHub, events: list[dict[str, object]], **env: str) -> tuple[list[int], set[str]]:
    """The statuses of `events` answered by a fresh interpreter from the archive, and the
    function's modules it loaded."""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUNNER, str(task), LAMBDA_HANDLER, *map(json.dumps, events)],
        env={"GITHUB_API_URL": fake.url, "PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = json.loads(result.stdout)
    return out["answers"], set(out["modules"])


def test_a_rest_search_loads_neither_the_mcp_front_nor_sign_in(task: Path, fake: FakeGitHub):
    statuses, modules = loaded(task, fake, [SEARCH])
    assert statuses == [200]
    assert {m.split(".")[0] for m in modules} == {"app", "proxy", "search"}


def test_only_a_fenced_stack_loads_the_fence(task: Path, fake: FakeGitHub):
    statuses, modules = loaded(task, fake, [SEARCH, MCP])
    assert statuses == [200, 200] and "search.fence" not in modules
    statuses, modules = loaded(task, fake, [SEARCH, MCP], SEARCH_SCOPE="org:pulumi")
    assert statuses == [200, 200] and "search.fence" in modules


def test_an_mcp_request_without_sign_in_loads_no_sign_in(task: Path, fake: FakeGitHub):
    statuses, modules = loaded(task, fake, [MCP])
    assert statuses == [200]
    assert {m.split(".")[0] for m in modules} == {"app", "proxy", "search", "mcp_front"}


def test_with_sign_in_a_search_loads_the_door_and_not_the_authorization_server(task: Path, fake: FakeGitHub):
    env = {"AUTH": "github", "PUBLIC_URL": "https://search.example"}
    statuses, modules = loaded(task, fake, [SEARCH, {**MCP, "headers": {"Authorization": "Bearer gsa_unknown"}}], **env)
    assert statuses == [401, 401]
    signin = {m for m in modules if m.startswith("signin")}
    assert signin == {"signin", "signin.door", "signin.gate", "signin.store", "signin.aws_json", "signin.sigv4"}
