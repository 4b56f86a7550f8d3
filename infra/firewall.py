"""An optional WAF web ACL for the distribution: a per-IP rate limit that answers in the API's
error shape, and the AWS managed rule groups that fit a public read-only API.

A web ACL for CloudFront lives in us-east-1, whatever the stack's region.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

EDGE_REGION = "us-east-1"
WINDOW_SECONDS = 300  # WAF counts each IP's requests over this window
RATE_LIMITED_BODY = json.dumps(
    {
        "error": {
            "code": "rate_limited",
            "message": "too many requests from this address; retry in a few minutes",
        }
    }
)
# AWS managed rule groups, in priority order after the rate limit. Their rules that would refuse
# a legitimate request of this API only count: an MCP request body may exceed 8 KB, and a search
# query may quote markup (`q=<script>` is a fine thing to search GitHub for).
MANAGED_RULE_GROUPS = (
    ("AWSManagedRulesAmazonIpReputationList", ()),
    ("AWSManagedRulesKnownBadInputsRuleSet", ()),
    (
        "AWSManagedRulesCommonRuleSet",
        ("SizeRestrictions_BODY", "CrossSiteScripting_BODY", "CrossSiteScripting_QUERYARGUMENTS"),
    ),
)


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def rules(rate_limit: int) -> list[aws.wafv2.WebAclRuleArgsDict]:
    """The web ACL's rules: pure, so tests read them without mocks."""
    rate_rule: aws.wafv2.WebAclRuleArgsDict = {
        "name": "rate-limit-per-ip",
        "priority": 0,
        "action": {
            "block": {
                "custom_response": {
                    "response_code": 429,
                    "custom_response_body_key": "rate_limited",
                    "response_headers": [
                        {"name": "Retry-After", "value": str(WINDOW_SECONDS)},
                        {"name": "Cache-Control", "value": "no-store"},
                    ],
                }
            }
        },
        "statement": {
            "rate_based_statement": {
                "limit": rate_limit,
                "aggregate_key_type": "IP",
                "evaluation_window_sec": WINDOW_SECONDS,
            }
        },
        "visibility_config": _visibility("rate-limit-per-ip"),
    }
    managed: list[aws.wafv2.WebAclRuleArgsDict] = [
        {
            "name": group,
            "priority": priority,
            "override_action": {"none": {}},
            "statement": {
                "managed_rule_group_statement": {
                    "vendor_name": "AWS",
                    "name": group,
                    "rule_action_overrides": [{"name": rule, "action_to_use": {"count": {}}} for rule in counted],
                }
            },
            "visibility_config": _visibility(group),
        }
        for priority, (group, counted) in enumerate(MANAGED_RULE_GROUPS, start=1)
    ]
    return [rate_rule, *managed]


class Firewall(pulumi.ComponentResource):
    web_acl: aws.wafv2.WebAcl

    def __init__(self, name: str, *, rate_limit: int, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("github-search:waf:Firewall", name, None, opts)
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-web-acl",
            region=EDGE_REGION,
            scope="CLOUDFRONT",
            description="GitHub search: per-IP rate limit and AWS managed rules",
            default_action={"allow": {}},
            custom_response_bodies=[
                {"key": "rate_limited", "content": RATE_LIMITED_BODY, "content_type": "APPLICATION_JSON"}
            ],
            rules=rules(rate_limit),
            visibility_config=_visibility("github-search"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"webAclArn": self.web_acl.arn})
