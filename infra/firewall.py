"""An optional WAF web ACL for the distribution: per-IP rate limits and the AWS managed rule
groups that fit a public read-only API, every refusal in the API's JSON error shape.

A web ACL for CloudFront lives in us-east-1, whatever the stack's region.

Searching GitHub for `web.config`, `../`, `http://169.254.169.254` or `${jndi` is legitimate, and
so is a sign-in whose redirect URI is `http://127.0.0.1:33418/callback`, so the managed rules
that inspect query strings and bodies only count on the API's paths (/api/* and /mcp) and, with
sign-in, its endpoints; elsewhere (the static files) a rule after the groups blocks on their
labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from infra.settings import WAF_RATE_LIMIT_RANGE

EDGE_REGION = "us-east-1"
WINDOW_SECONDS = 300  # WAF counts each IP's requests over this window
MCP_PATH = "/mcp"


@dataclass(frozen=True)
class WafError:
    """An answer WAF makes itself, in the API's error shape (documented in openapi.yaml)."""

    key: str  # the custom response body's key in the web ACL
    status: int
    code: str
    message: str
    retry_after: int | None = None

    def body(self) -> str:
        return json.dumps({"error": {"code": self.code, "message": self.message}})

    def response(self) -> dict[str, Any]:
        headers = [{"name": "Cache-Control", "value": "no-store"}]
        if self.retry_after is not None:
            headers.append({"name": "Retry-After", "value": str(self.retry_after)})
        return {"response_code": self.status, "custom_response_body_key": self.key, "response_headers": headers}


RATE_LIMITED = WafError(
    "rate_limited", 429, "rate_limited", "too many requests from this address; retry in a few minutes", WINDOW_SECONDS
)
FORBIDDEN = WafError(
    "forbidden", 403, "forbidden", "the request was refused by the service's firewall (AWS managed rules)"
)
WAF_ERRORS = (RATE_LIMITED, FORBIDDEN)
RATE_LIMITED_BODY = RATE_LIMITED.body()


@dataclass(frozen=True)
class ManagedRule:
    name: str
    label: str  # the label the rule adds, after the group's namespace
    inspects_content: bool = False  # query string or body: what a search legitimately contains
    blocks: bool = True  # False: the group's own action is Count, left as it is


@dataclass(frozen=True)
class ManagedGroup:
    name: str
    namespace: str
    rules: tuple[ManagedRule, ...]


def _rules(*specs: str) -> tuple[ManagedRule, ...]:
    """'Name=Label' for a rule; a leading '?' marks one that inspects the query string or body."""
    found = []
    for spec in specs:
        name, label = spec.lstrip("?").split("=")
        found.append(ManagedRule(name, label, inspects_content=spec.startswith("?")))
    return tuple(found)


# The groups' rules and labels as AWS documents them ("AWS Managed Rules rule groups list"): each
# blocking rule is overridden to block with the API's error shape instead of WAF's 403 page. A rule
# AWS adds to a group later keeps WAF's default answer until it is listed here.
MANAGED_RULE_GROUPS = (
    ManagedGroup(
        "AWSManagedRulesAmazonIpReputationList",
        "awswaf:managed:aws:amazon-ip-list:",
        (
            ManagedRule("AWSManagedIPReputationList", "AWSManagedIPReputationList"),
            ManagedRule("AWSManagedReconnaissanceList", "AWSManagedReconnaissanceList"),
            ManagedRule("AWSManagedIPDDoSList", "AWSManagedIPDDoSList", blocks=False),
        ),
    ),
    ManagedGroup(
        "AWSManagedRulesKnownBadInputsRuleSet",
        "awswaf:managed:aws:known-bad-inputs:",
        _rules(
            "JavaDeserializationRCE_HEADER=JavaDeserializationRCE_Header",
            "?JavaDeserializationRCE_BODY=JavaDeserializationRCE_Body",
            "JavaDeserializationRCE_URIPATH=JavaDeserializationRCE_URIPath",
            "?JavaDeserializationRCE_QUERYSTRING=JavaDeserializationRCE_QueryString",
            "Host_localhost_HEADER=Host_Localhost_Header",
            "PROPFIND_METHOD=Propfind_Method",
            "ExploitablePaths_URIPATH=ExploitablePaths_URIPath",
            "Log4JRCE_HEADER=Log4JRCE_Header",
            "?Log4JRCE_QUERYSTRING=Log4JRCE_QueryString",
            "?Log4JRCE_BODY=Log4JRCE_Body",
            "Log4JRCE_URIPATH=Log4JRCE_URIPath",
            "?ReactJSRCE_BODY=ReactJSRCE_Body",
        ),
    ),
    ManagedGroup(
        "AWSManagedRulesCommonRuleSet",
        "awswaf:managed:aws:core-rule-set:",
        _rules(
            "NoUserAgent_HEADER=NoUserAgent_Header",
            "UserAgent_BadBots_HEADER=BadBots_Header",
            "SizeRestrictions_QUERYSTRING=SizeRestrictions_QueryString",
            "SizeRestrictions_Cookie_HEADER=SizeRestrictions_Cookie_Header",
            "?SizeRestrictions_BODY=SizeRestrictions_Body",  # an MCP request body may exceed 8 KB
            "SizeRestrictions_URIPATH=SizeRestrictions_URIPath",
            "?EC2MetaDataSSRF_BODY=EC2MetaDataSSRF_Body",
            "EC2MetaDataSSRF_COOKIE=EC2MetaDataSSRF_Cookie",
            "EC2MetaDataSSRF_URIPATH=EC2MetaDataSSRF_URIPath",
            "?EC2MetaDataSSRF_QUERYARGUMENTS=EC2MetaDataSSRF_QueryArguments",
            "?GenericLFI_QUERYARGUMENTS=GenericLFI_QueryArguments",
            "GenericLFI_URIPATH=GenericLFI_URIPath",
            "?GenericLFI_BODY=GenericLFI_Body",
            "RestrictedExtensions_URIPATH=RestrictedExtensions_URIPath",
            "?RestrictedExtensions_QUERYARGUMENTS=RestrictedExtensions_QueryArguments",
            "?GenericRFI_QUERYARGUMENTS=GenericRFI_QueryArguments",
            "?GenericRFI_BODY=GenericRFI_Body",
            "GenericRFI_URIPATH=GenericRFI_URIPath",
            "CrossSiteScripting_COOKIE=CrossSiteScripting_Cookie",
            "?CrossSiteScripting_QUERYARGUMENTS=CrossSiteScripting_QueryArguments",
            "?CrossSiteScripting_BODY=CrossSiteScripting_Body",
            "CrossSiteScripting_URIPATH=CrossSiteScripting_URIPath",
        ),
    ),
)


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


Statement = dict[str, Any]  # a WAF statement, as the provider's snake_case dicts

# Statements nest three levels at most here: deeper ones need the provider's raw `rule_json`.
IS_MCP: Statement = {
    "byte_match_statement": {
        "field_to_match": {"uri_path": {}},
        "positional_constraint": "EXACTLY",
        "search_string": MCP_PATH,
        "text_transformations": [{"priority": 0, "type": "NONE"}],
    }
}


def _path_matches(regex: str) -> Statement:
    return {
        "regex_match_statement": {
            "field_to_match": {"uri_path": {}},
            "regex_string": regex,
            "text_transformations": [{"priority": 0, "type": "NONE"}],
        }
    }


# Where requests legitimately carry URLs, paths and code in their query strings and bodies: the
# API, and with sign-in its endpoints (redirect URIs are URLs, loopback ones IPv4 URLs, which the
# core rule set's RFI rules take for an attack).
IS_API = _path_matches("^/(api/|mcp$)")
IS_API_OR_SIGN_IN = _path_matches(
    "^/(api/|mcp$|authorize$|token$|register$|revoke$|oauth/|\\.well-known/(oauth-|openid-configuration$))"
)
# With sign-in, what hosted assistants send from a few shared egress addresses without a token:
# the 401 probe of /mcp, discovery, and /token (codes and refreshes, for all their users).
IS_SHARED = _path_matches("^/(mcp|token|\\.well-known/.+)$")

# With sign-in: a request bearing one of the stack's access tokens (handler/signin/server.py). The
# function takes the scheme in any case (RFC 9110: case-insensitive), so WAF lowercases first.
LOWERCASE = [{"priority": 0, "type": "LOWERCASE"}]
HAS_BEARER: Statement = {
    "byte_match_statement": {
        "field_to_match": {"single_header": {"name": "authorization"}},
        "positional_constraint": "STARTS_WITH",
        "search_string": "bearer gsa_",
        "text_transformations": LOWERCASE,
    }
}
# Each signed-in user's requests, counted apart: the key is the bearer token itself (lowercased,
# so that "Bearer x" and "bearer x" are one bucket).
BY_TOKEN = [{"header": {"name": "authorization", "text_transformations": LOWERCASE}}]
# A bearer token is free to make up: one address's requests with any are capped at this many users' worth.
TOKENS_PER_IP = 10


def _not(statement: Statement) -> Statement:
    return {"not_statement": {"statement": statement}}


def _and(*statements: Statement) -> Statement:
    return {"and_statement": {"statements": list(statements)}}


def _rate_rule(
    name: str, priority: int, limit: int, scope: Statement, keys: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    by = {"aggregate_key_type": "CUSTOM_KEYS", "custom_keys": keys} if keys else {"aggregate_key_type": "IP"}
    return {
        "name": name,
        "priority": priority,
        "action": {"block": {"custom_response": RATE_LIMITED.response()}},
        "statement": {
            "rate_based_statement": {
                "limit": limit,
                **by,
                "evaluation_window_sec": WINDOW_SECONDS,
                "scope_down_statement": scope,
            }
        },
        "visibility_config": _visibility(name),
    }


def rate_rules(rate_limit: int, mcp_rate_limit: int, sign_in: bool) -> list[dict[str, Any]]:
    """Without sign-in, per IP (/mcp apart: assistants share egress addresses). With sign-in, per
    user on the paths a token opens (so one assistant's users are not one bucket); without a token,
    per IP, with the larger limit where hosted assistants call from shared addresses (the /mcp
    probe, discovery, /token) and the smaller one elsewhere (the static files, /register,
    /authorize and the consent page: a person's browser, or a stranger registering clients); and
    a ceiling per IP on requests with any token."""
    if not sign_in:
        return [
            _rate_rule(RATE_RULES[0], 0, rate_limit, _not(IS_MCP)),
            _rate_rule(RATE_RULES[1], 1, mcp_rate_limit, IS_MCP),
        ]
    return [
        _rate_rule(SIGNED_IN_RATE_RULES[0], 0, rate_limit, _and(_not(HAS_BEARER), _not(IS_SHARED))),
        _rate_rule(SIGNED_IN_RATE_RULES[1], 1, mcp_rate_limit, _and(_not(HAS_BEARER), IS_SHARED)),
        _rate_rule(SIGNED_IN_RATE_RULES[2], 2, mcp_rate_limit, HAS_BEARER, BY_TOKEN),
        # Derived, so bounded here: WAF refuses a limit over its maximum, whatever the settings took.
        _rate_rule(
            SIGNED_IN_RATE_RULES[3], 3, min(mcp_rate_limit * TOKENS_PER_IP, WAF_RATE_LIMIT_RANGE[1]), HAS_BEARER
        ),
    ]


def _managed_rule(group: ManagedGroup, priority: int) -> dict[str, Any]:
    overrides: list[dict[str, Any]] = []
    for rule in group.rules:
        if rule.inspects_content:
            overrides.append({"name": rule.name, "action_to_use": {"count": {}}})
        elif rule.blocks:
            overrides.append({"name": rule.name, "action_to_use": {"block": {"custom_response": FORBIDDEN.response()}}})
    return {
        "name": group.name,
        "priority": priority,
        "override_action": {"none": {}},
        "statement": {
            "managed_rule_group_statement": {
                "vendor_name": "AWS",
                "name": group.name,
                "rule_action_overrides": overrides,
            }
        },
        "visibility_config": _visibility(group.name),
    }


def content_labels() -> list[str]:
    return [g.namespace + r.label for g in MANAGED_RULE_GROUPS for r in g.rules if r.inspects_content]


def rules(rate_limit: int, mcp_rate_limit: int, sign_in: bool = False) -> list[aws.wafv2.WebAclRuleArgsDict]:
    """The web ACL's rules: pure, so tests read them without mocks.

    /mcp has its own per-IP limit: hosted assistants (claude.ai, ChatGPT) call from a few shared
    egress addresses, so all their users would otherwise share one bucket.
    """
    limits = rate_rules(rate_limit, mcp_rate_limit, sign_in)
    managed = [_managed_rule(group, n) for n, group in enumerate(MANAGED_RULE_GROUPS, start=len(limits))]
    content_off_api: dict[str, Any] = {
        "name": "content-rules-off-api",
        "priority": len(managed) + len(limits),
        "action": {"block": {"custom_response": FORBIDDEN.response()}},
        "statement": {
            "and_statement": {
                "statements": [
                    {
                        "or_statement": {
                            "statements": [
                                {"label_match_statement": {"scope": "LABEL", "key": label}}
                                for label in content_labels()
                            ]
                        }
                    },
                    _not(IS_API_OR_SIGN_IN if sign_in else IS_API),
                ]
            }
        },
        "visibility_config": _visibility("content-rules-off-api"),
    }
    found = [*limits, *managed, content_off_api]
    return cast(list[aws.wafv2.WebAclRuleArgsDict], found)


RATE_RULES = ("rate-limit-per-ip", "mcp-rate-limit-per-ip")
SIGNED_IN_RATE_RULES = (
    "rate-limit-per-ip",
    "shared-rate-limit-per-ip",
    "rate-limit-per-user",
    "signed-in-rate-limit-per-ip",
)


class Firewall(pulumi.ComponentResource):
    web_acl: aws.wafv2.WebAcl
    metric_name: str  # the WebACL dimension of WAF's metrics: one per stack, so stacks of an account stay apart

    def __init__(
        self,
        name: str,
        *,
        rate_limit: int,
        mcp_rate_limit: int,
        sign_in: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("github-search:waf:Firewall", name, None, opts)
        self.metric_name = f"github-search-{pulumi.get_stack()}"
        self.rate_rules = SIGNED_IN_RATE_RULES if sign_in else RATE_RULES
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-web-acl",
            region=EDGE_REGION,
            scope="CLOUDFRONT",
            # WAF's descriptions take letters, digits, spaces and +=:#@/-,. only (no apostrophe).
            description=(
                "GitHub search: per-IP rate limits and AWS managed rules, answers in the error shape of the API"
            ),
            default_action={"allow": {}},
            custom_response_bodies=[
                {"key": e.key, "content": e.body(), "content_type": "APPLICATION_JSON"} for e in WAF_ERRORS
            ],
            rules=rules(rate_limit, mcp_rate_limit, sign_in),
            visibility_config=_visibility(self.metric_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"webAclArn": self.web_acl.arn})
