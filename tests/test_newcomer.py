"""What a newcomer sees the first time: a line before the long quiet install, and conformance
results that say where their expected failures are explained."""

from __future__ import annotations

import subprocess
from pathlib import Path

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
    assert "conformance/expected-*.yaml" in readme_section("Development")
    assert "names the file" in readme_section("Development")
