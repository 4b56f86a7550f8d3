"""Every value the program sends to AWS is one AWS's own API models accept.

The mocks accept any string; AWS and the provider do not. So every input of every AWS resource in
every graph the tests render (dev, prod, a new certificate, hardened, sign-in with WAF, sign-in
without it, and bootstrap/) is judged as the value of the API field it reaches
(tests/aws_mapping.py), against botocore's service model of that field (`min`, `max`,
`pattern`, `enum`, type), and against the limits AWS documents or the provider enforces where the
model is silent (`RULES` in tests/aws_models.py, each with its source). Run alone with
`.venv/bin/pytest tests/test_aws_models.py`.

The judge catches what a wrong value would cost a `pulumi up` (see the tests of the judge below):

- a Lambda permission named after a route with a dot (`search-invoke-.well-known-...`): its
  auto-named statement id fails AddPermission's StatementId pattern (and the provider's
  `^[0-9A-Za-z_-]+$`) before anything is created;
- an alarm name of 300 characters: PutMetricAlarm's AlarmName takes 255.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest

from tests.aws_mapping import MAPPING
from tests.aws_models import RULES, Finding, Graph, judge, wcus
from tests.conftest import TOKEN
from tests.program import CONFIGS, LARGEST, PRIVATE, SIGN_IN, recording, synth, unwrap

# Every configuration the tests render, and two more shapes of graph: sign-in without the
# firewall on a stack without a domain (the issuer from CloudFront's host), and bootstrap/.
EXTRA: dict[str, tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "sign-in without WAF": (
        "dev",
        tuple((k, v) for k, v in SIGN_IN if k != "wafEnabled"),
        (("githubOAuthClientSecret", "oauth-app-secret"), ("githubToken", TOKEN)),
        (),
    ),
    "bootstrap": ("ci", (("repository", "octo/search"),), (), ("--program", "bootstrap")),
    # Every number the settings accept at its largest, with every feature that derives one from it
    # (sign-in's per-IP ceiling is ten times wafMcpRateLimit): what the models judge is what AWS
    # would be sent, not only what the owner typed.
    "every limit at its largest": (
        "prod",
        (*PRIVATE, *LARGEST, ("wafEnabled", "true"), ("alarmEmail", "ops@example.com"), ("accessLogs", "true")),
        (("githubOAuthClientSecret", "oauth-app-secret"), ("githubToken", TOKEN)),
        (),
    ),
}
GRAPHS = [*CONFIGS, *EXTRA]


@cache
def graph(config: str) -> Graph:
    record = recording(config) if config in CONFIGS else synth(*EXTRA[config])["raw"]
    assert record["error"] is None, record["error"]
    return [
        {"type": r["type"], "name": r["name"], "inputs": unwrap(r["inputs"])}
        for r in record["resources"]
        if r["type"].startswith("aws:")
    ]


def findings(resources: Graph) -> list[Finding]:
    found = [f for r in resources for f in judge(r["type"], r["name"], r["inputs"], MAPPING)]
    return found + [f for rule in RULES for f in rule.check(resources)]


def test_every_resource_type_in_every_graph_is_mapped():
    types = {r["type"] for config in GRAPHS for r in graph(config)}
    assert sorted(types - set(MAPPING)) == [], "add the type's inputs to tests/aws_mapping.py"
    assert len(types) >= 45


@pytest.mark.parametrize("config", GRAPHS)
def test_every_value_the_program_sends_is_one_aws_accepts(config: str):
    assert [str(f) for f in findings(graph(config))] == []


# -- the judge, judged: what it refuses ----------------------------------------------------------------


def one(config: str, resource_type: str, name: str | None = None) -> dict[str, Any]:
    [found] = [r for r in graph(config) if r["type"] == resource_type and name in (None, r["name"])]
    return copy.deepcopy(found)


def test_a_statement_id_with_a_dot_is_refused():
    """What `pulumi up` with sign-in hit: the permission for /.well-known/... auto-named its
    statement id after the route, and AddPermission's pattern has no dot."""
    permission = one("sign-in", "aws:lambda/permission:Permission", "search-invoke-mcp")
    permission["name"] = "search-invoke-.well-known-oauth-authorization-server"
    found = findings([permission])
    assert any(f.path == "statementId" and "StatementId's pattern" in f.problem for f in found), found
    assert any(f.path == "statementId" and "provider refuses" in f.problem for f in found), found


def test_an_alarm_name_of_300_characters_is_refused():
    alarm = one("hardened", "aws:cloudwatch/metricAlarm:MetricAlarm", "ops-token-refused")
    alarm["inputs"]["name"] = "a" * 300
    [found] = findings([alarm])
    assert found.path == "name" and "300 characters; AlarmName takes 1 to 255" in found.problem


@pytest.mark.parametrize(
    ("resource_type", "name", "change", "says"),
    [
        ("aws:lambda/function:Function", "search-function", {"memorySize": 256.5}, "not a whole number"),
        ("aws:lambda/function:Function", "search-function", {"runtime": "python4.0"}, "Runtime's values"),
        ("aws:lambda/function:Function", "search-function", {"timeout": 0.0}, "range"),
        ("aws:cloudfront/distribution:Distribution", None, {"httpVersion": "http4"}, "HttpVersion's values"),
        ("aws:wafv2/webAcl:WebAcl", None, {"description": "it's"}, "pattern"),
        ("aws:dynamodb/table:Table", None, {"billingMode": "FREE"}, "BillingMode's values"),
        ("aws:apigateway/response:Response", "search-gateway-throttled", {"statusCode": "42"}, "pattern"),
        ("aws:iam/role:Role", "search-function-role", {"description": "x" * 1001}, "1001 characters"),
    ],
)
def test_a_value_its_model_refuses_is_refused(resource_type: str, name: str | None, change: dict[str, Any], says: str):
    config = "sign-in" if resource_type != "aws:iam/role:Role" else "prod"
    resource = one(config, resource_type, name)
    resource["inputs"].update(change)
    found = findings([resource])
    assert any(says in f.problem for f in found), found


def test_an_input_the_mapping_does_not_place_fails_completeness():
    function = one("prod", "aws:lambda/function:Function", "search-function")
    function["inputs"]["snapStart"] = {"applyOn": "PublishedVersions"}
    [found] = findings([function])
    assert found.path == "snapStart.applyOn" and "no API field is mapped" in found.problem
    unknown = {"type": "aws:lambda/layerVersion:LayerVersion", "name": "layer", "inputs": {}}
    [found] = findings([unknown])
    assert "not in tests/aws_mapping.py" in found.problem


def test_the_documented_limits_the_models_lack_are_enforced():
    function = one("sign-in", "aws:cloudfront/function:Function")
    function["inputs"]["code"] += "//" + "x" * 10_240
    acl = one("sign-in", "aws:wafv2/webAcl:WebAcl")
    acl["inputs"]["rules"] *= 2  # twice the managed groups: far over 1,500 WCUs
    distribution = one("prod", "aws:cloudfront/distribution:Distribution")
    distribution["inputs"]["comment"] = "c" * 129
    resource = one("prod", "aws:apigateway/resource:Resource", "search-resource-api")
    resource["inputs"]["pathPart"] = "api/search"
    found = {f.problem.split(":")[0] for f in findings([function, acl, distribution, resource])}
    assert found >= {"over 10240 bytes", "over 1500 WCUs", "over 128 characters"}
    assert any("path segment" in f.problem for f in findings([resource]))


def test_the_web_acl_stays_within_its_capacity_and_says_so():
    """The sign-in web ACL's capacity, counted as WAF counts it: far below 1,500."""
    [acl] = [r for r in graph("sign-in") if r["type"] == "aws:wafv2/webAcl:WebAcl"]
    total = sum(wcus(rule["statement"]) for rule in acl["inputs"]["rules"])
    assert 925 < total < 1_500  # the three managed groups alone are 925
