"""What the distribution serves, as data: its origins' ids and its cache behaviors.

Pure, so that tests read it without mocks and `Cdn` turns it into the distribution's arguments in
one loop. A new path (sign-in, say) is one more `Behavior` here.
"""

from __future__ import annotations

from dataclasses import dataclass

# AWS managed policies: cache "Managed-CachingOptimized" and "Managed-CachingDisabled", origin
# request "Managed-AllViewerExceptHostHeader" (every viewer header but Host, which API Gateway refuses).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_POLICY_ID = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# The only query parameters the API reads; nothing else may split the cache or reach the origin.
API_QUERY_PARAMETERS = ("q", "sort", "order", "limit", "kind", "ref")
SITE_ORIGIN_ID, API_ORIGIN_ID = "site", "api"
READ_METHODS = ("GET", "HEAD")
# Every verb reaches the function, so that POST or DELETE get its 405 in the API's JSON shape
# rather than CloudFront's 403 page; only GET and HEAD answers are ever cached.
ALL_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
# Which cache policy a behavior uses: the managed ones by id, the API's own by this name.
API_CACHE = "api"


@dataclass(frozen=True)
class Behavior:
    path_pattern: str | None  # None: the default behavior
    origin: str
    methods: tuple[str, ...]
    cache_policy: str  # a managed policy's id, or API_CACHE
    origin_request_policy: str | None = None
    # Sign-in: the viewer's Host reaches the function as X-Viewer-Host (the issuer's host name).
    viewer_host: bool = False
    # Sign-in: its answers may carry a challenge, which the origin-response function restores
    # (API Gateway renames WWW-Authenticate; infra/edge_challenge.py).
    restores_challenge: bool = False

    @property
    def compress(self) -> bool:
        # CloudFront compresses only through a cache policy that takes Gzip/Brotli into its key:
        # CachingOptimized and the API's own do, CachingDisabled does not.
        return self.cache_policy != CACHING_DISABLED_POLICY_ID


BEHAVIORS = (
    # The site's files, from the private bucket.
    Behavior(None, SITE_ORIGIN_ID, READ_METHODS, CACHING_OPTIMIZED_POLICY_ID),
    # The REST API: GETs cached on the API's own parameters, every other verb to the function.
    Behavior("api/*", API_ORIGIN_ID, ALL_METHODS, API_CACHE),
    # MCP: POSTs, never cached; the protocol's headers (Accept, Content-Type, MCP-Protocol-Version,
    # Mcp-Method, Mcp-Name, Origin) reach the function.
    Behavior("/mcp", API_ORIGIN_ID, ALL_METHODS, CACHING_DISABLED_POLICY_ID, ALL_VIEWER_EXCEPT_HOST_POLICY_ID),
)

# Sign-in's paths (handler/signin/door.py ENDPOINTS), on stacks with `auth: github`: never cached (a
# consent page, a code or a token is one person's), every header but Host forwarded (the cookie,
# Authorization, Origin).
SIGN_IN_PATHS = (
    "/.well-known/oauth-*",
    "/.well-known/openid-configuration",
    "/authorize",
    "/oauth/*",
    "/token",
    "/register",
    "/revoke",
)


# With sign-in, the paths whose answers can be a 401 or 403 with WWW-Authenticate: the protected
# resource (the API, /mcp), and the token and revocation endpoints (a client's Basic credentials).
CHALLENGING = ("api/*", "/mcp", "/token", "/revoke")


def _signed_in(behavior: Behavior) -> Behavior:
    """An API behavior with sign-in: uncached, with Authorization forwarded, the viewer's host told.

    CloudFront forwards Authorization only through the cache key, or with caching disabled
    through an AllViewer origin request policy: a search answer is one person's request now, and
    no cache in front of the function may serve it to a request without a valid token.
    """
    if behavior.origin != API_ORIGIN_ID:
        return behavior
    return Behavior(
        behavior.path_pattern,
        API_ORIGIN_ID,
        ALL_METHODS,
        CACHING_DISABLED_POLICY_ID,
        ALL_VIEWER_EXCEPT_HOST_POLICY_ID,
        viewer_host=True,
        restores_challenge=behavior.path_pattern in CHALLENGING,
    )


def behaviors(sign_in: bool) -> tuple[Behavior, ...]:
    if not sign_in:
        return BEHAVIORS
    added = tuple(
        Behavior(path, API_ORIGIN_ID, ALL_METHODS, CACHING_DISABLED_POLICY_ID, restores_challenge=path in CHALLENGING)
        for path in SIGN_IN_PATHS
    )
    return tuple(_signed_in(b) for b in BEHAVIORS + added)


# A CloudFront Function (viewer request) on the API's behaviors with sign-in: API Gateway sees its
# own host name, the function must know the one the person and the client used (the issuer).
VIEWER_HOST_FUNCTION = """function handler(event) {
  var request = event.request;
  request.headers['x-viewer-host'] = { value: request.headers.host.value };
  return request;
}
"""
