"""Sign-in's AWS half, from the program run under mocks (the "sign-in" config): the table, the
function's one new permission, the routes and behaviors, the firewall keyed per user, secrets."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from signin import door as handler_sign_in

from infra.edge_definition import CACHING_DISABLED_POLICY_ID, SIGN_IN_PATHS
from infra.firewall import BY_TOKEN
from infra.sign_in import TABLE_ACTIONS
from tests.program import OAUTH_SECRET, Graph, contains, plain_occurrences, recording, synth, unwrap
from tests.test_program import (
    ALL_VIEWER_EXCEPT_HOST,
    FUNCTION,
    SEARCH_FUNCTION,
    SIGN_IN_ENDPOINTS,
    distribution,
    provider_output,
)

TABLE = "aws:dynamodb/table:Table"


@pytest.fixture(scope="module")
def graph() -> Graph:
    return Graph(recording("sign-in"))


def env(graph: Graph) -> dict[str, object]:
    variables: dict[str, object] = unwrap(graph.inputs(FUNCTION, SEARCH_FUNCTION)["environment"])["variables"]
    return variables


def test_the_table_is_on_demand_expires_items_and_can_be_restored(graph: Graph):
    [table] = graph.all(TABLE)
    inputs = table["inputs"]
    assert inputs["billingMode"] == "PAY_PER_REQUEST" and inputs["hashKey"] == "pk"
    assert inputs["attributes"] == [{"name": "pk", "type": "S"}]
    assert inputs["ttl"] == {"attributeName": "expires", "enabled": True}  # handler/signin/store.py's attribute
    assert inputs["pointInTimeRecovery"] == {"enabled": True}
    assert inputs["deletionProtectionEnabled"] is True  # deletionProtection: true in this config
    [component] = graph.all("github-search:auth:SignInTable")
    assert table["parent"] == component["name"]


def test_the_function_may_use_the_table_and_nothing_else_new(graph: Graph):
    table_arn = provider_output(graph, "sign-in-table", "arn")
    policies = {
        r["name"]: json.loads(r["inputs"]["policy"])
        for r in graph.all("aws:iam/rolePolicy:RolePolicy")
        if r["name"].startswith("search-function")
    }
    assert policies["search-function-sign-in"] == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(TABLE_ACTIONS), "Resource": table_arn}],
    }
    assert set(policies) == {"search-function-logging", "search-function-tracing", "search-function-sign-in"} - (
        set()
        if graph.all("aws:iam/rolePolicy:RolePolicy") and any(n.endswith("tracing") for n in policies)
        else {"search-function-tracing"}
    )
    assert not any("dynamodb:*" in json.dumps(p) or "Scan" in json.dumps(p) for p in policies.values())


def test_the_function_is_told_its_table_app_allow_list_and_issuer(graph: Graph):
    variables = env(graph)
    assert variables["AUTH"] == "github"
    assert variables["AUTH_TABLE"] == provider_output(graph, "sign-in-table", "name")
    assert variables["GITHUB_OAUTH_CLIENT_ID"] == "Ov23liTESTCLIENTID000"
    assert variables["AUTH_ALLOWED_ORGS"] == "acme" and variables["AUTH_ALLOWED_USERS"] == ""
    assert variables["DAILY_CALLS_PER_PERSON"] == "500"  # each person's budget, counted in the table
    assert variables["PUBLIC_URL"] == "https://search.example.com"  # the prod example's domain
    assert "CLIENT_METADATA_TEST_ORIGINS" not in variables  # the tests' loopback hook never ships


def test_the_oauth_app_secret_stays_secret_in_state_and_outputs(graph: Graph):
    assert set(graph.one(FUNCTION, SEARCH_FUNCTION)["inputs"]["environment"]) == {
        "secret"
    }  # the whole environment is marked secret
    for resource in graph.resources:
        assert plain_occurrences(resource["inputs"], OAUTH_SECRET) == [], resource["name"]
    assert not contains(graph.rec["outputs"], OAUTH_SECRET)
    public = synth("prod", *_config())["public"]
    assert not contains(public, OAUTH_SECRET)


def _config() -> tuple:
    from tests.program import CONFIGS

    _, overrides, secrets = CONFIGS["sign-in"]
    return overrides, secrets


def test_every_endpoint_is_routed_by_api_gateway_and_cloudfront_and_never_cached(graph: Graph):
    assert sorted(SIGN_IN_ENDPOINTS) == sorted(p for p in handler_sign_in.ENDPOINTS)
    behaviors = distribution(graph)["orderedCacheBehaviors"]
    for endpoint in handler_sign_in.ENDPOINTS:
        [behavior] = [
            b
            for b in behaviors
            if fnmatchcase(endpoint, b["pathPattern"] if b["pathPattern"].startswith("/") else "/" + b["pathPattern"])
        ]
        assert behavior["targetOriginId"] == "api", endpoint
        assert behavior["cachePolicyId"] == CACHING_DISABLED_POLICY_ID, endpoint
        assert behavior["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST, endpoint  # cookie, Origin, Authorization
    # The plugin manifest stays the site's.
    assert not any(fnmatchcase("/.well-known/ai-plugin.json", p) for p in SIGN_IN_PATHS)


def test_no_cache_in_front_of_a_search_answers_without_a_token(graph: Graph):
    """Searches are uncached at the edge with sign-in: only the function, after the gate, answers."""
    behaviors = {b["pathPattern"]: b for b in distribution(graph)["orderedCacheBehaviors"]}
    function_arn = provider_output(graph, "cdn-viewer-host", "arn")
    for pattern in ("api/*", "/mcp"):
        behavior = behaviors[pattern]
        assert behavior["cachePolicyId"] == CACHING_DISABLED_POLICY_ID
        assert behavior["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST  # Authorization reaches the function
        assert behavior["functionAssociations"] == [{"eventType": "viewer-request", "functionArn": function_arn}]
    assert "functionAssociations" not in distribution(graph)["defaultCacheBehavior"]


def test_the_viewer_host_function_sets_the_header_the_function_reads(graph: Graph, monkeypatch: pytest.MonkeyPatch):
    code = graph.one("aws:cloudfront/function:Function")["inputs"]["code"]
    assert "request.headers['x-viewer-host']" in code and "request.headers.host.value" in code
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    assert handler_sign_in.issuer({"x-viewer-host": "d111.cloudfront.net"}) == "https://d111.cloudfront.net"
    with pytest.raises(handler_sign_in.Misconfigured):
        handler_sign_in.issuer({"x-viewer-host": "evil.example/path"})


def test_the_firewall_counts_each_signed_in_user_apart(graph: Graph):
    rules = {r["name"]: r for r in graph.inputs("aws:wafv2/webAcl:WebAcl")["rules"]}
    per_user = rules["rate-limit-per-user"]["statement"]["rateBasedStatement"]
    assert per_user["aggregateKeyType"] == "CUSTOM_KEYS"
    assert per_user["customKeys"] == [
        {"header": {"name": "authorization", "textTransformations": [{"priority": 0, "type": "LOWERCASE"}]}}
    ]
    assert BY_TOKEN[0]["header"]["name"] == "authorization"
    ceiling = rules["signed-in-rate-limit-per-ip"]["statement"]["rateBasedStatement"]
    assert ceiling["aggregateKeyType"] == "IP" and ceiling["limit"] > per_user["limit"]


def _buckets(graph: Graph, path: str, headers: dict[str, str] | None = None) -> list[str]:
    """The rate rules a request counts against."""
    from tests.test_operations import waf_matches

    return [
        r["name"]
        for r in graph.inputs("aws:wafv2/webAcl:WebAcl")["rules"]
        if "rateBasedStatement" in r["statement"]
        and waf_matches(r["statement"]["rateBasedStatement"]["scopeDownStatement"], path, set(), headers)
    ]


@pytest.mark.parametrize(
    ("path", "authorization", "buckets"),
    [
        # Hosted assistants' shared egress: the 401 probe, discovery and /token get the larger limit.
        ("/mcp", None, ["shared-rate-limit-per-ip"]),
        ("/token", None, ["shared-rate-limit-per-ip"]),
        ("/.well-known/oauth-protected-resource/mcp", None, ["shared-rate-limit-per-ip"]),
        ("/.well-known/oauth-authorization-server", None, ["shared-rate-limit-per-ip"]),
        # A browser, or a stranger registering clients: the smaller per-address limit.
        ("/register", None, ["rate-limit-per-ip"]),
        ("/authorize", None, ["rate-limit-per-ip"]),
        ("/index.html", None, ["rate-limit-per-ip"]),
        ("/api/search", None, ["rate-limit-per-ip"]),
        # A token: its own bucket, and the per-address ceiling, in any case of the scheme.
        ("/mcp", "Bearer gsa_abc", ["rate-limit-per-user", "signed-in-rate-limit-per-ip"]),
        ("/mcp", "bearer gsa_abc", ["rate-limit-per-user", "signed-in-rate-limit-per-ip"]),
        ("/api/search", "BEARER gsa_abc", ["rate-limit-per-user", "signed-in-rate-limit-per-ip"]),
        ("/mcp", "Bearer ghp_someone", ["shared-rate-limit-per-ip"]),
    ],
)
def test_each_request_counts_against_the_bucket_its_sender_shares(
    graph: Graph, path: str, authorization: str | None, buckets: list[str]
):
    headers = {"authorization": authorization} if authorization else {}
    assert _buckets(graph, path, headers) == buckets


@pytest.mark.parametrize(
    "path", ["/authorize", "/token", "/register", "/revoke", "/oauth/consent", "/oauth/callback", "/mcp"]
)
def test_a_loopback_redirect_uri_passes_the_firewall_on_the_sign_in_endpoints(graph: Graph, path: str):
    """The core rule set reads `http://127.0.0.1:33418/callback` in a query string or body as a
    remote file inclusion (GenericRFI_*, EC2MetaDataSSRF_*): on the sign-in endpoints those rules
    count, as they do on the API's paths, and still block on the static files."""
    from tests.test_operations import blocking_rules_matching

    labels = {
        "awswaf:managed:aws:core-rule-set:GenericRFI_QueryArguments",
        "awswaf:managed:aws:core-rule-set:GenericRFI_Body",
        "awswaf:managed:aws:core-rule-set:EC2MetaDataSSRF_Body",
    }
    assert blocking_rules_matching(graph, path, labels) == []
    assert blocking_rules_matching(graph, "/index.html", labels) == ["content-rules-off-api"]


def test_the_callback_url_to_enter_on_github_is_an_output(graph: Graph):
    assert graph.rec["outputs"]["callbackUrl"]["value"] == "https://search.example.com/oauth/callback"


def test_preview_says_when_anyone_with_a_github_account_may_sign_in():
    overrides, secrets = _config()
    open_to_all = tuple((k, v) for k, v in overrides if k != "authAllowedOrgs")
    log = json.dumps(synth("prod", open_to_all, secrets)["raw"]["log"])
    assert "anyone with a GitHub account may sign in" in log
    assert "anyone with a GitHub account" not in json.dumps(recording("sign-in")["log"])


def test_the_pages_and_the_manifest_say_how_to_sign_in():
    from infra.site import site_files

    for sign_in in (False, True):
        files = {
            f.key: f.body.decode()
            for f in site_files("https://search.example.com", sign_in=sign_in)
            if f.key != "logo.png"
        }
        manifest = json.loads(files[".well-known/ai-plugin.json"])
        page = files["index.html"]
        if sign_in:
            assert manifest["auth"] == {
                "type": "oauth",
                "client_url": "https://search.example.com/authorize",
                "authorization_url": "https://search.example.com/token",
                "authorization_content_type": "application/x-www-form-urlencoded",
                "scope": "search",
            }
            assert "signs you in with GitHub" in page and "Authentication: OAuth" in page
        else:
            assert manifest["auth"] == {"type": "none"} and "no authentication" in page


def test_the_stack_uploads_the_pages_rendered_for_sign_in(graph: Graph):
    objects = {o["inputs"]["key"]: o["inputs"] for o in graph.all("aws:s3/bucketObjectv2:BucketObjectv2")}
    assert json.loads(objects[".well-known/ai-plugin.json"]["content"])["auth"]["type"] == "oauth"
    assert "signs you in with GitHub" in objects["index.html"]["content"]


def test_the_edge_keeps_the_referrer_policy_the_consent_page_sets(graph: Graph):
    """CloudFront adds its policy's headers; with override it replaces the origin's own, and the
    consent page's `same-origin` is what lets a browser's form POST carry its Origin."""
    from signin.pages import PAGE_HEADERS

    headers = graph.inputs("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")["securityHeadersConfig"]
    assert headers["referrerPolicy"]["override"] is False
    assert headers["contentSecurityPolicy"]["override"] is False  # the page's frame-ancestors stays too
    assert PAGE_HEADERS["Referrer-Policy"] == "same-origin"
