"""Each gate of `make test`, broken on purpose in a copy of the project, fails with a message that
names the problem. If a gate is dropped from the Makefile or loosened in its config, these fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from tools.synth import ROOT

VENV = Path(sys.prefix)
# Everything a clean clone has; the caches and the environment stay behind (mypy's is copied on demand).
LEFT_BEHIND = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "__pycache__",
    "node_modules",
)


class Breakage(NamedTuple):
    target: str  # the make target that must fail
    path: str
    old: str
    new: str
    expected: str  # what the failure must say


def break_and_run(tmp_path: Path, breakage: Breakage) -> subprocess.CompletedProcess[str]:
    target, path, old, new, _ = breakage
    tree = tmp_path / "project"
    shutil.copytree(ROOT, tree, ignore=LEFT_BEHIND)
    if target == "typecheck" and (ROOT / ".mypy_cache").is_dir():
        # A warm cache (make test type-checks before pytest runs) keeps this to seconds instead of ~40 s.
        shutil.copytree(ROOT / ".mypy_cache", tree / ".mypy_cache")
    source = (tree / path).read_text()
    assert old in source, f"{path} no longer contains {old!r}: update this test's breakage"
    (tree / path).write_text(source.replace(old, new, 1))
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        ["make", "--no-print-directory", target, f"VENV={VENV}"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


BREAKAGES = [
    pytest.param(
        Breakage("lint", "infra/cdn.py", "import pulumi\n", "import os\nimport pulumi\n", "F401"),
        id="ruff-unused-import",
    ),
    pytest.param(
        Breakage(
            "lint",
            "handler/search/query.py",
            'ORDERS = ("desc", "asc")',
            "ORDERS = ( 'desc','asc' )",
            "1 file would be reformatted",
        ),
        id="ruff-format",
    ),
    pytest.param(
        Breakage(
            "typecheck",
            "infra/search_api.py",
            "memory_size=",
            "memory_sizes=",
            'Unexpected keyword argument "memory_sizes"',
        ),
        id="mypy-misspelt-resource-argument",
    ),
    pytest.param(
        Breakage(
            "typecheck",
            "infra/search_api.py",
            "memory_size=MEMORY_MB",
            "memory_size=str(MEMORY_MB)",
            'No overload variant of "Function" matches argument types',
        ),
        id="mypy-wrong-argument-type",
    ),
    pytest.param(
        Breakage(
            "typecheck",
            "handler/search/query.py",
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\n\ndef untyped(value):\n    return value\n",
            "Function is missing a type annotation",
        ),
        id="mypy-strict",
    ),
    pytest.param(
        Breakage(
            "lint",
            ".github/workflows/deploy.yml",
            "vars.AWS_ROLE_ARN }}",
            "vars.AWS_ROLE_ARM }}",
            'undefined configuration variable "aws_role_arm"',
        ),
        id="jactionlint-misspelt-variable",
    ),
    pytest.param(
        Breakage(
            "lint",
            ".github/workflows/pull-request.yml",
            "comment-on-pr: true",
            "comment-on-pull-request: true",
            'input "comment-on-pull-request" is not defined in action "pulumi/actions@v7"',
        ),
        id="jactionlint-misspelt-action-input",
    ),
    pytest.param(
        Breakage(
            "lint",
            ".github/workflows/pull-request.yml",
            "      pull-requests: write",
            "      pull-requests: write\n      contents: write",
            "[duplicate-key]",
        ),
        id="jactionlint-broken-yaml",
    ),
    pytest.param(
        Breakage(
            "lint",
            ".github/workflows/test.yml",
            "      - uses: actions/checkout@v6\n        with:\n          persist-credentials: false\n",
            "      - uses: actions/checkout@v6\n",
            "[artipacked]",
        ),
        id="jactionlint-security-rule",
    ),
    pytest.param(
        Breakage("lint", ".github/workflows/deploy.yml", 'make smoke URL="$URL"', "make smoke URL=$URL", "SC2086"),
        id="shellcheck-in-workflow-scripts",
        marks=pytest.mark.skipif(
            shutil.which("shellcheck", path=str(VENV / "bin")) is None, reason="no shellcheck wheel here"
        ),
    ),
]


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_gate_fails_readably(tmp_path: Path, breakage: Breakage) -> None:
    result = break_and_run(tmp_path, breakage)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"make {breakage.target} passed with {breakage.path} broken:\n{output}"
    assert breakage.expected in output
