"""The README's configuration table and Pulumi.yaml's config block cannot drift apart."""

from __future__ import annotations

import json
import re

import yaml

from tests.conftest import readme_section
from tools.synth import ROOT


def readme_table() -> dict[str, tuple[str, str]]:
    section = readme_section("Configuration")
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    table = {}
    for row in rows:
        key, typ, default = (cell.strip() for cell in row.strip("|").split("|")[:3])
        table[key.strip("`")] = (typ, "" if default == "(unset)" else default.strip("`"))
    return table


def test_config_table_matches_project_file():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]

    def shown(default: object) -> str:
        return json.dumps(default) if isinstance(default, bool) else str(default)

    assert readme_table() == {key: (spec["type"], shown(spec["default"])) for key, spec in declared.items()}


def test_quick_start_has_exactly_the_two_commands():
    quick = readme_section("Quick start")
    [block] = re.findall(r"```sh\n(.*?)```", quick, re.S)
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make dev", "make test"]


def test_deploy_section_ends_with_smoke():
    deploy = readme_section("Deploy to AWS")
    assert "make smoke URL=$(pulumi stack output url)" in deploy
