"""Who read what: one audit record per call, written by the function (and printed the same way by the
local server), kept as the owner says, encrypted with private repositories, asked in saved
questions, and no token in it, or masked should one ever slip in. Through `make dev AUTH=1` (the
fake GitHub signs people in) and the program's graph under mocks."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.audit import QUESTIONS, TOKEN_IDENTIFIERS, data_protection_policy
from tests.program import Graph, recording, synth
from tests.signin_helpers import signin_server
from tests.test_operations import matches
from tests.test_private import call, get, signed_in
from tools.background import LocalServer
from tools.fake_github import FakeGitHub
from tools.synth import ROOT

FIELDS = {"request_id", "route", "front", "login", "person_id", "client_id", "client_name", "private", "status"}
FIELDS |= {"cache", "ms"}


@pytest.fixture(scope="module")
def people(fake_server: FakeGitHub) -> FakeGitHub:
    fake_server.reset()  # once: a reset between tests would hand out account ids again
    return fake_server


@pytest.fixture(scope="module")
def server(people: FakeGitHub) -> Iterator[LocalServer]:
    running = signin_server(people, "http://127.0.0.1:1", DAILY_CALLS_PER_PERSON="40", SEARCH_SCOPE="org:octo org:acme")
    yield running
    running.stop()


def records(server: LocalServer) -> list[dict[str, Any]]:
    """The audit records the local server printed: one JSON object a line."""
    lines = [line for line in server.output().splitlines() if line.startswith('{"timestamp"')]
    return [found for found in map(json.loads, lines) if found["message"] == "audit"]


CALLS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("search_repositories", {"query": "audit repo:octo/x"}, {"scope": ["repo:octo/x"]}),
    ("search_code", {"query": "WebAcl org:acme"}, {"scope": ["org:acme"]}),
    ("search_issues", {"query": "crash repo:octo/tracker"}, {"scope": ["repo:octo/tracker"]}),
    ("get_repository", {"owner": "octo", "repo": "audited"}, {"repository": "octo/audited"}),
    ("get_file", {"owner": "octo", "repo": "audited", "path": "README.md"}, {"repository": "octo/audited"}),
    ("search", {"query": "audit"}, {}),
    ("fetch", {"id": "octo/audited"}, {"repository": "octo/audited"}),
]


def test_each_tool_and_route_leaves_one_record_naming_who_what_and_how_and_no_token(
    server: LocalServer, people: FakeGitHub
):
    access = signed_in(server, people, "erin")
    before = len(records(server))
    for tool, arguments, _ in CALLS:
        assert call(server, access, tool, **arguments)["isError"] is False, tool
    assert get(server, access, "/api/search", q="audit org:octo").status_code == 200
    refused = get(server, access, "/api/repos/other/outside")  # outside the fence
    assert refused.status_code == 403
    server.written('"route": "/api/repos/{owner}/{repo}"')
    written = records(server)[before:]
    assert len(written) == len(CALLS) + 2
    for (tool, _, expected), record in zip(CALLS, written, strict=False):
        assert set(record) >= FIELDS, (tool, FIELDS - set(record))
        assert (record["front"], record["tool"], record["login"], record["status"]) == ("mcp", tool, "erin", 200)
        assert record["client_name"] == "Test Assistant" and record["fence"] == "org:octo org:acme"
        assert record["private"] is False and record["budget_used"] >= 1 and "query" not in record
        for key, value in expected.items():
            assert record[key] == value, (tool, key, record)
    rest, outside = written[-2:]
    assert (rest["front"], rest["route"], rest["scope"]) == ("rest", "/api/search", ["org:octo"])
    assert (outside["status"], outside["error"], outside.get("repository")) == (403, "outside_scope", None)
    assert [r["budget_used"] for r in written[:-1]] == list(range(1, len(CALLS) + 2))  # refused: not counted
    text = server.output()
    assert access not in text and access[4:] not in text and "gho_" not in text and "ghu_" not in text


def test_the_records_answer_the_saved_questions_fields(server: LocalServer, people: FakeGitHub):
    """Every field a saved question names is one the function writes (or one Logs Insights makes)."""
    access = signed_in(server, people, "frank")
    assert get(server, access, "/api/search", q="fields").status_code == 200
    written = set().union(*(set(r) for r in records(server)))
    insights = {"@timestamp", "first", "last", "calls", "refused", "day", "errors", "d"}
    words = {"filter", "and", "or", "stats", "count", "as", "min", "max", "sum", "by", "sort", "desc", "fields"}
    words |= {"ispresent", "datefloor", "true", "audit"}
    for question in QUESTIONS:
        named = set(re.findall(r"@?[a-z_]+", re.sub(r'"[^"]*"', "", question.query))) - words - insights
        assert named <= written | {"tool", "error", "over_budget"}, (question.name, named - written)


def test_a_budget_refusal_is_recorded_and_counted_by_the_alarms_metric(server: LocalServer, people: FakeGitHub):
    from infra.monitoring import OVER_BUDGET, REQUESTS

    access = signed_in(server, people, "grace")
    for n in range(41):
        get(server, access, "/api/search", q=f"grace {n}")
    over = get(server, access, "/api/search", q="grace over")
    assert over.status_code == 429
    server.written('"error": "over_budget"')
    last = records(server)[-1]
    assert last["error"] == "over_budget" and last["login"] == "grace"
    assert matches(OVER_BUDGET.pattern, last) and matches(REQUESTS.pattern, last)
    assert not any(matches(OVER_BUDGET.pattern, r) for r in records(server) if r.get("status") == 200)


def test_the_query_text_is_recorded_only_when_the_owner_asks(people: FakeGitHub):
    asked = signin_server(people, "http://127.0.0.1:1", AUDIT_QUERIES="true")
    try:
        access = signed_in(asked, people, "heidi")
        assert get(asked, access, "/api/search", q="what heidi searched").status_code == 200
        [record] = [r for r in records(asked) if r.get("login") == "heidi" and r["route"] == "/api/search"]
        assert record["query"] == "what heidi searched"
    finally:
        asked.stop()


# -- tokens masked, should one ever reach a log line ---------------------------------------------------

SAMPLES = {
    "GitHubOAuthToken": "gho_" + "a1B2" * 9,
    "GitHubAppUserToken": "ghu_" + "Zz09" * 9,
    "GitHubAppInstallationToken": "ghs_" + "x" * 36,
    "GitHubRefreshToken": "ghr_" + "R1" * 38,
    "GitHubPersonalAccessToken": "ghp_" + "0" * 36,
    "GitHubFineGrainedToken": "github_pat_11ABCDEFG0123456789abc_" + "Q" * 59,
    "StackAccessOrRefreshToken": "gsa_" + secrets.token_urlsafe(32),
}


def test_each_token_identifier_finds_its_format_in_a_line_and_nothing_in_a_normal_record(
    server: LocalServer, people: FakeGitHub
):
    assert set(SAMPLES) == {name for name, _ in TOKEN_IDENTIFIERS}
    access = signed_in(server, people, "ivan")
    get(server, access, "/api/repos/octo/ordinary")
    normal = json.dumps(records(server)[-1])
    for name, regex in TOKEN_IDENTIFIERS:
        line = f'{{"message": "unexpected", "detail": "Authorization: Bearer {SAMPLES[name]}"}}'
        assert re.search(regex, line), name
        assert not re.search(regex, normal), (name, normal)
    assert re.search(TOKEN_IDENTIFIERS[-1][1], access)  # the stack's own tokens, as they are issued


def test_the_data_protection_policy_keeps_cloudwatch_logs_documented_rules():
    """CloudWatch Logs' rules ("Custom data identifiers", "Understanding data protection policies"):
    at most 10 custom identifiers, names of 128 characters [A-Za-z0-9_-], regexes of 200 characters
    from its listed characters, version 2021-06-01, one audit statement, the identifiers defined."""
    policy = json.loads(data_protection_policy())
    custom = policy["Configuration"]["CustomDataIdentifier"]
    assert policy["Version"] == "2021-06-01" and len(custom) <= 10
    for identifier in custom:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", identifier["Name"])
        assert len(identifier["Regex"]) <= 200 and re.fullmatch(
            r"[A-Za-z0-9_#=@/;, ^$?\[\]{}|\\*+.-]+", identifier["Regex"]
        )
    operations = [next(iter(s["Operation"])) for s in policy["Statement"]]
    assert operations == ["Audit", "Deidentify"]
    names = {i["Name"] for i in custom}
    assert all(set(s["DataIdentifier"]) == names for s in policy["Statement"])


# -- the stack ------------------------------------------------------------------------------------------


def log_group(graph: Graph) -> dict[str, Any]:
    return graph.one("aws:cloudwatch/logGroup:LogGroup", "search-function-logs")


def test_every_stack_masks_tokens_in_the_functions_log_and_sign_in_keeps_the_audit_a_year():
    for config in ("dev", "sign-in", "private"):
        graph = Graph(recording(config))
        masking = graph.inputs("aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy")
        group = log_group(graph)
        named = group["inputs"].get("name") or graph.rec["providerOutputs"]["search-function-logs"]["name"]
        assert masking["logGroupName"] == named and masking["policyDocument"] == data_protection_policy()
    assert log_group(Graph(recording("dev")))["inputs"]["retentionInDays"] == 14  # no sign-in: logRetentionDays
    assert log_group(Graph(recording("sign-in")))["inputs"]["retentionInDays"] == 365  # the audit trail
    shorter = Graph(synth("prod", (*SIGN_IN_OVERRIDES, ("auditRetentionDays", "90")), SIGN_IN_SECRETS)["raw"])
    assert log_group(shorter)["inputs"]["retentionInDays"] == 90


SIGN_IN_OVERRIDES = (("auth", "github"), ("githubOAuthClientId", "Ov23liTESTCLIENTID000"))
SIGN_IN_SECRETS = (("githubOAuthClientSecret", "s"),)


def test_sign_in_saves_the_owners_questions_over_the_audit_trail():
    graph = Graph(recording("sign-in"))
    saved = {q["inputs"]["name"]: q["inputs"] for q in graph.all("aws:cloudwatch/queryDefinition:QueryDefinition")}
    assert set(saved) == {f"github-search/prod/{q.name}" for q in QUESTIONS}
    group = graph.rec["providerOutputs"]["search-function-logs"]["name"]
    assert all(q["logGroupNames"] == [group] for q in saved.values())
    assert "private = 1" in saved["github-search/prod/who-read-private-repositories"]["queryString"]
    assert not Graph(recording("dev")).all("aws:cloudwatch/queryDefinition:QueryDefinition")


def test_with_private_repositories_the_audit_trail_has_its_own_key_for_that_log_group_only():
    graph = Graph(recording("private"))
    group = log_group(graph)["inputs"]
    key = graph.rec["providerOutputs"]["search-audit-key"]
    assert group["name"] == "search-function-logs-prod" and group["kmsKeyId"] == key["arn"]
    policy = json.loads(graph.inputs("aws:kms/key:Key", "search-audit-key")["policy"])
    account, logs, describe = policy["Statement"]
    assert not {"kms:*", "kms:Decrypt", "kms:Encrypt"} & set(account["Action"])
    region = graph.inputs("aws:lambda/function:Function", "search-function").get("region") or "eu-west-1"
    assert logs["Principal"] == {"Service": f"logs.{region}.amazonaws.com"}
    arn = f"arn:aws:logs:{region}:123456789012:log-group:search-function-logs-prod"
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arn}}
    assert describe["Action"] == "kms:DescribeKey"
    assert "kmsKeyId" not in log_group(Graph(recording("sign-in")))["inputs"]  # no private names: no key


def test_the_budget_alarm_and_the_questions_on_the_dashboard_with_sign_in_and_alarms():
    graph = Graph(synth("prod", (*SIGN_IN_OVERRIDES, ("alarmEmail", "ops@example.com")), SIGN_IN_SECRETS)["raw"])
    alarm = graph.inputs("aws:cloudwatch/metricAlarm:MetricAlarm", "ops-over-budget")
    assert alarm["metricName"] == "OverBudget" and alarm["threshold"] == 1
    assert "dailyCallsPerPerson" in alarm["alarmDescription"]
    body = json.loads(graph.inputs("aws:cloudwatch/dashboard:Dashboard")["dashboardBody"])
    tables = [w["properties"]["query"] for w in body["widgets"] if w["properties"].get("view") == "table"]
    assert len(tables) == len(QUESTIONS) and all(q.query in t for q, t in zip(QUESTIONS, tables, strict=True))


# -- make audit -------------------------------------------------------------------------------------


def test_make_audit_answers_who_read_which_private_repository_from_the_local_servers_records(
    people: FakeGitHub, tmp_path: Path
):
    kept = tmp_path / "audit.jsonl"
    people.oauth.expiring, people.oauth.installed = True, {"acme"}
    people.oauth.private = {"acme/alpha": {"judy"}}
    private = signin_server(people, "http://127.0.0.1:1", ("--private",), AUDIT_LOG_FILE=str(kept))
    try:
        judy, ken = signed_in(private, people, "judy"), signed_in(private, people, "ken")
        assert get(private, judy, "/api/repos/acme/alpha").status_code == 200
        assert call(private, judy, "get_file", owner="acme", repo="alpha", path="README.md")["isError"] is False
        assert get(private, ken, "/api/repos/acme/alpha").status_code == 404  # not his to read
        assert get(private, ken, "/api/repos/octo/public").status_code == 200
    finally:
        private.stop()
    done = audit("--file", str(kept), "--since", "1h")
    # Every read answered while private repositories were in reach: a file's or an issue's answer does
    # not say whether its repository is private, so a public one is listed too; a refused one is not.
    [header, *rows] = done.stdout.strip().splitlines()
    assert header.split("\t") == ["login", "repository", "client_name", "calls", "first", "last"]
    assert sorted(row.split("\t")[:4] for row in rows) == [
        ["judy", "acme/alpha", "Test Assistant", "2"],
        ["ken", "octo/public", "Test Assistant", "1"],
    ]
    [ken_only] = audit("--file", str(kept), "--person", "ken").stdout.strip().splitlines()[1:]
    assert ken_only.startswith("ken\tocto/public\t")
    assert audit("--file", str(kept), "--person", "nobody").stdout.strip() == "no repository was read in that time"


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.audit", *args], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--since", "a week"), "SINCE must be a number and m, h or d"),
        (("--person", 'x" or login != "'), "PERSON must be a GitHub login"),
    ],
)
def test_make_audit_says_what_to_write_instead(args: tuple[str, ...], says: str):
    done = audit(*args)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr


def test_make_audit_runs_the_stacks_saved_question_as_cloudwatch_logs_takes_it():
    """Deployed: the saved query, by the name the stack gave it, on the log group it names; every
    call checked against botocore's model of CloudWatch Logs (its Stubber validates parameters)."""
    import boto3
    from botocore.stub import Stubber

    from tools.audit import deployed_reads

    logs = boto3.client("logs", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    name = "github-search/prod/who-read-private-repositories"
    saved = next(q for q in QUESTIONS if q.name == "who-read-private-repositories")
    definition = {"queryDefinitionId": "q1", "name": name, "queryString": saved.query, "logGroupNames": ["lg"]}
    row = [{"field": f, "value": v} for f, v in (("login", "judy"), ("repository", "acme/alpha"), ("calls", "2"))]
    with Stubber(logs) as stub:
        stub.add_response(
            "describe_query_definitions", {"queryDefinitions": [definition]}, {"queryDefinitionNamePrefix": name}
        )
        stub.add_response(
            "start_query",
            {"queryId": "run1"},
            {
                "logGroupNames": ["lg"],
                "startTime": 1_800_000_000,
                "endTime": 1_800_604_800,
                "queryString": 'filter login = "judy" | ' + saved.query,
            },
        )
        stub.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "run1"})
        stub.add_response("get_query_results", {"status": "Complete", "results": [row]}, {"queryId": "run1"})
        rows = deployed_reads(logs, "prod", (1_800_000_000, 1_800_604_800), "judy", sleep=lambda _: None)
        stub.assert_no_pending_responses()
    assert rows == [{"login": "judy", "repository": "acme/alpha", "calls": "2"}]
