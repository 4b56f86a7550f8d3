"""Stack configuration: Pulumi.yaml and the program agree, and bad config fails before any resource."""

from __future__ import annotations

import pytest
import yaml

from infra.settings import DEFAULTS, ConfigError, load
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
        ["greater than 0", "pulumi config set cacheTtlSeconds 300"],
    ),
    "negative TTL": ({"cacheTtlSeconds": "-5"}, "cacheTtlSeconds", ["greater than 0"]),
    "zero rate": (
        {"throttleRateLimit": "0"},
        "throttleRateLimit",
        ["greater than 0", "pulumi config set throttleRateLimit 10"],
    ),
    "negative burst": (
        {"throttleBurstLimit": "-1"},
        "throttleBurstLimit",
        ["greater than 0", "pulumi config set throttleBurstLimit 20"],
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
        assert str(spec["default"]) == DEFAULTS[key], key
        assert spec["description"]
        assert spec["type"] == ("integer" if DEFAULTS[key].isdigit() else "string"), key


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
