"""Alarms that say what broke and what to do, a dashboard, and the topics they notify.

Created only with `alarmEmail`. An alarm can notify only a topic in its own region, and
CloudFront's metrics live in us-east-1, so a stack elsewhere gets a second topic there (and a
second confirmation email). Topics are encrypted with a key of the stack's own: CloudWatch
alarms cannot publish to a topic encrypted with the AWS-managed SNS key, whose policy cannot
grant them the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.audit import QUESTIONS
from infra.firewall import RATE_RULES

EDGE_REGION = "us-east-1"  # where CloudFront publishes its metrics (dimension Region=Global)
PERIOD_SECONDS = 300
RATE_LIMITED_PERCENT = 20  # a fifth of searches refused: users notice; a few 429s at a burst do not matter
EDGE_5XX_PERCENT = 5
AVERAGE = {"stat": "Average"}
QUIET = "notBreaching"  # missing data (no traffic) is not an outage


@dataclass(frozen=True)
class LogMetric:
    """A count the function's JSON log lines yield, through a metric filter."""

    name: str
    pattern: str  # CloudWatch Logs filter pattern syntax, over the fields app.handler logs


TOKEN_REFUSED = LogMetric("TokenRefused", "{ $.token_refused IS TRUE }")
REQUESTS = LogMetric("Requests", "{ $.status >= 100 }")
RATE_LIMITED = LogMetric("RateLimited", "{ $.status = 429 }")
LOG_METRICS = (TOKEN_REFUSED, REQUESTS, RATE_LIMITED)
# With sign-in: calls refused because the person had spent their daily budget (dailyCallsPerPerson).
OVER_BUDGET = LogMetric("OverBudget", '{ $.error = "over_budget" }')

REFUSED_HELP = (
    "GitHub refused the stack's token (401/403): every search now fails with 502. The fine-grained token "
    "has most likely expired (they last a year at most) or was revoked. Create a new one with no "
    "repository permissions, then: pulumi config set --secret githubToken <token> && pulumi up"
)
RATE_LIMITED_HELP = (
    f"More than {RATE_LIMITED_PERCENT}% of the function's answers in 5 minutes were 429: GitHub's search limit "
    "(30/min with a token, 10 without), shared by every user of the stack, ran out. This alarm counts only "
    "the function's own 429s; the usage plan's throttling and WAF's per-IP limits answer before the function "
    "and are on the dashboard ('Refused before the function'). Check that githubToken is set, raise "
    "cacheTtlSeconds, and look for one client hammering the API."
)
FUNCTION_ERRORS_HELP = (
    "The function failed or was throttled: it answers every request itself, so an error here is a crash, a "
    "timeout or exhausted concurrency, and users get API Gateway's 5xx. Read the function's log group "
    "around the alarm's time; for throttles, check the account's Lambda concurrency."
)
OVER_BUDGET_HELP = (
    "Someone signed in made more calls today than dailyCallsPerPerson allows, and was refused (429 over_budget) "
    "until 00:00 UTC. A runaway agent, or a budget too small for real work: the saved query "
    "calls-and-refusals-per-person-per-day (and the dashboard) names the person and the client. Raise it with "
    "pulumi config set dailyCallsPerPerson <calls> && pulumi up."
)
EDGE_5XX_HELP = (
    f"More than {EDGE_5XX_PERCENT}% of CloudFront's answers were 5xx: GitHub failing or refusing the token "
    "(502, see the token alarm), GitHub too slow (504), or the API or function down. Run "
    "make smoke URL=<url> and read the function's log group."
)


def metric_query(
    id_: str, namespace: str, metric: str, dimensions: dict[str, pulumi.Input[str]] | None = None
) -> aws.cloudwatch.MetricAlarmMetricQueryArgsDict:
    return {
        "id": id_,
        "return_data": False,
        "metric": {
            "namespace": namespace,
            "metric_name": metric,
            "period": PERIOD_SECONDS,
            "stat": "Sum",
            "dimensions": dimensions,
        },
    }


class Monitoring(pulumi.ComponentResource):
    dashboard_url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        alarm_email: str,
        region: str,
        function_name: pulumi.Input[str],
        log_group_name: pulumi.Input[str],
        distribution_id: pulumi.Input[str],
        api_name: pulumi.Input[str],
        stage_name: pulumi.Input[str],
        web_acl_metric: str | None = None,
        rate_rules: tuple[str, ...] = RATE_RULES,
        audited: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`audited`: with sign-in, the budget refusals' alarm and the audit's questions on the dashboard."""
        super().__init__("github-search:ops:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = f"GitHubSearch/{pulumi.get_stack()}"
        account = aws.get_caller_identity_output().account_id

        topic = self._topic(f"{name}-alarms", alarm_email, None, account)
        edge_topic = (
            topic if region == EDGE_REGION else self._topic(f"{name}-edge-alarms", alarm_email, EDGE_REGION, account)
        )

        for metric in LOG_METRICS + ((OVER_BUDGET,) if audited else ()):
            aws.cloudwatch.LogMetricFilter(
                f"{name}-{metric.name.lower()}",
                log_group_name=log_group_name,
                pattern=metric.pattern,
                metric_transformation={"name": metric.name, "namespace": namespace, "value": "1", "unit": "Count"},
                opts=child,
            )
        actions = [topic.arn]
        # Any one of these in 5 minutes is worth a look: a refused token, a person over their budget.
        for alarm, help_text, metric in (("token-refused", REFUSED_HELP, TOKEN_REFUSED),) + (
            (("over-budget", OVER_BUDGET_HELP, OVER_BUDGET),) if audited else ()
        ):
            aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm}",
                alarm_description=help_text,
                namespace=namespace,
                metric_name=metric.name,
                statistic="Sum",
                period=PERIOD_SECONDS,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                alarm_actions=actions,
                ok_actions=actions,
                treat_missing_data=QUIET,
                opts=child,
            )
        self._expression_alarm(
            f"{name}-rate-limited",
            RATE_LIMITED_HELP,
            [metric_query("limited", namespace, RATE_LIMITED.name), metric_query("requests", namespace, REQUESTS.name)],
            ("IF(requests > 0, 100 * limited / requests, 0)", "Share of requests answered 429 (%)"),
            (RATE_LIMITED_PERCENT, "GreaterThanThreshold"),
            actions=actions,
        )
        function = {"FunctionName": function_name}
        self._expression_alarm(
            f"{name}-function-errors",
            FUNCTION_ERRORS_HELP,
            [
                metric_query("errors", "AWS/Lambda", "Errors", function),
                metric_query("throttles", "AWS/Lambda", "Throttles", function),
            ],
            ("errors + throttles", "Errors and throttles"),
            (1, "GreaterThanOrEqualToThreshold"),
            actions=actions,
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-edge-5xx",
            region=EDGE_REGION,
            alarm_description=EDGE_5XX_HELP,
            namespace="AWS/CloudFront",
            metric_name="5xxErrorRate",
            dimensions={"DistributionId": distribution_id, "Region": "Global"},
            statistic="Average",
            period=PERIOD_SECONDS,
            evaluation_periods=2,  # two bad 5-minute windows in a row, not one blip
            threshold=EDGE_5XX_PERCENT,
            comparison_operator="GreaterThanThreshold",
            alarm_actions=[edge_topic.arn],
            ok_actions=[edge_topic.arn],
            treat_missing_data=QUIET,
            opts=child,
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"github-search-{pulumi.get_stack()}",
            dashboard_body=pulumi.Output.all(
                function_name, log_group_name, distribution_id, api_name, stage_name
            ).apply(
                lambda a: dashboard_body(
                    namespace, region, Watched(a[0], a[1], a[2], a[3], a[4], web_acl_metric, rate_rules, audited)
                )
            ),
            opts=child,
        )
        self.dashboard_url = dashboard.dashboard_name.apply(
            lambda n: (
                f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{n}"
            )
        )
        self.register_outputs({"dashboardUrl": self.dashboard_url})

    def _expression_alarm(
        self,
        name: str,
        description: str,
        metrics: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict],
        expression: tuple[str, str],
        threshold: tuple[float, str],
        *,
        actions: list[pulumi.Output[str]],
    ) -> None:
        """An alarm on metric math over 5 minutes: `expression` is (math, label), `threshold` (value, operator)."""
        math, label = expression
        aws.cloudwatch.MetricAlarm(
            name,
            alarm_description=description,
            metric_queries=[*metrics, {"id": "result", "expression": math, "label": label, "return_data": True}],
            evaluation_periods=1,
            threshold=threshold[0],
            comparison_operator=threshold[1],
            alarm_actions=actions,
            ok_actions=actions,
            treat_missing_data=QUIET,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _topic(self, name: str, email: str, region: str | None, account: pulumi.Output[str]) -> aws.sns.Topic:
        """An encrypted topic that the account's alarms may publish to, with the email subscribed."""
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            f"{name}-key",
            region=region,
            description="Encrypts the GitHub search alarm topic; CloudWatch alarms may use it to publish",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            policy=account.apply(topic_key_policy),
            opts=child,
        )
        topic = aws.sns.Topic(f"{name}", region=region, kms_master_key_id=key.id, opts=child)
        aws.sns.TopicSubscription(
            f"{name}-email", region=region, topic=topic.arn, protocol="email", endpoint=email, opts=child
        )
        aws.sns.TopicPolicy(
            f"{name}-policy",
            region=region,
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, account).apply(lambda args: topic_policy(*args)),
            opts=child,
        )
        return topic


def topic_key_policy(account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    # SNS's documented statement for AWS services publishing to an encrypted topic
                    # (sns-key-management.html#compatibility-with-aws-services), with no condition:
                    # nothing documents that CloudWatch's KMS calls carry aws:SourceAccount, and a
                    # condition on a missing key fails. The topic policy limits who may publish.
                    "Sid": "AlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                },
            ],
        }
    )


def topic_policy(topic_arn: str, account: str) -> str:
    """Only this account's alarms, and its owner, may publish."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    # CloudWatch's confused-deputy guard for alarm topics: both keys, as documented.
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:*:{account}:alarm:*"},
                        "StringEquals": {"aws:SourceAccount": account},
                    },
                },
                {
                    "Sid": "OwnerManages",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes"],
                    "Resource": topic_arn,
                },
                {
                    "Sid": "TlsOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


@dataclass(frozen=True)
class Watched:
    """The names CloudWatch knows the stack's parts by."""

    function_name: str
    log_group: str
    distribution_id: str
    api_name: str
    stage_name: str
    web_acl_metric: str | None = None  # with wafEnabled
    rate_rules: tuple[str, ...] = RATE_RULES  # the web ACL's rate rules (sign-in has its own)
    audited: bool = False  # with sign-in: the audit's questions too


def dashboard_body(namespace: str, region: str, watched: Watched) -> str:
    """Requests, cache outcomes, upstream status and latency, refusals, and the edge, on one page."""
    function_name, log_group, distribution_id = watched.function_name, watched.log_group, watched.distribution_id

    def metrics(title: str, lines: list[list[object]], widget_region: str = region) -> dict[str, object]:
        return {
            "type": "metric",
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": widget_region,
                "stat": "Sum",
                "period": PERIOD_SECONDS,
                "metrics": lines,
            },
        }

    def logs(title: str, query: str, view: str = "timeSeries") -> dict[str, object]:
        # Logs Insights: costs only when the dashboard is viewed (per GB scanned).
        source = f"SOURCE '{log_group}' | "
        return {
            "type": "log",
            "width": 12,
            "height": 6,
            "properties": {"title": title, "region": region, "view": view, "query": source + query},
        }

    widgets = [
        metrics(
            "Requests and refusals",
            [
                [namespace, REQUESTS.name, {"label": "requests"}],
                [namespace, RATE_LIMITED.name, {"label": "429 rate limited"}],
                [namespace, TOKEN_REFUSED.name, {"label": "token refused"}],
            ],
        ),
        logs("Cache outcomes (X-Search-Cache)", "filter ispresent(cache) | stats count(*) by cache, bin(5m)"),
        logs(
            "GitHub answers by status",
            "filter ispresent(upstream_status) | stats count(*) by upstream_status, bin(5m)",
        ),
        logs(
            "GitHub latency (ms)",
            "filter ispresent(upstream_ms) | stats avg(upstream_ms), pct(upstream_ms, 99) by bin(5m)",
        ),
        metrics(
            "Function",
            [
                ["AWS/Lambda", "Invocations", "FunctionName", function_name],
                ["AWS/Lambda", "Errors", "FunctionName", function_name],
                ["AWS/Lambda", "Throttles", "FunctionName", function_name],
            ],
        ),
        metrics("Refused before the function", refusals_before_the_function(watched)),
        metrics(
            "Edge (CloudFront)",
            [
                ["AWS/CloudFront", "Requests", "DistributionId", distribution_id, "Region", "Global"],
                [
                    "AWS/CloudFront",
                    "5xxErrorRate",
                    "DistributionId",
                    distribution_id,
                    "Region",
                    "Global",
                    {"stat": "Average"},
                ],
            ],
            EDGE_REGION,
        ),
    ]
    if watched.audited:  # the owner's questions, as saved (infra/audit.py), one click from here
        widgets += [logs(q.name.replace("-", " ").capitalize(), q.query, "table") for q in QUESTIONS]
    return json.dumps({"widgets": widgets})


def refusals_before_the_function(watched: Watched) -> list[list[object]]:
    """429s the function never sees, so its log (and the rate-limited alarm) cannot count them: the
    usage plan's throttling, within API Gateway's 4xx, and WAF's per-IP limits (in us-east-1)."""
    label = {"label": "API Gateway 4xx (the usage plan's throttling among them)"}
    lines: list[list[object]] = [
        ["AWS/ApiGateway", "4XXError", "ApiName", watched.api_name, "Stage", watched.stage_name, label]
    ]
    if watched.web_acl_metric is not None:
        lines += [
            [
                "AWS/WAFV2",
                "BlockedRequests",
                "WebACL",
                watched.web_acl_metric,
                "Rule",
                rule,
                {"label": f"WAF {rule}", "region": EDGE_REGION},
            ]
            for rule in watched.rate_rules
        ]
    return lines
