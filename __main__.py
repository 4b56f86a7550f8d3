"""GitHub search for AI assistants: config, components, exports."""

import pulumi

from infra.audit import Audit, AuditTrail
from infra.cdn import Cdn
from infra.domain import Domain
from infra.edge_challenge import EdgeChallenge
from infra.firewall import Firewall
from infra.monitoring import Monitoring
from infra.preflight import preflight
from infra.search_api import SearchApi
from infra.settings import DEFAULTS, ConfigError, load
from infra.sign_in import for_stack
from infra.static_site import StaticSite

config = pulumi.Config()
region = pulumi.Config("aws").get("region") or "us-east-1"
try:
    secret_keys = frozenset(key for key in DEFAULTS if pulumi.runtime.is_config_secret(config.full_key(key)))
    settings = load({key: config.get(key) for key in DEFAULTS}, secret_keys)
    preflight(settings)  # read-only lookups: the zone and the certificate are real and fit the domain
except ConfigError as exc:
    raise pulumi.RunError(str(exc)) from None

github_token = config.get_secret("githubToken") if settings.has_github_token else None
if github_token is None:
    pulumi.log.warn(
        "githubToken is not set: GitHub allows 10 searches a minute instead of 30. "
        "Set one with: pulumi config set --secret githubToken <fine-grained token with no permissions>"
    )
if settings.contact_email is None:
    pulumi.log.info("contactEmail is not set: the plugin manifest carries no contact address")
sign_in = for_stack(settings, config.require_secret("githubOAuthClientSecret")) if settings.sign_in else None

domain = (
    Domain(
        "domain",
        domain=settings.domain,
        hosted_zone_id=settings.hosted_zone_id or "",
        certificate_arn=settings.acm_certificate_arn,
    )
    if settings.domain
    else None
)
site = StaticSite("site")
api = SearchApi(
    "search",
    github_token=github_token,
    github_api_url=settings.github_api_url,
    cache_ttl_seconds=settings.cache_ttl_seconds,
    log_retention_days=settings.log_retention_days,
    mcp_allowed_origins=settings.mcp_origins,
    throttle_rate_limit=settings.throttle_rate_limit,
    throttle_burst_limit=settings.throttle_burst_limit,
    access_logs=settings.access_logs,
    tracing=settings.tracing,
    sign_in=sign_in,
    search_scope=settings.search_scope,
    private_repositories=settings.private_repositories,
    audit=AuditTrail(
        settings.audit_retention_days if settings.sign_in else settings.log_retention_days,
        queries=settings.audit_queries,
        encrypt_in=region if settings.private_repositories else None,
        keep_key=settings.deletion_protection,
    ),
)
# Tokens masked in the function's log, should one ever reach it; with sign-in, the owner's saved questions.
audit = Audit("audit", log_group_name=api.log_group_name, questions=settings.sign_in)
firewall = (
    Firewall(
        "waf",
        rate_limit=settings.waf_rate_limit,
        mcp_rate_limit=settings.waf_mcp_rate_limit,
        sign_in=settings.sign_in,
    )
    if settings.waf_enabled
    else None
)
# API Gateway renames WWW-Authenticate: with sign-in, an edge function puts it back.
challenge = EdgeChallenge("edge-challenge") if settings.sign_in else None
cdn = Cdn(
    "cdn",
    bucket_regional_domain_name=site.bucket.bucket_regional_domain_name,
    api_domain=api.origin_domain,
    api_origin_path=api.origin_path,
    api_key=api.api_key_value,
    cache_ttl_seconds=settings.cache_ttl_seconds,
    price_class=settings.price_class,
    domain=settings.domain,
    certificate_arn=domain.certificate_arn if domain else None,
    web_acl_arn=firewall.web_acl.arn if firewall else None,
    access_logs=settings.access_logs,
    log_retention_days=settings.log_retention_days,
    sign_in=settings.sign_in,
    challenge_arn=challenge.qualified_arn if challenge else None,
)
if domain:
    domain.point_at(cdn.distribution)

url = (
    f"https://{settings.domain}" if settings.domain else pulumi.Output.concat("https://", cdn.distribution.domain_name)
)
site.serve(
    cdn.distribution,
    base_url=url,
    contact_email=settings.contact_email,
    sign_in=settings.sign_in,
    scope=settings.search_scope,
)
monitoring = (
    Monitoring(
        "ops",
        alarm_email=settings.alarm_email,
        region=region,
        function_name=api.function.name,
        log_group_name=api.log_group_name,
        distribution_id=cdn.distribution.id,
        api_name=api.rest_api.name,
        stage_name=api.stage.stage_name,
        web_acl_metric=firewall.metric_name if firewall else None,
        rate_rules=firewall.rate_rules if firewall else (),
        audited=settings.sign_in,
    )
    if settings.alarm_email
    else None
)

pulumi.export("url", url)
pulumi.export("mcpUrl", pulumi.Output.concat(url, "/mcp"))
pulumi.export("searchUrl", pulumi.Output.concat(url, "/api/search"))
pulumi.export("manifestUrl", pulumi.Output.concat(url, "/.well-known/ai-plugin.json"))
pulumi.export("openapiUrl", pulumi.Output.concat(url, "/openapi.yaml"))
pulumi.export("distributionId", cdn.distribution.id)
pulumi.export("bucketName", site.bucket.bucket)
pulumi.export("functionName", api.function.name)
pulumi.export("restApiId", api.rest_api.id)
if monitoring:
    pulumi.export("dashboardUrl", monitoring.dashboard_url)
if sign_in:
    # The callback URL to enter in the GitHub OAuth App; the issuer MCP clients sign in at.
    pulumi.export("callbackUrl", pulumi.Output.concat(url, "/oauth/callback"))
    pulumi.export("signInTableName", sign_in.table.table.name)
if challenge:
    # Kept by `pulumi destroy` (its edge replicas outlive the distribution): delete it by this name later.
    pulumi.export("edgeChallengeFunction", challenge.function.name)
