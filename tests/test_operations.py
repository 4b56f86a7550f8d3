"""Operations: alarms that say what broke, and WAF, access logs and tracing, each switched on by
config and absent by default. Asserted on the mocked graph; the metric filters are checked against
the log line the function really writes."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import app
import pytest

from infra.firewall import MANAGED_RULE_GROUPS, RATE_LIMITED_BODY, WAF_ERRORS
from infra.monitoring import LOG_METRICS, RATE_LIMITED, REQUESTS, TOKEN_REFUSED
from tests.conftest import TOKEN, event
from tests.contract import error_codes_in_spec, schema_errors
from tests.program import HARDENED, Graph, recording, synth, unwrap
from tools.fake_github import Answer, FakeGitHub

SECRET = (("githubToken", TOKEN),)
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
# What each switch adds, and nothing else; their union is everything operations registers.
ADDS = {
    "waf": {"github-search:waf:Firewall", WEB_ACL},
    "access-logs": {
        "aws:cloudwatch/logDeliverySource:LogDeliverySource",
        "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination",
        "aws:cloudwatch/logDelivery:LogDelivery",
        "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
        "aws:apigateway/account:Account",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    },
    "tracing": set(),  # settings on the function, the stage and a role policy
    "alarms": {
        "github-search:ops:Monitoring",
        ALARM,
        TOPIC,
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:kms/key:Key",
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "aws:cloudwatch/dashboard:Dashboard",
    },
}
SWITCHES = {
    "waf": ("wafEnabled", "true"),
    "access-logs": ("accessLogs", "true"),
    "tracing": ("tracing", "true"),
    "alarms": ("alarmEmail", "ops@example.com"),
}
OPS_TYPES = set().union(*ADDS.values())


def graph(stack: str = "dev", *switches: tuple[str, str]) -> Graph:
    rec = synth(stack, tuple(switches), SECRET)["raw"]
    assert rec["error"] is None, rec["error"]
    return Graph(rec)


def types(g: Graph) -> set[str]:
    return {r["type"] for r in g.resources}


def named(g: Graph, name: str) -> dict[str, Any]:
    [found] = [r for r in g.resources if r["name"] == name]
    return found


def inputs(g: Graph, name: str) -> dict[str, Any]:
    return unwrap(named(g, name)["inputs"])


def output(g: Graph, name: str, key: str) -> Any:
    return g.rec["providerOutputs"][name][key]


# -- off by default, and each switch alone adds only its own resources ---------------------------


def test_defaults_register_none_of_it():
    for config in ("dev", "prod"):
        assert types(Graph(recording(config))) & OPS_TYPES == set(), config


@pytest.mark.parametrize("switch", list(SWITCHES))
def test_each_switch_alone_adds_only_its_own_types(switch: str):
    base = graph("dev")
    switched = graph("dev", SWITCHES[switch])
    assert types(switched) - types(base) == ADDS[switch]
    assert types(switched) & OPS_TYPES == ADDS[switch]


# -- alarms -----------------------------------------------------------------------------------


def alarms(g: Graph) -> dict[str, dict[str, Any]]:
    return {r["name"]: unwrap(r["inputs"]) for r in g.all(ALARM)}


def test_alarms_notify_an_encrypted_topic_in_their_own_region():
    elsewhere = graph("prod", ("alarmEmail", "ops@example.com"))  # eu-west-1
    topics = {r["name"]: unwrap(r["inputs"]) for r in elsewhere.all(TOPIC)}
    assert {name: t.get("region") for name, t in topics.items()} == {"ops-alarms": None, "ops-edge-alarms": "us-east-1"}
    for name, topic in topics.items():
        key = inputs(elsewhere, f"{name}-key")
        assert topic["kmsMasterKeyId"] == output(elsewhere, f"{name}-key", "keyId") and key.get("region") == topic.get(
            "region"
        )
        assert key["enableKeyRotation"] is True
        granted = json.loads(key["policy"])["Statement"]
        # SNS's documented statement for services publishing to an encrypted topic, word for word:
        # no condition, since nothing says CloudWatch's KMS calls carry one (alias/aws/sns cannot grant it).
        [alarms_publish] = [s for s in granted if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
        assert alarms_publish == {
            "Sid": "AlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        }
        topic_policy = json.loads(inputs(elsewhere, f"{name}-policy")["policy"])
        [publish] = [
            s for s in topic_policy["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        ]
        assert publish["Condition"] == {
            "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:123456789012:alarm:*"},
            "StringEquals": {"aws:SourceAccount": "123456789012"},
        }
        subscription = inputs(elsewhere, f"{name}-email")
        assert (subscription["protocol"], subscription["endpoint"]) == ("email", "ops@example.com")
    regional_topic, edge_topic = output(elsewhere, "ops-alarms", "arn"), output(elsewhere, "ops-edge-alarms", "arn")
    for name, alarm in alarms(elsewhere).items():
        expected = edge_topic if name == "ops-edge-5xx" else regional_topic
        assert alarm["alarmActions"] == [expected] == alarm["okActions"], name
        assert alarm.get("region") == ("us-east-1" if name == "ops-edge-5xx" else None), name
        assert alarm["treatMissingData"] == "notBreaching", name
    same_region = graph("dev", ("alarmEmail", "ops@example.com"))  # us-east-1: one topic serves all
    assert len(same_region.all(TOPIC)) == 1


def test_each_alarm_says_what_happened_and_what_to_do():
    found = alarms(Graph(recording("hardened")))
    assert set(found) == {"ops-token-refused", "ops-rate-limited", "ops-function-errors", "ops-edge-5xx"}
    assert "pulumi config set --secret githubToken" in found["ops-token-refused"]["alarmDescription"]
    assert "expired" in found["ops-token-refused"]["alarmDescription"]
    assert "cacheTtlSeconds" in found["ops-rate-limited"]["alarmDescription"]
    assert "log group" in found["ops-function-errors"]["alarmDescription"]
    assert "make smoke" in found["ops-edge-5xx"]["alarmDescription"]


def test_edge_alarm_reads_cloudfront_where_it_publishes():
    g = Graph(recording("hardened"))
    edge = alarms(g)["ops-edge-5xx"]
    assert (edge["namespace"], edge["metricName"], edge["region"]) == ("AWS/CloudFront", "5xxErrorRate", "us-east-1")
    assert edge["dimensions"] == {"DistributionId": g.outputs["distributionId"], "Region": "Global"}


def test_rate_limited_alarm_is_a_share_of_requests():
    g = Graph(recording("hardened"))
    queries = {q["id"]: q for q in alarms(g)["ops-rate-limited"]["metricQueries"]}
    assert queries["limited"]["metric"]["metricName"] == RATE_LIMITED.name
    assert queries["requests"]["metric"]["metricName"] == REQUESTS.name
    assert queries["result"]["returnData"] is True and "limited / requests" in queries["result"]["expression"]
    function_errors = {q["id"]: q for q in alarms(g)["ops-function-errors"]["metricQueries"]}
    assert function_errors["errors"]["metric"]["dimensions"] == {"FunctionName": g.outputs["functionName"]}


def test_metric_filters_watch_the_functions_own_log_group():
    g = Graph(recording("hardened"))
    filters = {
        unwrap(r["inputs"])["pattern"]: unwrap(r["inputs"])
        for r in g.all("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    }
    assert set(filters) == {m.pattern for m in LOG_METRICS}
    for metric_filter in filters.values():
        assert metric_filter["logGroupName"] == output(g, "search-function-logs", "name")


def test_dashboard_and_its_url():
    g = Graph(recording("hardened"))
    body = json.loads(inputs(g, "ops-dashboard")["dashboardBody"])
    text = json.dumps(body)
    assert g.outputs["functionName"] in text and g.outputs["distributionId"] in text
    assert output(g, "search-function-logs", "name") in text
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert any("Cache" in t for t in titles) and any("latency" in t for t in titles)
    assert g.outputs["dashboardUrl"].endswith("#dashboards/dashboard/github-search-prod")


def test_the_rate_limited_alarm_says_what_it_counts_and_the_dashboard_shows_the_rest():
    # The alarm counts the function's log lines: 429s made before the function (the usage plan's
    # THROTTLED, WAF's rate rules) never reach it, so its text must not claim them, and the
    # dashboard must show them.
    g = Graph(recording("hardened"))
    description = alarms(g)["ops-rate-limited"]["alarmDescription"]
    assert "only the function's own 429s" in description and "Refused before the function" in description
    body = json.loads(inputs(g, "ops-dashboard")["dashboardBody"])
    [refusals] = [w for w in body["widgets"] if w["properties"]["title"] == "Refused before the function"]
    lines = refusals["properties"]["metrics"]
    api_name = output(g, "search-rest-api", "name")
    assert ["AWS/ApiGateway", "4XXError", "ApiName", api_name, "Stage", "v1"] == lines[0][:6]
    acl = g.inputs(WEB_ACL)
    rate_rules = {r["visibilityConfig"]["metricName"] for r in acl["rules"] if "rateBasedStatement" in r["statement"]}
    waf = {(line[3], line[5]): line[6]["region"] for line in lines if line[0] == "AWS/WAFV2"}
    assert waf == {(acl["visibilityConfig"]["metricName"], rule): "us-east-1" for rule in rate_rules}
    assert acl["visibilityConfig"]["metricName"] == "github-search-prod"  # one per stack in an account
    without_waf = json.loads(inputs(graph("dev", ("alarmEmail", "ops@example.com")), "ops-dashboard")["dashboardBody"])
    assert "AWS/WAFV2" not in json.dumps(without_waf) and "4XXError" in json.dumps(without_waf)


# -- the metric filters against the log line the function writes --------------------------------

RESERVED = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {"message", "asctime"}


def lambda_json_line(record: logging.LogRecord) -> dict[str, Any]:
    """The line Lambda's JSON log format writes for a record: level, message, logger, then every
    `extra` field, None values dropped (what the Python runtime's formatter does)."""
    line = {"timestamp": "2026-11-25T00:00:00.000Z", "level": record.levelname, "message": record.getMessage()}
    line |= {"logger": record.name, **{k: v for k, v in vars(record).items() if k not in RESERVED}}
    return json.loads(json.dumps({k: v for k, v in line.items() if v is not None}, default=str))


_CONDITION = re.compile(r'^\{ \$\.(\w+) (IS TRUE|=|>=) ?(\d*|"[a-z_]+") \}$')


def matches(pattern: str, line: dict[str, Any]) -> bool:
    """CloudWatch Logs' JSON filter pattern semantics, for the forms the stack uses."""
    found = _CONDITION.match(pattern)
    assert found, f"the test's evaluator does not know the pattern {pattern!r}: teach it"
    field, operator, number = found.groups()
    value = line.get(field)
    if operator == "IS TRUE":
        return value is True
    if number.startswith('"'):  # a string: equal, exactly
        return value == number.strip('"')
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return value == int(number) if operator == "=" else value >= int(number)


def logged_lines(fake: FakeGitHub, caplog: pytest.LogCaptureFixture, *answers: Answer) -> list[dict[str, Any]]:
    caplog.set_level(logging.INFO, logger="github_search")
    fake.queue(*answers)
    for n in range(len(answers)):
        app.handler(event({"q": f"alarm {n}"}))
    return [lambda_json_line(r) for r in caplog.records if r.name == "github_search"]


def test_token_refused_filter_matches_a_refused_token_and_nothing_else(function_env, caplog):
    refused, ok, limited, broken = logged_lines(
        function_env,
        caplog,
        Answer(401, {"message": "Bad credentials"}),
        Answer(200, {"total_count": 0, "incomplete_results": False, "items": []}),
        Answer(403, {"message": "API rate limit exceeded"}, {"x-ratelimit-remaining": "0"}),
        Answer(500, {"message": "Server Error"}),
    )
    assert [matches(TOKEN_REFUSED.pattern, line) for line in (refused, ok, limited, broken)] == [
        True,
        False,
        False,
        False,
    ]
    assert [matches(RATE_LIMITED.pattern, line) for line in (refused, ok, limited, broken)] == [
        False,
        False,
        True,
        False,
    ]
    assert all(matches(REQUESTS.pattern, line) for line in (refused, ok, limited, broken))
    assert TOKEN not in json.dumps([refused, ok, limited, broken])


def test_a_request_without_a_token_is_never_counted_as_a_refused_token(function_env, caplog, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    [line] = logged_lines(function_env, caplog, Answer(403, {"message": "Forbidden"}))
    assert line["status"] == 502 and not matches(TOKEN_REFUSED.pattern, line)


# -- WAF -------------------------------------------------------------------------------------------


def test_web_acl_in_us_east_1_attached_to_the_distribution():
    g = Graph(recording("hardened"))
    acl = g.inputs(WEB_ACL)
    assert (acl["scope"], acl["region"], acl["defaultAction"]) == ("CLOUDFRONT", "us-east-1", {"allow": {}})
    assert g.inputs("aws:cloudfront/distribution:Distribution")["webAclId"] == output(g, "waf-web-acl", "arn")
    assert acl["visibilityConfig"]["cloudwatchMetricsEnabled"] is True


def acl_rules(g: Graph) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in g.inputs(WEB_ACL)["rules"]}


def test_rate_rules_answer_429_in_the_apis_error_shape_with_mcp_on_its_own_limit():
    g = graph("dev", ("wafEnabled", "true"), ("wafRateLimit", "120"), ("wafMcpRateLimit", "2400"))
    acl = g.inputs(WEB_ACL)
    rules = acl_rules(g)
    limits = {
        name: (r["priority"], r["statement"]["rateBasedStatement"]["limit"])
        for name, r in rules.items()
        if "rateBasedStatement" in r["statement"]
    }
    assert limits == {"rate-limit-per-ip": (0, 120), "mcp-rate-limit-per-ip": (1, 2400)}  # before the groups
    assert all(max(r["priority"] for r in rules.values()) > p for p, _ in limits.values())
    for name in limits:
        statement = rules[name]["statement"]["rateBasedStatement"]
        assert (statement["aggregateKeyType"], statement["evaluationWindowSec"]) == ("IP", 300)
        response = rules[name]["action"]["block"]["customResponse"]
        assert response["responseCode"] == 429
        headers = {h["name"]: h["value"] for h in response["responseHeaders"]}
        assert headers["Cache-Control"] == "no-store" and 1 <= int(headers["Retry-After"]) <= 3600
        [body] = [b for b in acl["customResponseBodies"] if b["key"] == response["customResponseBodyKey"]]
        assert body["contentType"] == "APPLICATION_JSON" and body["content"] == RATE_LIMITED_BODY
    # Hosted assistants share a few egress IPs: /mcp counts against its own bucket, the rest against the other.
    mcp_scope = rules["mcp-rate-limit-per-ip"]["statement"]["rateBasedStatement"]["scopeDownStatement"]
    other_scope = rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]["scopeDownStatement"]
    for path in ("/mcp", "/api/search", "/index.html"):
        assert waf_matches(mcp_scope, path, set()) == (path == "/mcp")
        assert waf_matches(other_scope, path, set()) == (path != "/mcp")
    error = json.loads(RATE_LIMITED_BODY)
    assert schema_errors(error, status="429") == []
    assert error["error"]["code"] == "rate_limited" and "rate_limited" in error_codes_in_spec()


def test_the_mcp_limit_defaults_to_what_a_hosted_assistants_users_need():
    g = graph("dev", ("wafEnabled", "true"))
    limits = {
        name: r["statement"]["rateBasedStatement"]["limit"]
        for name, r in acl_rules(g).items()
        if "rateBasedStatement" in r["statement"]
    }
    usage_plan = g.inputs("aws:apigateway/usagePlan:UsagePlan")["throttleSettings"]["rateLimit"] * 300
    assert limits["rate-limit-per-ip"] == 300 and limits["mcp-rate-limit-per-ip"] == usage_plan // 2


def waf_matches(statement: dict[str, Any], path: str, labels: set[str], headers: dict[str, str] | None = None) -> bool:
    """WAF's evaluation of the statement forms the web ACL uses, for a request's path, headers
    (lower-case names) and labels."""
    headers = headers or {}
    if "andStatement" in statement:
        return all(waf_matches(s, path, labels, headers) for s in statement["andStatement"]["statements"])
    if "orStatement" in statement:
        return any(waf_matches(s, path, labels, headers) for s in statement["orStatement"]["statements"])
    if "notStatement" in statement:
        return not waf_matches(statement["notStatement"]["statement"], path, labels, headers)
    if "labelMatchStatement" in statement:
        assert statement["labelMatchStatement"]["scope"] == "LABEL"
        return statement["labelMatchStatement"]["key"] in labels
    kind = "regexMatchStatement" if "regexMatchStatement" in statement else "byteMatchStatement"
    match = statement[kind]
    value = _transformed(_field(match["fieldToMatch"], path, headers), match["textTransformations"])
    if kind == "regexMatchStatement":
        return re.search(match["regexString"], value) is not None
    wanted = match["searchString"]
    return {"EXACTLY": value == wanted, "STARTS_WITH": value.startswith(wanted)}[match["positionalConstraint"]]


def _field(field: dict[str, Any], path: str, headers: dict[str, str]) -> str:
    if field == {"uriPath": {}}:
        return path
    if "singleHeader" in field:
        return headers.get(field["singleHeader"]["name"], "")
    raise AssertionError(f"the evaluator knows the URI path and single headers only: teach it {field}")


def _transformed(value: str, transformations: list[dict[str, Any]]) -> str:
    for transformation in sorted(transformations, key=lambda t: t["priority"]):
        kind = transformation["type"]
        assert kind in ("NONE", "LOWERCASE"), f"teach the evaluator {kind}"
        value = value.lower() if kind == "LOWERCASE" else value
    return value


# What a legitimate search may contain, and the managed rules (AWS's documentation of each rule)
# that would match it in a query string or an MCP request body.
LEGITIMATE_SEARCHES = {
    "web.config": ["AWSManagedRulesCommonRuleSet:RestrictedExtensions_QUERYARGUMENTS"],
    "app.ini": ["AWSManagedRulesCommonRuleSet:RestrictedExtensions_QUERYARGUMENTS"],
    "../": ["AWSManagedRulesCommonRuleSet:GenericLFI_QUERYARGUMENTS", "AWSManagedRulesCommonRuleSet:GenericLFI_BODY"],
    "http://169.254.169.254": [
        "AWSManagedRulesCommonRuleSet:EC2MetaDataSSRF_QUERYARGUMENTS",
        "AWSManagedRulesCommonRuleSet:EC2MetaDataSSRF_BODY",
        "AWSManagedRulesCommonRuleSet:GenericRFI_QUERYARGUMENTS",
        "AWSManagedRulesCommonRuleSet:GenericRFI_BODY",
    ],
    "${jndi": [
        "AWSManagedRulesKnownBadInputsRuleSet:Log4JRCE_QUERYSTRING",
        "AWSManagedRulesKnownBadInputsRuleSet:Log4JRCE_BODY",
    ],
    "<script>": [
        "AWSManagedRulesCommonRuleSet:CrossSiteScripting_QUERYARGUMENTS",
        "AWSManagedRulesCommonRuleSet:CrossSiteScripting_BODY",
    ],
}


def overrides(rule: dict[str, Any]) -> dict[str, dict[str, Any]]:
    group = rule["statement"]["managedRuleGroupStatement"]
    return {o["name"]: o["actionToUse"] for o in group.get("ruleActionOverrides", [])}


def blocking_rules_matching(g: Graph, path: str, labels: set[str]) -> list[str]:
    """The web ACL's own (not managed, not rate) blocking rules a request with these labels meets."""
    return [
        name
        for name, r in acl_rules(g).items()
        if "block" in r.get("action", {}) and "rateBasedStatement" not in r["statement"]
        if waf_matches(r["statement"], path, labels)
    ]


@pytest.mark.parametrize("search", sorted(LEGITIMATE_SEARCHES))
def test_a_legitimate_search_is_only_counted_on_the_api_and_mcp_paths(search: str):
    g = Graph(recording("hardened"))
    rules = acl_rules(g)
    labels: set[str] = set()
    for qualified in LEGITIMATE_SEARCHES[search]:
        group_name, rule_name = qualified.split(":")
        assert overrides(rules[group_name])[rule_name] == {"count": {}}, qualified
        [group] = [grp for grp in MANAGED_RULE_GROUPS if grp.name == group_name]
        [rule] = [r for r in group.rules if r.name == rule_name]
        labels.add(group.namespace + rule.label)
    for path in ("/api/search", "/api/repos/octo/x", "/mcp"):
        assert blocking_rules_matching(g, path, labels) == [], path
    # Off the API, where nothing reads a query string or body, the same labels still block.
    assert blocking_rules_matching(g, "/index.html", labels) == ["content-rules-off-api"]


def test_every_block_waf_can_make_answers_in_the_apis_error_shape():
    g = Graph(recording("hardened"))
    acl = g.inputs(WEB_ACL)
    bodies = {b["key"]: b for b in acl["customResponseBodies"]}
    blocks = [r["action"]["block"] for r in acl["rules"] if "block" in r.get("action", {})]
    for rule in acl["rules"]:
        if "managedRuleGroupStatement" in rule["statement"]:
            assert rule["overrideAction"] == {"none": {}}
            blocks += [a["block"] for a in overrides(rule).values() if "block" in a]
    # Every rule of every group that blocks by default is overridden: to count, or to block in our shape.
    for group in MANAGED_RULE_GROUPS:
        listed = overrides(acl_rules(g)[group.name])
        assert {r.name for r in group.rules if r.blocks} == set(listed), group.name
    assert len(blocks) > 20
    for block in blocks:
        response = block["customResponse"]
        headers = {h["name"]: h["value"] for h in response["responseHeaders"]}
        assert headers["Cache-Control"] == "no-store"
        body = bodies[response["customResponseBodyKey"]]
        assert body["contentType"] == "APPLICATION_JSON"
        error = json.loads(body["content"])
        assert schema_errors(error, status=str(int(response["responseCode"]))) == []
        assert error["error"]["code"] in error_codes_in_spec()
    assert {e.code for e in WAF_ERRORS} <= error_codes_in_spec()


# -- access logs and tracing -------------------------------------------------------------------------


def test_cloudfront_access_logs_deliver_from_us_east_1_to_a_retained_group():
    g = graph("prod", ("accessLogs", "true"))
    source = g.inputs("aws:cloudwatch/logDeliverySource:LogDeliverySource")
    assert (source["logType"], source["region"]) == ("ACCESS_LOGS", "us-east-1")
    assert source["resourceArn"] == output(g, "cdn-distribution", "arn")
    destination = g.inputs("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
    assert destination["deliveryDestinationConfiguration"]["destinationResourceArn"] == output(
        g, "cdn-access-logs", "arn"
    )
    delivery = g.inputs("aws:cloudwatch/logDelivery:LogDelivery")
    assert delivery["deliverySourceName"] == source["name"] and delivery["region"] == "us-east-1"
    group = inputs(g, "cdn-access-logs")
    assert (group["region"], group["retentionInDays"]) == ("us-east-1", 30)  # prod's logRetentionDays


def test_api_access_logs_in_json_and_the_account_setting_kept_on_destroy():
    g = graph("prod", ("accessLogs", "true"))
    stage = g.inputs("aws:apigateway/stage:Stage")
    assert stage["accessLogSettings"]["destinationArn"] == output(g, "search-access-logs", "arn")
    assert set(json.loads(stage["accessLogSettings"]["format"])) >= {"requestId", "status", "resourcePath"}
    account = named(g, "search-apigateway-account")
    role = named(g, "search-apigateway-logs-role")
    assert account.get("retainOnDelete") is True and role.get("retainOnDelete") is True
    assert unwrap(account["inputs"])["cloudwatchRoleArn"] == output(g, "search-apigateway-logs-role", "arn")
    trust = json.loads(unwrap(role["inputs"])["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "apigateway.amazonaws.com"}]
    assert "search-apigateway-account" in named(g, "search-stage")["dependsOn"]


def test_tracing_on_the_function_and_the_stage_with_permission_to_write():
    g = graph("dev", ("tracing", "true"))
    assert g.inputs("aws:lambda/function:Function")["tracingConfig"] == {"mode": "Active"}
    assert g.inputs("aws:apigateway/stage:Stage")["xrayTracingEnabled"] is True
    policy = json.loads(inputs(g, "search-function-tracing")["policy"])
    assert [s["Action"] for s in policy["Statement"]] == [["xray:PutTraceSegments", "xray:PutTelemetryRecords"]]
    # Off is said, not left out: the provider keeps the last mode when none is sent, so a stack that
    # turns tracing off would stay Active without the X-Ray permission.
    untraced = Graph(recording("dev"))
    assert untraced.inputs("aws:lambda/function:Function")["tracingConfig"] == {"mode": "PassThrough"}
    assert untraced.inputs("aws:apigateway/stage:Stage")["xrayTracingEnabled"] is False


def test_hardened_config_switches_everything_on():
    assert dict(HARDENED).keys() == {"alarmEmail", "wafEnabled", "accessLogs", "tracing"}
    assert types(Graph(recording("hardened"))) >= OPS_TYPES
