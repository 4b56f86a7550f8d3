"""Stack configuration: Pulumi.yaml and the program agree, and bad config fails before any resource."""

from __future__ import annotations

import json

import pytest
import yaml

from infra.settings import DEFAULTS, ConfigError, load
from tests.conftest import TOKEN
from tests.program import synth
from tools.synth import ROOT

PROJECT_CONFIG = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
GOOD_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"

# (overrides on the dev stack, key named, words the fix must contain)
BAD = {
    "certificate in another region": (
        {
            "domain": "search.example.com",
            "hostedZoneId": "Z0123456789EXAMPLE000",
            "acmCertificateArn": GOOD_ARN.replace("us-east-1", "eu-west-1"),
        },
        "acmCertificateArn",
        ["eu-west-1", "us-east-1"],
    ),
    "malformed certificate ARN": (
        {
            "domain": "search.example.com",
            "hostedZoneId": "Z0123456789EXAMPLE000",
            "acmCertificateArn": "arn:aws:acm:us-east-1:cert",
        },
        "acmCertificateArn",
        ["not an ACM certificate ARN", "pulumi config set acmCertificateArn"],
    ),
    "MCP origin with a path": (
        {"mcpAllowedOrigins": "https://claude.ai, https://chatgpt.com/connectors"},
        "mcpAllowedOrigins",
        ["https://chatgpt.com/connectors", "pulumi config set mcpAllowedOrigins"],
    ),
    "MCP origin over plain http": (
        {"mcpAllowedOrigins": "http://example.com"},
        "mcpAllowedOrigins",
        ["http only for localhost"],
    ),
    "domain without zone": ({"domain": "search.example.com"}, "hostedZoneId", ["pulumi config set hostedZoneId"]),
    "zone without domain": (
        {"hostedZoneId": "Z0123456789EXAMPLE000"},
        "domain",
        ["pulumi config set domain", "pulumi config rm hostedZoneId"],
    ),
    "domain is a URL": (
        {"domain": "https://search.example.com/", "hostedZoneId": "Z0123456789EXAMPLE000"},
        "domain",
        ["not a valid host name", "without https://"],
    ),
    "domain with a bad label": (
        {"domain": "-bad-.example.com", "hostedZoneId": "Z0123456789EXAMPLE000"},
        "domain",
        ["not a valid host name"],
    ),
    "ARN without domain": (
        {"acmCertificateArn": GOOD_ARN},
        "acmCertificateArn",
        ["only used with 'domain'", "pulumi config rm acmCertificateArn"],
    ),
    "zero TTL": (
        {"cacheTtlSeconds": "0"},
        "cacheTtlSeconds",
        ["from 1 to 86400", "pulumi config set cacheTtlSeconds 300"],
    ),
    "negative TTL": ({"cacheTtlSeconds": "-5"}, "cacheTtlSeconds", ["from 1 to 86400"]),
    "zero rate": (
        {"throttleRateLimit": "0"},
        "throttleRateLimit",
        ["a whole number from 1 to", "pulumi config set throttleRateLimit 10"],
    ),
    "negative burst": (
        {"throttleBurstLimit": "-1"},
        "throttleBurstLimit",
        ["a whole number from 1 to", "pulumi config set throttleBurstLimit 20"],
    ),
    "zero retention": (
        {"logRetentionDays": "0"},
        "logRetentionDays",
        ["CloudWatch Logs accepts", "pulumi config set logRetentionDays 14"],
    ),
    "retention CloudWatch refuses": ({"logRetentionDays": "10"}, "logRetentionDays", ["CloudWatch Logs accepts"]),
    "unknown price class": (
        {"priceClass": "PriceClass_Cheap"},
        "priceClass",
        ["PriceClass_100, PriceClass_200, PriceClass_All"],
    ),
    "plain-http GitHub": ({"githubApiUrl": "http://github.example.com/api/v3"}, "githubApiUrl", ["https"]),
    "bad email": ({"contactEmail": "ops-at-example"}, "contactEmail", ["not an email address"]),
    "unknown sign-in": ({"auth": "google"}, "auth", ["none, github", "pulumi config set auth github"]),
    "sign-in without an OAuth App": (
        {"auth": "github"},
        "githubOAuthClientId",
        ["create a GitHub OAuth App", "pulumi config set githubOAuthClientId"],
    ),
    "sign-in without its secret": (
        {"auth": "github", "githubOAuthClientId": "Ov23liABCDEFGHIJKLMN"},
        "githubOAuthClientSecret",
        ["pulumi config set --secret githubOAuthClientSecret"],
    ),
    "OAuth App secret in plain text": (
        {"githubOAuthClientSecret": "0123456789abcdef"},
        "githubOAuthClientSecret",
        ["plain text", "reset the client secret", "--secret githubOAuthClientSecret"],
    ),
    "allow-list with a name GitHub refuses": (
        {"authAllowedUsers": "octocat, not a login"},
        "authAllowedUsers",
        ["not a GitHub user", "pulumi config set authAllowedUsers"],
    ),
    "a fence larger than GitHub's operators allow": (
        {"searchScope": "org:a org:b org:c repo:d/e repo:f/g"},
        "searchScope",
        ["at most 4", "pulumi config set searchScope"],
    ),
    "a daily budget without sign-in": (
        {"dailyCallsPerPerson": "500"},
        "dailyCallsPerPerson",
        ["without sign-in there is no person", "pulumi config set auth github", "wafEnabled"],
    ),
    "a fence qualifier GitHub does not scope by": (
        {"searchScope": "org:acme topic:cli"},
        "searchScope",
        ["'topic:cli' is not org:<name>", "pulumi config set searchScope"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_config_fails_before_any_resource(case: str):
    overrides, key, words = BAD[case]
    rec = synth("dev", tuple(overrides.items()))["raw"]
    assert rec["resources"] == [], "resources were registered before the config was checked"
    message = rec["error"]
    assert message is not None, "the program accepted bad config"
    assert f"'{key}'" in message and "Fix:" in message
    for word in words:
        assert word in message
    assert message.count("Invalid stack configuration") == 1


def test_project_file_declares_exactly_the_program_keys_and_defaults():
    assert set(PROJECT_CONFIG) == set(DEFAULTS)
    for key, spec in PROJECT_CONFIG.items():
        default = spec["default"]
        assert (json.dumps(default) if isinstance(default, bool) else str(default)) == DEFAULTS[key], key
        assert spec["description"]
        kind = "boolean" if DEFAULTS[key] in ("true", "false") else "integer" if DEFAULTS[key].isdigit() else "string"
        assert spec["type"] == kind, key


def test_project_defaults_load_and_are_the_documented_ones():
    settings = load({})
    assert (settings.domain, settings.hosted_zone_id, settings.acm_certificate_arn, settings.contact_email) == (
        None,
    ) * 4
    assert settings.has_github_token is False
    assert settings.github_api_url == "https://api.github.com"
    assert (
        settings.cache_ttl_seconds,
        settings.throttle_rate_limit,
        settings.throttle_burst_limit,
        settings.log_retention_days,
    ) == (300, 10, 20, 14)
    assert settings.price_class == "PriceClass_100"


def test_domain_is_normalised_and_enterprise_url_accepted():
    settings = load(
        {"domain": "Search.Example.COM.", "hostedZoneId": "Z1", "githubApiUrl": "https://ghe.example.com/api/v3/"}
    )
    assert settings.domain == "search.example.com"
    assert settings.creates_certificate
    assert settings.github_api_url == "https://ghe.example.com/api/v3"


def test_config_error_names_key():
    with pytest.raises(ConfigError) as caught:
        load({"priceClass": "x"})
    assert caught.value.key == "priceClass"


def test_dev_stack_file_needs_nothing_but_a_region():
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    assert list(stack) == ["aws:region"]


def test_prod_stack_file_shows_domain_zone_certificate_and_tags_with_example_values():
    text = (ROOT / "Pulumi.prod.yaml").read_text()
    stack = yaml.safe_load(text)["config"]
    for key in (
        "github-search-plugin:domain",
        "github-search-plugin:hostedZoneId",
        "github-search-plugin:acmCertificateArn",
    ):
        assert "example" in stack[key].lower() or "000000" in stack[key]
    assert stack["aws:defaultTags"]["tags"]
    assert "githubToken" not in "".join(stack)  # set with --secret, never committed
    # a comment above every key
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("  ") and not line.startswith("   ") and not line.strip().startswith("#") and ":" in line:
            assert lines[n - 1].strip().startswith("#"), f"no comment above {line.strip()}"


SECRET_TOKEN = (("githubToken", TOKEN),)
ANY_ENV = {"GITHUB_API_URL": "https://api.github.com", "CACHE_TTL_SECONDS": "300", "MCP_ALLOWED_ORIGINS": ""}
ZONE = "Z0123456789EXAMPLE000"  # Pulumi.prod.yaml's example zone, which the mocked account holds as example.com
# (stack, overrides, secret config, tools.synth flags for the mocked account, key named, words the message needs)
REFUSED = {
    "token set without --secret": (
        "dev",
        (("githubToken", TOKEN),),
        (),
        (),
        "githubToken",
        ["plain text", "pulumi config rm githubToken && pulumi config set --secret githubToken"],
    ),
    "cache TTL longer than a day": ("dev", (("cacheTtlSeconds", "86401"),), (), (), "cacheTtlSeconds", ["86400"]),
    "zone that holds another domain": (
        "prod",
        (),
        SECRET_TOKEN,
        ("--zone", f"{ZONE}=example.org."),
        "hostedZoneId",
        [f"{ZONE} is example.org, which does not contain search.example.com"],
    ),
    "private zone": (
        "prod",
        (),
        SECRET_TOKEN,
        ("--zone", f"{ZONE}=example.com.:private"),
        "hostedZoneId",
        ["private zone"],
    ),
    "zone the account does not have": (
        "prod",
        (("hostedZoneId", "Z0NOSUCHZONE0000000"),),
        SECRET_TOKEN,
        (),
        "hostedZoneId",
        ["Z0NOSUCHZONE0000000 cannot be read in this account", "NoSuchHostedZone", "list-hosted-zones"],
    ),
    "certificate of another account": (
        "prod",
        (),
        SECRET_TOKEN,
        ("--account", "210987654321"),
        "acmCertificateArn",
        ["account 123456789012", "account 210987654321", "pulumi config rm acmCertificateArn"],
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_before_any_resource_with_the_key_named(case: str):
    stack, overrides, secrets, flags, key, words = REFUSED[case]
    rec = synth(stack, overrides, secrets, flags)["raw"]
    assert rec["resources"] == [], "resources were registered before the check"
    message = rec["error"]
    assert message is not None and f"'{key}'" in message and "Fix:" in message
    for word in words:
        assert word in message
    assert TOKEN not in message


def test_token_set_as_a_secret_is_accepted_and_stays_secret():
    rec = synth("dev", (), SECRET_TOKEN)["raw"]
    assert rec["error"] is None
    [function] = [r for r in rec["resources"] if r["type"] == "aws:lambda/function:Function"]
    assert function["inputs"]["environment"] == {"secret": {"variables": {**ANY_ENV, "GITHUB_TOKEN": TOKEN}}}


def test_lookups_only_with_a_domain_and_only_read_only_ones():
    assert synth("dev")["raw"]["invokes"] == []
    assert synth("prod", (), SECRET_TOKEN)["raw"]["invokes"] == [
        "aws:route53/getZone:getZone",
        "aws:index/getCallerIdentity:getCallerIdentity",
    ]
    created_certificate = synth("prod", (("acmCertificateArn", ""),), SECRET_TOKEN)["raw"]
    assert created_certificate["invokes"] == ["aws:route53/getZone:getZone"]


def test_an_unexpected_lookup_is_named_by_the_harness():
    from tools.synth import UnexpectedInvoke, invoke_outputs

    with pytest.raises(UnexpectedInvoke, match=r"aws:s3/getBucket:getBucket"):
        invoke_outputs("aws:s3/getBucket:getBucket", {"bucket": "x"}, {}, "123456789012")


def test_pulumi_new_prompts_only_for_declared_keys_and_the_token_as_a_secret():
    template = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["template"]
    prompts = template["config"]
    assert template["description"] and template["displayName"]
    project_keys = {key for key in prompts if ":" not in key}
    assert project_keys <= set(PROJECT_CONFIG), project_keys - set(PROJECT_CONFIG)
    assert {key for key in prompts if ":" in key} == {"aws:region"}
    assert prompts["githubToken"]["secret"] is True and "default" not in prompts["githubToken"]
    for key in project_keys - {"githubToken"}:
        assert str(prompts[key]["default"]) == DEFAULTS[key], key
    assert all(spec["description"] for spec in prompts.values())


def test_every_number_is_bounded_by_what_aws_accepts():
    """Each numeric setting has a largest accepted value (tests/program.py LARGEST, which the AWS
    models check renders a stack with); one more is refused at preview, naming the key."""
    from tests.program import LARGEST

    numeric = {key for key, default in DEFAULTS.items() if default.isdigit()}
    assert {key for key, _ in LARGEST} == numeric
    assert load(dict(LARGEST)) is not None
    for key, largest in LARGEST:
        for beyond in (str(int(largest) + 1), "9" * 5000):
            with pytest.raises(ConfigError, match=f"'{key}'"):
                load({key: beyond})


SIGNED_IN = {
    "auth": "github",
    "githubOAuthClientId": "Ov23liABCDEFGHIJKLMN",
    "githubOAuthClientSecret": "0123456789abcdef",
}


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "lots", "1000000001", "9" * 5000])
def test_a_daily_budget_is_a_whole_number_of_calls(value: str):
    with pytest.raises(ConfigError, match="'dailyCallsPerPerson'") as refused:
        load({**SIGNED_IN, "dailyCallsPerPerson": value}, frozenset({"githubOAuthClientSecret"}))
    assert "from 1 to 1,000,000,000" in str(refused.value)
    assert "Fix: pulumi config set dailyCallsPerPerson 500" in str(refused.value)


def test_a_daily_budget_reaches_the_function():
    settings = load({**SIGNED_IN, "dailyCallsPerPerson": " 500 "}, frozenset({"githubOAuthClientSecret"}))
    assert settings.daily_calls_per_person == 500
    assert load(SIGNED_IN, frozenset({"githubOAuthClientSecret"})).daily_calls_per_person is None
