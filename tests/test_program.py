"""The Pulumi program run under mocks: every decision and security control in docs/architecture.md,
asserted from the inputs the program registered."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from urllib.parse import urlsplit

import pytest
import yaml

from tests import contract
from tests.conftest import TOKEN
from tests.program import CERT_ARN, CONFIGS, Graph, contains, plain_occurrences, recording, unwrap
from tools.synth import MOCK_API_KEY, ROOT

ALL = list(CONFIGS)
BUCKET = "aws:s3/bucket:Bucket"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
FUNCTION = "aws:lambda/function:Function"
SEARCH_FUNCTION = "search-function"  # with sign-in, the edge function is one too
STAGE = "aws:apigateway/stage:Stage"
GATEWAY_RESPONSE = "aws:apigateway/response:Response"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS's managed policy id
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
COMPONENTS = {
    "github-search:site:StaticSite",
    "github-search:api:SearchApi",
    "github-search:cdn:Cdn",
    "github-search:dns:Domain",
    "github-search:ops:Monitoring",
    "github-search:waf:Firewall",
    "github-search:auth:SignInTable",
    "github-search:cdn:EdgeChallenge",
    "github-search:auth:TokenKey",
    "github-search:ops:Audit",
    "github-search:ops:LogKey",
}
OPTIONAL_COMPONENTS = {
    "github-search:dns:Domain",
    "github-search:ops:Monitoring",
    "github-search:waf:Firewall",
    "github-search:auth:SignInTable",
    "github-search:cdn:EdgeChallenge",
    "github-search:auth:TokenKey",
    "github-search:ops:LogKey",
}


@pytest.fixture(params=ALL)
def graph(request) -> Graph:
    return Graph(recording(request.param))


@pytest.fixture(params=[c for c in ALL if c not in ("sign-in", "private")])
def open_graph(request) -> Graph:
    """A stack without sign-in, whose searches CloudFront may cache (tests/test_sign_in_graph.py: with)."""
    return Graph(recording(request.param))


def signed_in(graph: Graph) -> bool:
    return bool(graph.all("github-search:auth:SignInTable"))


# Sign-in's API Gateway resources and its invoke permissions' paths (with auth: github).
SIGN_IN_PATHS = [
    "/.well-known",
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/openid-configuration",
    "/authorize",
    "/oauth",
    "/oauth/callback",
    "/oauth/consent",
    "/register",
    "/revoke",
    "/token",
]
SIGN_IN_ENDPOINTS = [p for p in SIGN_IN_PATHS if p not in ("/.well-known", "/oauth")]


@pytest.fixture
def dev() -> Graph:
    return Graph(recording("dev"))


@pytest.fixture
def prod() -> Graph:
    return Graph(recording("prod"))


@pytest.fixture
def new_cert() -> Graph:
    return Graph(recording("domain-without-arn"))


def by_name(graph: Graph, name: str) -> dict:
    [found] = [r for r in graph.resources if r["name"] == name]
    return found


def provider_output(graph: Graph, name: str, key: str):
    return graph.rec["providerOutputs"][name][key]


def physical_id(graph: Graph, name: str) -> str:
    return provider_output(graph, name, "id")


def distribution(graph: Graph) -> dict:
    return graph.inputs(DISTRIBUTION)


def origin(graph: Graph, target: str) -> dict:
    [found] = [o for o in distribution(graph)["origins"] if o["originId"] == target]
    return found


def api_behavior(graph: Graph, pattern: str = "api/*") -> dict:
    [behavior] = [b for b in distribution(graph)["orderedCacheBehaviors"] if b["pathPattern"] == pattern]
    return behavior


# -- shape of the program -------------------------------------------------------------------


def test_program_runs_clean(graph: Graph):
    assert graph.rec["error"] is None


def test_every_resource_belongs_to_a_component(graph: Graph):
    components = {r["name"]: r["type"] for r in graph.resources if r["type"] in COMPONENTS}
    for r in graph.resources:
        if r["type"] not in COMPONENTS:
            assert r["parent"] in components, f"{r['type']} {r['name']} is not parented to a component"


def test_domain_component_only_with_domain(dev: Graph, prod: Graph):
    assert {r["type"] for r in dev.resources} & COMPONENTS == COMPONENTS - OPTIONAL_COMPONENTS
    assert {r["type"] for r in prod.resources} & COMPONENTS == COMPONENTS - OPTIONAL_COMPONENTS | {
        "github-search:dns:Domain"
    }


# -- S3 (S3.2, S3.3, S3.5, S3.6, S3.8, S3.12, S3.13) ----------------------------------------------


def test_bucket_is_private_owner_enforced_encrypted_with_lifecycle(graph: Graph):
    block = graph.inputs("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    ownership = graph.inputs("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    encryption = graph.inputs("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert encryption["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in {"AES256", "aws:kms"}
    lifecycle = graph.inputs("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    [rule] = lifecycle["rules"]
    assert rule["status"] == "Enabled"
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1
    bucket = graph.one(BUCKET)
    assert "acl" not in bucket["inputs"]
    assert all("acl" not in o["inputs"] for o in graph.all("aws:s3/bucketObjectv2:BucketObjectv2"))


def test_bucket_policy_allows_only_this_distribution_and_denies_plain_http(graph: Graph):
    policy_resource = graph.one("aws:s3/bucketPolicy:BucketPolicy")
    policy = json.loads(unwrap(policy_resource["inputs"])["policy"])
    bucket_arn = provider_output(graph, "site-bucket", "arn")
    distribution_arn = provider_output(graph, "cdn-distribution", "arn")
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allows, "no Allow statement"
    for statement in allows:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution_arn}}
    actions = {a for s in allows for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"s3:GetObject", "s3:ListBucket"}
    resources = {r for s in allows for r in s["Resource"]}
    assert resources == {bucket_arn, f"{bucket_arn}/*"}
    [deny] = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Action"] in ("s3:*", ["s3:*"])
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "site-public-access-block" in policy_resource["dependsOn"]


# -- static objects ------------------------------------------------------------------------


EXPECTED_TYPES = {
    "index.html": "text/html",
    ".well-known/ai-plugin.json": "application/json",
    "openapi.yaml": "application/yaml",
    "legal": "text/html",
    "logo.png": "image/png",
}


def objects(graph: Graph) -> dict[str, dict]:
    return {o["inputs"]["key"]: unwrap(o["inputs"]) for o in graph.all("aws:s3/bucketObjectv2:BucketObjectv2")}


def test_objects_have_types_and_short_cache_control(graph: Graph):
    found = objects(graph)
    assert set(found) == set(EXPECTED_TYPES)
    for key, inputs in found.items():
        assert inputs["contentType"].split(";")[0] == EXPECTED_TYPES[key]
        max_age = int(inputs["cacheControl"].split("max-age=")[1].split(",")[0])
        assert 0 < max_age <= 600, f"{key} is cached too long at the edge: {inputs['cacheControl']}"


def test_manifest_and_spec_are_rendered_for_the_stack_and_every_link_is_an_object(graph: Graph):
    found = objects(graph)
    url = graph.outputs["url"]
    manifest = json.loads(found[".well-known/ai-plugin.json"]["content"])
    spec = yaml.safe_load(found["openapi.yaml"]["content"])
    assert spec["servers"][0]["url"] == url
    assert "/api/search" in spec["paths"]
    for link in (manifest["api"]["url"], manifest["logo_url"], manifest["legal_info_url"]):
        assert link.startswith(url + "/")
        assert link.removeprefix(url + "/") in found, f"the manifest names {link}, which is not uploaded"
    assert f"{url}/openapi.yaml" in found["index.html"]["content"]
    assert "{{" not in found["index.html"]["content"]


def test_contact_email_from_config(dev: Graph, prod: Graph):
    assert "contact_email" not in json.loads(objects(dev)[".well-known/ai-plugin.json"]["content"])
    assert json.loads(objects(prod)[".well-known/ai-plugin.json"]["content"])["contact_email"] == "ops@example.com"


def test_binary_and_static_files_upload_from_static(graph: Graph):
    for key in ("logo.png", "legal"):
        source = objects(graph)[key]["source"]["fileAsset"]
        assert (ROOT / source).is_file() and source.startswith("static/")


# -- function (Lambda.2, IAM.1, IAM.21) ----------------------------------------------------


def test_function_runtime_architecture_logging(graph: Graph):
    fn = graph.inputs(FUNCTION, SEARCH_FUNCTION)
    name, version = fn["runtime"][:6], tuple(int(p) for p in fn["runtime"][6:].split("."))
    assert name == "python" and version >= (3, 13)
    assert fn["architectures"] == ["arm64"]
    assert fn["handler"] == "app.handler"
    assert fn["loggingConfig"]["logFormat"] == "JSON"
    log_group = by_name(graph, "search-function-logs")
    named = log_group["inputs"].get("name")  # with private repositories: named, for its key's policy
    assert fn["loggingConfig"]["logGroup"] == (named or provider_output(graph, log_group["name"], "name"))
    assert "search-function-logs" in graph.one(FUNCTION, SEARCH_FUNCTION)["dependsOn"]
    # the client gives up after connect + read timeouts; the function must outlive that, and API Gateway's 29 s
    assert 11 < fn["timeout"] <= 29
    assert 128 <= fn["memorySize"] <= 1024


def test_log_retention_from_config(dev: Graph, prod: Graph):
    assert dev.inputs("aws:cloudwatch/logGroup:LogGroup")["retentionInDays"] == 14
    assert prod.inputs("aws:cloudwatch/logGroup:LogGroup")["retentionInDays"] == 30


def test_function_code_is_the_reproducible_archive(graph: Graph):
    fn = graph.inputs(FUNCTION, SEARCH_FUNCTION)
    archive = ROOT / fn["code"]["fileArchive"]
    data = archive.read_bytes()
    assert fn["sourceCodeHash"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    assert names == sorted(names)
    assert all(n.endswith((".py", ".html")) and "__pycache__" not in n and "test" not in n for n in names)
    handler = ROOT / "handler"
    sources = [*handler.rglob("*.py"), *handler.rglob("*.html")]  # the MCP App's view is a page
    assert set(names) == {p.relative_to(handler).as_posix() for p in sources}


def test_function_environment(dev: Graph, prod: Graph):
    dev_env = dev.inputs(FUNCTION, SEARCH_FUNCTION)["environment"]["variables"]
    assert dev_env == {
        "GITHUB_API_URL": "https://api.github.com",
        "CACHE_TTL_SECONDS": "300",
        "MCP_ALLOWED_ORIGINS": "",
    }
    prod_env = prod.inputs(FUNCTION, SEARCH_FUNCTION)["environment"]["variables"]
    assert prod_env["GITHUB_TOKEN"] == TOKEN
    assert prod_env["CACHE_TTL_SECONDS"] == "600"


def test_role_has_least_privilege(graph: Graph):
    role = unwrap(by_name(graph, "search-function-role")["inputs"])
    trust = json.loads(role["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]
    attached = {unwrap(a["inputs"])["role"] for a in graph.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert provider_output(graph, "search-function-role", "name") not in attached  # no managed policy on it
    policy = json.loads(unwrap(by_name(graph, "search-function-logging")["inputs"])["policy"])
    log_group_arn = provider_output(graph, "search-function-logs", "arn")
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in statement["Action"])
        assert set(statement["Action"]) <= {"logs:CreateLogStream", "logs:PutLogEvents"}
        assert statement["Resource"].startswith(log_group_arn + ":")


# -- REST API (Lambda.1) -------------------------------------------------------------------


def resource_paths(graph: Graph) -> dict[str, str]:
    """Each API Gateway resource's physical id -> its full path, from the parent links."""
    resources = {physical_id(graph, r["name"]): r["inputs"] for r in graph.all("aws:apigateway/resource:Resource")}
    root = provider_output(graph, "search-rest-api", "rootResourceId")

    def path(resource_id: str) -> str:
        if resource_id == root:
            return ""
        return path(resources[resource_id]["parentId"]) + "/" + resources[resource_id]["pathPart"]

    return {resource_id: path(resource_id) for resource_id in resources}


def test_rest_api_regional_any_verb_on_every_route_with_key(graph: Graph):
    assert graph.inputs("aws:apigateway/restApi:RestApi")["endpointConfiguration"]["types"] == "REGIONAL"
    paths = resource_paths(graph)
    sign_in = SIGN_IN_PATHS if signed_in(graph) else []
    assert sorted(paths.values()) == sorted(
        [
            *sign_in,
            "/api",
            "/api/repos",
            "/api/repos/{owner}",
            "/api/repos/{owner}/{repo}",
            "/api/repos/{owner}/{repo}/contents",
            "/api/repos/{owner}/{repo}/contents/{path+}",
            "/api/search",
            "/api/search/code",
            "/api/search/issues",
            "/mcp",
        ]
    )
    methods = {paths[m["inputs"]["resourceId"]]: m["inputs"] for m in graph.all("aws:apigateway/method:Method")}
    # Every REST path of the published spec, and /mcp (and sign-in's endpoints).
    published = {p.replace("{path}", "{path+}") for p in contract.spec()["paths"]}
    assert set(methods) == published | {"/mcp"} | (set(SIGN_IN_ENDPOINTS) if signed_in(graph) else set())
    for method in methods.values():
        # ANY: HEAD and every other verb reach the function (its 405 JSON) instead of API Gateway's 403
        assert method["httpMethod"] == "ANY" and method["apiKeyRequired"] is True
    integrations = {
        paths[i["inputs"]["resourceId"]]: i["inputs"] for i in graph.all("aws:apigateway/integration:Integration")
    }
    assert set(integrations) == set(methods)
    for integration in integrations.values():
        assert integration["type"] == "AWS_PROXY" and integration["integrationHttpMethod"] == "POST"
        assert integration["uri"].endswith(f"function:{graph.outputs['functionName']}/invocations")


def test_invoke_permissions_scoped_to_this_api_and_each_route(graph: Graph):
    execution_arn = provider_output(graph, "search-rest-api", "executionArn")
    permissions = [p["inputs"] for p in graph.all("aws:lambda/permission:Permission")]
    for permission in permissions:
        assert permission["principal"] == "apigateway.amazonaws.com"
        assert permission["function"] == graph.outputs["functionName"]
    sign_in = [f"{execution_arn}/*/*{p}" for p in SIGN_IN_ENDPOINTS] if signed_in(graph) else []
    assert sorted(p["sourceArn"] for p in permissions) == sorted(
        [
            *sign_in,
            f"{execution_arn}/*/*/api/repos/*/*",
            f"{execution_arn}/*/*/api/repos/*/*/contents/*",
            f"{execution_arn}/*/*/api/search",
            f"{execution_arn}/*/*/api/search/code",
            f"{execution_arn}/*/*/api/search/issues",
            f"{execution_arn}/*/*/mcp",
        ]
    )


def test_deployment_redeploys_on_definition_change_and_stage_is_explicit(graph: Graph):
    deployment = graph.one("aws:apigateway/deployment:Deployment")
    assert deployment["inputs"]["triggers"]["redeployment"]
    responses = {r["name"] for r in graph.all("aws:apigateway/response:Response")}
    methods = {r["name"] for r in graph.all("aws:apigateway/method:Method")}
    integrations = {r["name"] for r in graph.all("aws:apigateway/integration:Integration")}
    routed = methods | integrations | responses
    assert routed <= set(deployment["dependsOn"])
    stage = graph.inputs(STAGE)
    assert stage["deployment"] == physical_id(graph, deployment["name"])
    assert stage["stageName"]


def test_gateway_answers_keep_the_error_shape(graph: Graph):
    responses = {r["responseType"]: r for r in map(unwrap, (r["inputs"] for r in graph.all(GATEWAY_RESPONSE)))}
    assert set(responses) >= {"THROTTLED", "MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"}
    assert responses["THROTTLED"]["statusCode"] == "429"
    assert responses["THROTTLED"]["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert responses["INTEGRATION_TIMEOUT"]["statusCode"] == "504"
    codes = {}
    for kind, response in responses.items():
        assert response["restApiId"] == graph.outputs["restApiId"]
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'"
        assert headers["gatewayresponse.header.Content-Type"].startswith("'application/json")
        [(media, template)] = response["responseTemplates"].items()
        assert media == "application/json"
        # API Gateway puts a quoted string where the template says $context.error.messageString
        body = json.loads(template.replace("$context.error.messageString", '"Missing Authentication Token"'))
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, kind
        codes[kind] = body["error"]["code"]
    assert codes["THROTTLED"] == "rate_limited"
    assert codes["MISSING_AUTHENTICATION_TOKEN"] == "not_found"
    assert codes["INTEGRATION_TIMEOUT"] == "upstream_timeout"
    spec_codes = set(
        contract.spec()["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
    )
    assert set(codes.values()) <= spec_codes


def test_usage_plan_throttles_from_config_and_links_the_key(dev: Graph):
    plan = dev.inputs("aws:apigateway/usagePlan:UsagePlan")
    assert plan["throttleSettings"] == {"rateLimit": 10, "burstLimit": 20}
    assert plan["apiStages"] == [{"apiId": dev.outputs["restApiId"], "stage": dev.inputs(STAGE)["stageName"]}]
    link = dev.inputs("aws:apigateway/usagePlanKey:UsagePlanKey")
    assert link["keyType"] == "API_KEY"
    assert link["keyId"] == physical_id(dev, "search-cloudfront-key")


def test_throttle_overrides_reach_the_plan():
    from tests.program import synth

    rec = synth("dev", (("throttleRateLimit", "3"), ("throttleBurstLimit", "7")))["raw"]
    assert Graph(rec).inputs("aws:apigateway/usagePlan:UsagePlan")["throttleSettings"] == {
        "rateLimit": 3,
        "burstLimit": 7,
    }


# -- CloudFront (CloudFront.1, .3, .7, .8, .9, .10, .12, .13, .15) ---------------------------------


def test_distribution_basics(graph: Graph):
    d = distribution(graph)
    assert d["enabled"] is True
    assert d["isIpv6Enabled"] is True
    assert d["httpVersion"] == "http2and3"
    assert d["defaultRootObject"] == "index.html"
    assert "index.html" in objects(graph)
    assert d["priceClass"] == "PriceClass_100"


def test_default_behavior_serves_the_bucket_through_oac(graph: Graph):
    d = distribution(graph)
    default = d["defaultCacheBehavior"]
    site = origin(graph, default["targetOriginId"])
    assert site["domainName"].startswith(graph.outputs["bucketName"] + ".s3.")
    assert "s3OriginConfig" not in site or not site["s3OriginConfig"].get("originAccessIdentity")
    oac = graph.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert site["originAccessControlId"] == physical_id(graph, oac["name"])
    assert (
        oac["inputs"]["originAccessControlOriginType"],
        oac["inputs"]["signingBehavior"],
        oac["inputs"]["signingProtocol"],
    ) == ("s3", "always", "sigv4")
    assert default["viewerProtocolPolicy"] == "redirect-to-https"
    assert default["compress"] is True
    assert default["cachePolicyId"] == CACHING_OPTIMIZED


def test_security_headers_on_every_behavior(graph: Graph):
    policy = graph.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    hsts = policy["inputs"]["securityHeadersConfig"]["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] >= 31_536_000 and hsts["override"] is True
    policy_id = physical_id(graph, policy["name"])
    assert distribution(graph)["defaultCacheBehavior"]["responseHeadersPolicyId"] == policy_id
    assert api_behavior(graph)["responseHeadersPolicyId"] == policy_id


def test_api_behavior_and_origin(graph: Graph):
    behavior = api_behavior(graph)
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    # every verb reaches the function (405 JSON, not CloudFront's 403 page); only GET and HEAD are cached
    assert sorted(behavior["allowedMethods"]) == sorted(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"])
    assert sorted(behavior["cachedMethods"]) == ["GET", "HEAD"]
    api = origin(graph, behavior["targetOriginId"])
    invoke_url = urlsplit(provider_output(graph, "search-stage", "invokeUrl"))
    assert api["domainName"] == invoke_url.hostname
    # /api/search at the edge becomes /<stage>/api/search at API Gateway
    assert api["originPath"] + "/api/search" == invoke_url.path + "/api/search"
    config = api["customOriginConfig"]
    assert config["originProtocolPolicy"] == "https-only"
    assert config["originSslProtocols"] == ["TLSv1.2"]
    assert api["customHeaders"] == [{"name": "x-api-key", "value": MOCK_API_KEY}]


def test_mcp_behavior_takes_every_verb_uncached_with_the_viewer_headers_but_host(graph: Graph):
    behavior = api_behavior(graph, "/mcp")
    assert behavior["targetOriginId"] == api_behavior(graph)["targetOriginId"]  # the API, with its key
    assert sorted(behavior["allowedMethods"]) == sorted(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"])
    assert behavior["cachePolicyId"] == CACHING_DISABLED
    assert behavior["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["responseHeadersPolicyId"] == api_behavior(graph)["responseHeadersPolicyId"]


def test_mcp_origins_reach_the_function(dev: Graph, prod: Graph):
    from tests.program import synth

    def origins(graph: Graph) -> str:
        return graph.inputs(FUNCTION, SEARCH_FUNCTION)["environment"]["variables"]["MCP_ALLOWED_ORIGINS"]

    assert origins(dev) == ""  # no domain: only server-to-server calls (no Origin) are accepted
    assert origins(prod) == "https://search.example.com"
    configured = Graph(synth("dev", (("mcpAllowedOrigins", "https://claude.ai, https://chatgpt.com/"),))["raw"])
    assert origins(configured) == "https://claude.ai,https://chatgpt.com"
    assert dev.outputs["mcpUrl"] == dev.outputs["url"] + "/mcp"


def test_api_cache_key_is_only_the_supported_parameters(open_graph: Graph):
    graph = open_graph
    behavior = api_behavior(graph)
    assert behavior.get("originRequestPolicyId") in (None, ALL_VIEWER_EXCEPT_HOST)
    assert not behavior.get("forwardedValues")
    [policy] = [
        p
        for p in graph.all("aws:cloudfront/cachePolicy:CachePolicy")
        if physical_id(graph, p["name"]) == behavior["cachePolicyId"]
    ]
    key = policy["inputs"]["parametersInCacheKeyAndForwardedToOrigin"]
    assert key["queryStringsConfig"]["queryStringBehavior"] == "whitelist"
    # Exactly the query parameters the published operations take: nothing else splits the cache.
    published = {
        p["name"] for path in contract.spec()["paths"].values() for p in path["get"]["parameters"] if p["in"] == "query"
    }
    assert sorted(key["queryStringsConfig"]["queryStrings"]["items"]) == sorted(published)
    assert published == {"q", "sort", "order", "limit", "kind", "ref"}
    assert key["headersConfig"]["headerBehavior"] == "none"  # never Host
    assert key["cookiesConfig"]["cookieBehavior"] == "none"
    inputs = policy["inputs"]
    ttl = int(graph.inputs(FUNCTION, SEARCH_FUNCTION)["environment"]["variables"]["CACHE_TTL_SECONDS"])
    # min and default 0: only what the function marks cacheable is kept, for as long as it says
    assert inputs["minTtl"] == 0 and inputs["defaultTtl"] == 0 and inputs["maxTtl"] >= ttl


def test_viewer_certificate_without_domain(dev: Graph):
    d = distribution(dev)
    assert d["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert not d.get("aliases")
    assert dev.outputs["url"] == "https://" + provider_output(dev, "cdn-distribution", "domainName")


def test_viewer_certificate_with_domain(prod: Graph, new_cert: Graph):
    for graph in (prod, new_cert):
        d = distribution(graph)
        assert d["aliases"] == ["search.example.com"]
        certificate = d["viewerCertificate"]
        assert certificate["sslSupportMethod"] == "sni-only"
        assert certificate["minimumProtocolVersion"] in {"TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"}
        assert graph.outputs["url"] == "https://search.example.com"
    assert distribution(prod)["viewerCertificate"]["acmCertificateArn"] == CERT_ARN
    assert not prod.all("aws:acm/certificate:Certificate")


# -- DNS and certificate (ACM.1, ACM.2) -----------------------------------------------------


def test_alias_records(prod: Graph, new_cert: Graph, dev: Graph):
    assert not dev.all("aws:route53/record:Record")
    for graph in (prod, new_cert):
        aliases = [r["inputs"] for r in graph.all("aws:route53/record:Record") if r["inputs"].get("aliases")]
        target = {k: provider_output(graph, "cdn-distribution", k) for k in ("domainName", "hostedZoneId")}
        assert sorted(a["type"] for a in aliases) == ["A", "AAAA"]
        for record in aliases:
            assert record["name"] == "search.example.com"
            assert record["zoneId"] == "Z0123456789EXAMPLE000"
            assert record["aliases"] == [
                {"name": target["domainName"], "zoneId": target["hostedZoneId"], "evaluateTargetHealth": False}
            ]


def test_created_certificate_is_dns_validated_in_us_east_1(new_cert: Graph):
    certificate = new_cert.inputs("aws:acm/certificate:Certificate")
    assert certificate["region"] == "us-east-1"
    assert certificate["domainName"] == "search.example.com"
    assert certificate["validationMethod"] == "DNS"
    assert certificate.get("keyAlgorithm", "RSA_2048") in {"RSA_2048", "EC_prime256v1", "EC_secp384r1"}
    [record] = [r["inputs"] for r in new_cert.all("aws:route53/record:Record") if not r["inputs"].get("aliases")]
    assert (record["type"], record["name"], record["records"]) == (
        "CNAME",
        "_0123abcd.search.example.com.",
        ["_4567efgh.acm-validations.aws."],
    )
    assert record["zoneId"] == "Z0123456789EXAMPLE000"
    validation = new_cert.inputs("aws:acm/certificateValidation:CertificateValidation")
    assert validation["region"] == "us-east-1"
    assert validation["validationRecordFqdns"] == ["_0123abcd.search.example.com."]
    issued = provider_output(new_cert, "domain-certificate", "arn")
    assert ":us-east-1:" in issued
    assert validation["certificateArn"] == issued
    assert distribution(new_cert)["viewerCertificate"]["acmCertificateArn"] == issued
    assert "domain-certificate-validation" in new_cert.one(DISTRIBUTION)["dependsOn"]


# -- outputs, secrets, nothing public ------------------------------------------------------


def test_outputs(graph: Graph):
    outputs = graph.rec["outputs"]
    assert set(outputs) == {
        "url",
        "mcpUrl",
        "searchUrl",
        "manifestUrl",
        "openapiUrl",
        "distributionId",
        "bucketName",
        "functionName",
        "restApiId",
    } | ({"dashboardUrl"} if graph.all("github-search:ops:Monitoring") else set()) | (
        {"callbackUrl", "signInTableName", "edgeChallengeFunction"} if signed_in(graph) else set()
    )
    assert not any(o["secret"] for o in outputs.values())
    url = outputs["url"]["value"]
    assert outputs["searchUrl"]["value"] == f"{url}/api/search"
    assert outputs["manifestUrl"]["value"] == f"{url}/.well-known/ai-plugin.json"
    assert outputs["openapiUrl"]["value"] == f"{url}/openapi.yaml"
    assert not contains(outputs, TOKEN) and not contains(outputs, MOCK_API_KEY)


def test_token_and_api_key_are_secret_wherever_they_flow(graph: Graph):
    for r in graph.resources:
        assert plain_occurrences(r["inputs"], TOKEN) == [], f"token in plain text in {r['name']}"
        assert plain_occurrences(r["inputs"], MOCK_API_KEY) == [], f"API key in plain text in {r['name']}"
    assert not contains(graph.rec["log"], TOKEN)
    assert graph.one("aws:apigateway/apiKey:ApiKey")["additionalSecretOutputs"] == ["value"]


def test_token_reaches_only_the_function(prod: Graph):
    holders = [r["name"] for r in prod.resources if contains(r["inputs"], TOKEN)]
    assert holders == ["search-function"]


def test_nothing_is_public(graph: Graph):
    types = {r["type"] for r in graph.resources}
    assert "aws:lambda/functionUrl:FunctionUrl" not in types
    assert "aws:cloudfront/originAccessIdentity:OriginAccessIdentity" not in types
    assert all(m["inputs"]["apiKeyRequired"] for m in graph.all("aws:apigateway/method:Method"))
    for p in graph.all("aws:lambda/permission:Permission"):
        assert p["inputs"]["principal"] != "*" and unwrap(p["inputs"]).get("sourceArn")


def test_missing_token_warns_at_preview(dev: Graph, prod: Graph):
    warnings = [line["message"] for line in dev.rec["log"] if line["level"] == "warning"]
    assert any("githubToken" in w and "10 searches" in w and "--secret" in w for w in warnings)
    assert not [line for line in prod.rec["log"] if line["level"] == "warning"]


def test_a_behavior_compresses_only_where_its_cache_policy_lets_it(graph: Graph):
    # CloudFront compresses only when the cache policy enables Gzip or Brotli (the managed
    # CachingOptimized does, CachingDisabled does not): `compress` elsewhere is a promise not kept.
    d = distribution(graph)
    ours = graph.one("aws:cloudfront/cachePolicy:CachePolicy")
    key = ours["inputs"]["parametersInCacheKeyAndForwardedToOrigin"]
    compressing = {CACHING_OPTIMIZED}
    if key["enableAcceptEncodingGzip"] or key["enableAcceptEncodingBrotli"]:
        compressing.add(physical_id(graph, ours["name"]))
    behaviors = [d["defaultCacheBehavior"], *d["orderedCacheBehaviors"]]
    assert {b.get("pathPattern", "*"): b["compress"] for b in behaviors} == {
        b.get("pathPattern", "*"): b["cachePolicyId"] in compressing for b in behaviors
    }
