"""`make bench` cannot rot: it runs once here with tiny counts (speed is not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tools.synth import ROOT


def test_benchmark_runs_and_reports_every_figure(tmp_path: Path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench", "--tiny", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert set(results) >= {"machine", "cold_init", "warm_overhead", "upstream_economy", "archive", "offline_synth"}
    assert results["machine"]["cores"] >= 1
    # correctness figures, not speed: these hold on any machine
    assert results["warm_overhead"]["tcp_connections"] == 1
    assert results["warm_overhead_mcp"]["tcp_connections"] == 1
    assert results["cold_init_mcp"]["ratio"] > 0 and results["cold_init_signed_in"]["ratio"] > 0
    # A warm request whose token was checked within the minute asks the sign-in store nothing.
    assert results["warm_signed_in"]["store_calls_while_warm"] == 0
    assert results["upstream_economy"]["upstream_calls_within_ttl"] == 1
    assert results["upstream_economy"]["limits"] == "1..20"
    assert results["upstream_economy"]["after_ttl_conditional_requests"] == 1
    assert results["upstream_economy"]["after_ttl_answer"] == "REVALIDATED"
    assert results["archive"]["identical_hashes"] is True
    assert results["cold_init"]["ratio"] > 0 and results["offline_synth"]["ratio"] > 0
    assert "| cold init (median) |" in done.stdout
    last = done.stdout.strip().splitlines()[-1]  # the verdict: every figure within, or the ones over
    assert last == "every figure within its target" or last.startswith("OVER target: ")
    assert results["sign_in_form"]["body_bytes"] > 11_000 and results["sign_in_form"]["ratio"] > 0
    budget = results["daily_budget"]  # one conditional write per call, against moto's DynamoDB
    assert budget["store_writes_per_call"] == 1 and budget["ratio"] > 0 and budget["floor_ms"] > 0
    # Sizes are correctness, not speed: what a model's context pays for the tool list and each answer.
    sizes = results["answer_sizes"]
    assert sizes["tools_list"]["bytes"] <= sizes["tools_list"]["budget_bytes"] == 12 * 1024
    fenced = sizes["tools_list_largest_fence"]
    assert sizes["tools_list"]["bytes"] < fenced["bytes"] <= fenced["budget_bytes"] == 13 * 1024
    assert fenced["bytes"] < fenced["with_private_repositories_bytes"] <= fenced["budget_bytes"]
    assert fenced["instructions_bytes"] > fenced["fence_chars"] == 4 * 145 + 3
    assert set(sizes["default_calls"]) == {
        "search_repositories",
        "get_repository",
        "search_code",
        "search_issues",
        "get_file",
        "search",
        "fetch",
    }
    assert all(0 < n <= sizes["budget_bytes"] == 10 * 1024 for n in sizes["default_calls"].values())
    assert 10_000 < sizes["view"]["bytes"] <= sizes["view"]["budget_bytes"] == 64 * 1024


def test_a_figure_over_its_target_is_named(tmp_path: Path):
    from bench.bench import overs

    results = json.loads((ROOT / "bench" / "results.json").read_text())
    assert overs(results) == []
    results["cold_init_mcp"]["ratio"] = 1.4
    results["answer_sizes"]["default_calls"]["search_code"] = 20_000
    assert overs(results) == ["cold init, /mcp", "default call: search_code"]
    # The budget's figure is judged as its target says: against botocore's write to the same server,
    # whatever moto's own milliseconds are.
    results["cold_init_mcp"]["ratio"] = 1.0
    results["answer_sizes"]["default_calls"]["search_code"] = 100
    results["daily_budget"] |= {"added_p50_ms": 9.0, "floor_ms": 12.0, "ratio": 0.75}
    assert overs(results) == []
    results["daily_budget"]["ratio"] = 1.3
    assert overs(results) == ["daily budget"]
