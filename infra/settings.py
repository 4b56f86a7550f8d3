"""Stack configuration: read, defaulted and validated before any resource is registered.

Pure: `load` takes the raw strings `pulumi config` holds and returns `Settings`, or raises
`ConfigError` naming the key and the command that fixes it.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

PROJECT = "github-search-plugin"
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# Defaults, as declared in Pulumi.yaml (a test keeps the two equal). "" means unset: Pulumi
# treats a declared key without a default as required, so optional keys default to "".
DEFAULTS: dict[str, str] = {
    "domain": "",
    "hostedZoneId": "",
    "acmCertificateArn": "",
    "githubToken": "",
    "githubApiUrl": "https://api.github.com",
    "cacheTtlSeconds": "300",
    "throttleRateLimit": "10",
    "throttleBurstLimit": "20",
    "logRetentionDays": "14",
    "contactEmail": "",
    "priceClass": "PriceClass_100",
    "mcpAllowedOrigins": "",
    "alarmEmail": "",
    "wafEnabled": "false",
    "wafRateLimit": "300",
    "wafMcpRateLimit": "1500",
    "accessLogs": "false",
    "tracing": "false",
    "auth": "none",
    "githubOAuthClientId": "",
    "githubOAuthClientSecret": "",
    "authAllowedUsers": "",
    "authAllowedOrgs": "",
    "deletionProtection": "false",
    "searchScope": "",
    "privateRepositories": "false",
    "dailyCallsPerPerson": "",
    "auditRetentionDays": "365",
    "auditQueries": "false",
}
AUTH_MODES = ("none", "github")
# GitHub's rule for user and organization names: letters, digits and single hyphens, 39 at most.
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_OAUTH_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
# WAF counts requests per client IP over 5 minutes; it accepts 10 to 2 billion (RateBasedStatement's
# Limit, WAFV2 API Reference).
WAF_RATE_LIMIT_RANGE = (10, 2_000_000_000)
# API Gateway's ThrottleSettings: BurstLimit is an Integer (32 bits), RateLimit a Double; what a
# usage plan takes above the account's own limits (10,000 a second) has no effect.
THROTTLE_LIMIT_MAX = 2**31 - 1

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,32}$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f-]{36}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ORIGIN = re.compile(r"^https://[a-z0-9.-]+(:[0-9]{1,5})?$|^http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?$")


class ConfigError(ValueError):
    def __init__(self, key: str, problem: str, fix: str) -> None:
        self.key = key
        super().__init__(f"Invalid stack configuration '{key}': {problem}. Fix: {fix}")


@dataclass(frozen=True)
class Settings:
    domain: str | None
    hosted_zone_id: str | None
    acm_certificate_arn: str | None
    has_github_token: bool  # the token itself stays a Pulumi secret, never in this object
    github_api_url: str
    cache_ttl_seconds: int
    throttle_rate_limit: int
    throttle_burst_limit: int
    log_retention_days: int
    contact_email: str | None
    price_class: str
    mcp_allowed_origins: tuple[str, ...] = ()
    # Operations: each off by default, so a stack at rest costs nothing more.
    alarm_email: str | None = None
    waf_enabled: bool = False
    waf_rate_limit: int = 300
    waf_mcp_rate_limit: int = 1500
    access_logs: bool = False
    tracing: bool = False
    # Sign-in with GitHub: its client secret, like the token, stays a Pulumi secret.
    auth: str = "none"
    github_oauth_client_id: str | None = None
    auth_allowed_users: tuple[str, ...] = ()
    auth_allowed_orgs: tuple[str, ...] = ()
    deletion_protection: bool = False
    # The fence: owners (org:, user:) and repositories (repo:) the stack answers about; () is all.
    search_scope: tuple[str, ...] = ()
    # People read their private repositories through a GitHub App (sign-in's app is one then).
    private_repositories: bool = False
    # Calls one signed-in person may make in a UTC day; None: no limit.
    daily_calls_per_person: int | None = None
    # With sign-in the function's log group is the audit trail: kept this long; queries' text only if asked.
    audit_retention_days: int = 365
    audit_queries: bool = False

    @property
    def sign_in(self) -> bool:
        return self.auth == "github"

    @property
    def mcp_origins(self) -> tuple[str, ...]:
        """What /mcp accepts as an Origin: the custom domain's URL, then the configured ones."""
        own = (f"https://{self.domain}",) if self.domain else ()
        return own + tuple(o for o in self.mcp_allowed_origins if o not in own)

    @property
    def creates_certificate(self) -> bool:
        return self.domain is not None and self.acm_certificate_arn is None


def _set(key: str, example: str) -> str:
    return f"pulumi config set {key} {example}"


def _positive_int(
    raw: Mapping[str, str],
    key: str,
    check: Callable[[int], bool] = lambda n: n > 0,
    rule: str = "a whole number greater than 0",
    example: str = "",
) -> int:
    value = raw[key].strip()
    # Length first: int() of thousands of digits is refused with an error of its own.
    if not (value.isascii() and value.lstrip("-").isdigit() and len(value) <= 20) or not check(int(value)):
        raise ConfigError(key, f"must be {rule}, got {value!r}", _set(key, example or DEFAULTS[key]))
    return int(value)


def valid_host_name(name: str) -> bool:
    labels = name.split(".")
    return (
        len(name) <= 253
        and len(labels) >= 2
        and all(_HOST_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()
    )


def _email(raw: Mapping[str, str], key: str) -> str | None:
    email = raw[key].strip() or None
    if email is not None and not _EMAIL.match(email):
        raise ConfigError(key, f"{email!r} is not an email address", _set(key, "ops@example.com"))
    return email


def _flag(raw: Mapping[str, str], key: str) -> bool:
    value = raw[key].strip().lower()
    if value not in ("true", "false"):
        raise ConfigError(key, f"must be true or false, got {raw[key]!r}", _set(key, "true"))
    return value == "true"


def _origins(value: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/").lower() for o in value.split(",") if o.strip())
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ConfigError(
                "mcpAllowedOrigins",
                f"{origin!r} is not an origin (https://host[:port], no path; http only for localhost)",
                _set("mcpAllowedOrigins", "https://claude.ai,https://chatgpt.com"),
            )
    return origins


MAX_CACHE_TTL_SECONDS = 86_400  # the function keeps an answer a day at most


def _plain_text_secret(raw: Mapping[str, str], secret_keys: frozenset[str], key: str, revoke: str) -> None:
    if raw[key].strip() and key not in secret_keys:
        raise ConfigError(
            key,
            f"is stored in plain text in the stack's Pulumi.<stack>.yaml, which is committed to git; {revoke}, "
            "it may already be public",
            f"pulumi config rm {key} && pulumi config set --secret {key} <new value>",
        )


def _names(raw: Mapping[str, str], key: str, example: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw[key].split(",") if n.strip())
    for name in names:
        if not _LOGIN.match(name):
            raise ConfigError(key, f"{name!r} is not a GitHub user or organization name", _set(key, example))
    return names


# The function's own rules for a fence, so that preview refuses what the function would.
FENCE_MODULE = Path(__file__).resolve().parent.parent / "handler" / "search" / "fence.py"


def _fence_rules() -> ModuleType:
    spec = importlib.util.spec_from_file_location("function_fence", FENCE_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _search_scope(raw: Mapping[str, str]) -> tuple[str, ...]:
    rules = _fence_rules()
    try:
        fence = rules.parse(raw["searchScope"])
    except ValueError as exc:
        raise ConfigError("searchScope", str(exc), _set("searchScope", '"org:my-org repo:other/tool"')) from None
    return () if fence is None else tuple(f"{kind}:{value}" for kind, value in fence.items)


def _private_repositories(raw: Mapping[str, str], auth: str, client_id: str | None) -> bool:
    if not _flag(raw, "privateRepositories"):
        if auth == "github" and client_id is not None and client_id.startswith("Iv"):
            # Its people's tokens read private repositories where it is installed; only with
            # privateRepositories are their answers kept apart and their tokens sealed.
            raise ConfigError(
                "githubOAuthClientId",
                f"{client_id!r} is a GitHub App's client ID, whose sign-ins read private repositories where the "
                "app is installed; without privateRepositories one person's private answers would be served "
                "to others",
                f"{_set('privateRepositories', 'true')} (each person's answers their own, their tokens sealed), "
                "or sign in with an OAuth App (Ov23...)",
            )
        return False
    if auth != "github":
        raise ConfigError(
            "privateRepositories",
            "reads each person's private repositories, so it needs sign-in (auth github)",
            "create a GitHub App (docs/sign-in.md, 'Private repositories'), then " + _set("auth", "github"),
        )
    if client_id is not None and client_id.startswith("Ov"):
        raise ConfigError(
            "githubOAuthClientId",
            f"{client_id!r} is an OAuth App's client ID; private repositories need a GitHub App's (Iv23...), "
            "whose read-only permissions the organization approves",
            "make github-app URL=$(pulumi stack output url), or create one by hand "
            "(docs/sign-in.md, 'Private repositories')",
        )
    return True


def _sign_in(raw: Mapping[str, str], secret_keys: frozenset[str]) -> tuple[str, str | None]:
    """The sign-in settings: `auth`, and with `github` the OAuth App and who may sign in."""
    auth = raw["auth"].strip().lower()
    if auth not in AUTH_MODES:
        raise ConfigError(
            "auth", f"must be one of {', '.join(AUTH_MODES)}, got {raw['auth']!r}", _set("auth", "github")
        )
    _plain_text_secret(
        raw, secret_keys, "githubOAuthClientSecret", "reset the client secret of that OAuth App on GitHub"
    )
    client_id = raw["githubOAuthClientId"].strip() or None
    if auth == "github":
        app = "create a GitHub OAuth App (docs/deploying.md, 'Turn on sign-in'), then "
        if client_id is None:
            raise ConfigError(
                "githubOAuthClientId", "is required with auth github", app + _set("githubOAuthClientId", "<client id>")
            )
        if not _OAUTH_CLIENT_ID.match(client_id):
            raise ConfigError(
                "githubOAuthClientId",
                f"{client_id!r} is not an OAuth App client ID",
                _set("githubOAuthClientId", "Ov23li0000000000000"),
            )
        if not raw["githubOAuthClientSecret"].strip():
            raise ConfigError(
                "githubOAuthClientSecret",
                "is required with auth github",
                app + "pulumi config set --secret githubOAuthClientSecret <client secret>",
            )
    return auth, client_id


def load(config: Mapping[str, str | None], secret_keys: frozenset[str] = frozenset()) -> Settings:
    """`secret_keys`: the keys Pulumi holds encrypted (`pulumi config set --secret`)."""
    raw = {key: (config.get(key) or default) for key, default in DEFAULTS.items()}
    _plain_text_secret(raw, secret_keys, "githubToken", "revoke that token on GitHub")
    domain = raw["domain"].strip().lower().rstrip(".") or None
    zone = raw["hostedZoneId"].strip() or None
    arn = raw["acmCertificateArn"].strip() or None

    if domain is not None and not valid_host_name(domain):
        hint = " (a host name, without https:// or a path)" if "/" in domain or ":" in domain else ""
        raise ConfigError("domain", f"{domain!r} is not a valid host name{hint}", _set("domain", "search.example.com"))
    if domain is not None and zone is None:
        raise ConfigError(
            "hostedZoneId",
            "is required with 'domain' (the Route53 zone that holds it)",
            _set("hostedZoneId", "Z0123456789ABCDEFGHIJ"),
        )
    if zone is not None and domain is None:
        raise ConfigError(
            "domain",
            "is required with 'hostedZoneId'",
            f"{_set('domain', 'search.example.com')}, or pulumi config rm hostedZoneId",
        )
    if zone is not None and not _ZONE_ID.match(zone):
        raise ConfigError(
            "hostedZoneId", f"{zone!r} is not a Route53 hosted zone id", _set("hostedZoneId", "Z0123456789ABCDEFGHIJ")
        )
    if arn is not None:
        if domain is None:
            raise ConfigError(
                "acmCertificateArn",
                "is only used with 'domain'",
                f"{_set('domain', 'search.example.com')}, or pulumi config rm acmCertificateArn",
            )
        match = _ACM_ARN.match(arn)
        if match is None:
            raise ConfigError(
                "acmCertificateArn",
                f"{arn!r} is not an ACM certificate ARN",
                _set("acmCertificateArn", "arn:aws:acm:us-east-1:123456789012:certificate/<uuid>"),
            )
        if match["region"] != "us-east-1":
            raise ConfigError(
                "acmCertificateArn",
                f"the certificate is in {match['region']}, but CloudFront only uses certificates in us-east-1",
                "request or import the certificate in us-east-1 and set its ARN, or pulumi config rm acmCertificateArn "
                "to let the stack create and validate one",
            )

    auth, client_id = _sign_in(raw, secret_keys)
    api_url = raw["githubApiUrl"].strip().rstrip("/")
    parts = urlsplit(api_url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            "githubApiUrl",
            f"must be an https URL, got {api_url!r}",
            "pulumi config set githubApiUrl https://github.example.com/api/v3",
        )

    price_class = raw["priceClass"].strip()
    if price_class not in PRICE_CLASSES:
        raise ConfigError(
            "priceClass",
            f"must be one of {', '.join(PRICE_CLASSES)}, got {price_class!r}",
            _set("priceClass", "PriceClass_100"),
        )

    return Settings(
        domain=domain,
        hosted_zone_id=zone,
        acm_certificate_arn=arn,
        has_github_token=bool(raw["githubToken"].strip()),
        github_api_url=api_url,
        cache_ttl_seconds=_positive_int(
            raw,
            "cacheTtlSeconds",
            lambda n: 0 < n <= MAX_CACHE_TTL_SECONDS,
            f"a whole number of seconds from 1 to {MAX_CACHE_TTL_SECONDS} (the function keeps an answer a day at most)",
        ),
        throttle_rate_limit=_throttle_limit(raw, "throttleRateLimit"),
        throttle_burst_limit=_throttle_limit(raw, "throttleBurstLimit"),
        log_retention_days=_retention(raw, "logRetentionDays"),
        contact_email=_email(raw, "contactEmail"),
        price_class=price_class,
        mcp_allowed_origins=_origins(raw["mcpAllowedOrigins"]),
        alarm_email=_email(raw, "alarmEmail"),
        waf_enabled=_flag(raw, "wafEnabled"),
        waf_rate_limit=_waf_rate_limit(raw, "wafRateLimit"),
        waf_mcp_rate_limit=_waf_rate_limit(raw, "wafMcpRateLimit"),
        access_logs=_flag(raw, "accessLogs"),
        tracing=_flag(raw, "tracing"),
        auth=auth,
        github_oauth_client_id=client_id,
        auth_allowed_users=_names(raw, "authAllowedUsers", "octocat,hubot"),
        auth_allowed_orgs=_names(raw, "authAllowedOrgs", "my-org"),
        deletion_protection=_flag(raw, "deletionProtection"),
        search_scope=_search_scope(raw),
        private_repositories=_private_repositories(raw, auth, client_id),
        daily_calls_per_person=_daily_calls(raw, auth),
        audit_retention_days=_retention(raw, "auditRetentionDays"),
        audit_queries=_flag(raw, "auditQueries"),
    )


def _retention(raw: Mapping[str, str], key: str) -> int:
    rule = "a retention CloudWatch Logs accepts (" + ", ".join(map(str, LOG_RETENTION_DAYS)) + ")"
    return _positive_int(raw, key, lambda n: n in LOG_RETENTION_DAYS, rule)


MAX_DAILY_CALLS = 1_000_000_000  # the function's own bound (handler/signin/budget.py)


def _daily_calls(raw: Mapping[str, str], auth: str) -> int | None:
    if not raw["dailyCallsPerPerson"].strip():
        return None
    if auth != "github":
        raise ConfigError(
            "dailyCallsPerPerson",
            "counts each signed-in person's calls, and without sign-in there is no person",
            f"{_set('auth', 'github')}, or limit each address with wafEnabled and wafRateLimit",
        )
    return _positive_int(
        raw,
        "dailyCallsPerPerson",
        lambda n: 0 < n <= MAX_DAILY_CALLS,
        f"a whole number of calls from 1 to {MAX_DAILY_CALLS:,}",
        "500",
    )


def _throttle_limit(raw: Mapping[str, str], key: str) -> int:
    return _positive_int(
        raw,
        key,
        lambda n: 0 < n <= THROTTLE_LIMIT_MAX,
        f"a whole number from 1 to {THROTTLE_LIMIT_MAX} (requests a second; your account's own limit, 10,000 "
        "unless raised, applies above it)",
    )


def _waf_rate_limit(raw: Mapping[str, str], key: str) -> int:
    return _positive_int(
        raw,
        key,
        lambda n: WAF_RATE_LIMIT_RANGE[0] <= n <= WAF_RATE_LIMIT_RANGE[1],
        f"requests per client IP per 5 minutes, from {WAF_RATE_LIMIT_RANGE[0]} to {WAF_RATE_LIMIT_RANGE[1]:,}",
    )
