"""Helpers to run the Pulumi program under mocks (one subprocess per config) and query the graph."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from typing import Any

from infra.settings import LOG_RETENTION_DAYS, MAX_CACHE_TTL_SECONDS, THROTTLE_LIMIT_MAX, WAF_RATE_LIMIT_RANGE
from tests.conftest import TOKEN
from tools.synth import ROOT

CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
# Nothing set; a domain with everything; a domain without a certificate ARN; and "hardened": prod
# with every operations switch on (alarms, WAF, access logs, tracing).
HARDENED = (("alarmEmail", "ops@example.com"), ("wafEnabled", "true"), ("accessLogs", "true"), ("tracing", "true"))
OAUTH_SECRET = "oauth-app-secret-never-in-state-0123456789"
SIGN_IN = (
    ("auth", "github"),
    ("githubOAuthClientId", "Ov23liTESTCLIENTID000"),
    ("authAllowedOrgs", "acme"),
    ("dailyCallsPerPerson", "500"),
    ("wafEnabled", "true"),
    ("deletionProtection", "true"),
)
PRIVATE = (
    ("auth", "github"),
    ("githubOAuthClientId", "Iv23liTESTCLIENTID000"),
    ("authAllowedOrgs", "acme"),
    ("privateRepositories", "true"),
)
# Every number the settings take, at the largest value they accept (test_config.py checks that
# one more is refused, and that no numeric setting is missing here).
LARGEST = (
    ("cacheTtlSeconds", str(MAX_CACHE_TTL_SECONDS)),
    ("logRetentionDays", str(max(LOG_RETENTION_DAYS))),
    ("auditRetentionDays", str(max(LOG_RETENTION_DAYS))),
    ("throttleRateLimit", str(THROTTLE_LIMIT_MAX)),
    ("throttleBurstLimit", str(THROTTLE_LIMIT_MAX)),
    ("wafRateLimit", str(WAF_RATE_LIMIT_RANGE[1])),
    ("wafMcpRateLimit", str(WAF_RATE_LIMIT_RANGE[1])),
)
CONFIGS: dict[str, tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    "dev": ("dev", (), ()),
    "prod": ("prod", (), (("githubToken", TOKEN),)),
    "domain-without-arn": ("prod", (("acmCertificateArn", ""),), (("githubToken", TOKEN),)),
    "hardened": ("prod", HARDENED, (("githubToken", TOKEN),)),
    # Sign-in with GitHub, an allow-list, the firewall keyed per user, the table protected.
    "sign-in": ("prod", SIGN_IN, (("githubToken", TOKEN), ("githubOAuthClientSecret", OAUTH_SECRET))),
    # Private repositories: sign-in with a GitHub App, its tokens sealed with the stack's own key.
    "private": ("prod", PRIVATE, (("githubToken", TOKEN), ("githubOAuthClientSecret", OAUTH_SECRET))),
}


@cache
def synth(
    stack: str,
    overrides: tuple[tuple[str, str], ...] = (),
    secrets: tuple[tuple[str, str], ...] = (),
    flags: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`flags`: more of tools.synth's options, e.g. the mocked account's zones (--zone) or id (--account)."""
    args = [sys.executable, "-m", "tools.synth", "--stack", stack, "--raw", *flags]
    args += [f"--set={k}={v}" for k, v in overrides] + [f"--secret={k}={v}" for k, v in secrets]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    if not done.stdout.strip():
        raise AssertionError(f"synth printed nothing:\n{done.stderr}")
    return json.loads(done.stdout)


def recording(config: str) -> dict[str, Any]:
    return synth(*CONFIGS[config])["raw"]


class Graph:
    def __init__(self, rec: dict[str, Any]) -> None:
        self.rec = rec
        self.resources = rec["resources"]

    def all(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == typ]

    def one(self, typ: str, name: str | None = None) -> dict[str, Any]:
        """The one resource of `typ` (named `name`, where the graph holds several)."""
        found = [r for r in self.all(typ) if name is None or r["name"] == name]
        assert len(found) == 1, f"expected one {typ}, found {[r['name'] for r in found]}"
        return found[0]

    def inputs(self, typ: str, name: str | None = None) -> dict[str, Any]:
        return unwrap(self.one(typ, name)["inputs"])

    @property
    def outputs(self) -> dict[str, Any]:
        return {k: v["value"] for k, v in self.rec["outputs"].items()}


def unwrap(value: Any) -> Any:
    """Inputs with secret markers removed (for asserting values, not secretness)."""
    if isinstance(value, dict):
        if set(value) == {"secret"}:
            return unwrap(value["secret"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def plain_occurrences(value: Any, needle: str, path: str = "") -> list[str]:
    """Where `needle` appears outside a secret-marked property."""
    if isinstance(value, dict):
        if set(value) == {"secret"}:
            return []
        return [p for k, v in value.items() for p in plain_occurrences(v, needle, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in plain_occurrences(v, needle, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and needle in value else []


def contains(value: Any, needle: str) -> bool:
    return needle in json.dumps(value)
