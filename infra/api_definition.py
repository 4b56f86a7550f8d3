"""What the REST API serves, as data: routes and the answers API Gateway makes itself.

Pure, so that tests read it without mocks and the deployment's `triggers` hash it: any change
here redeploys the stage (API Gateway serves a deployment's snapshot, not the live definition).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass

# Every verb reaches the function, which answers 405 in the API's JSON shape for the ones it does
# not serve: a method per verb would leave HEAD (CloudFront forwards it as HEAD) to API Gateway's
# 403 "Missing Authentication Token".
ANY = "ANY"
NO_STORE = "'no-store'"
JSON_TYPE = "application/json"


def slug(*parts: str) -> str:
    """Path parts as a name for the resources a route makes. Only letters, digits, "-" and "_":
    an auto-named Lambda permission's statement id is this name plus a suffix, and AddPermission
    (and the provider) refuse anything else, such as the dot of `.well-known`."""
    return "-".join(cleaned for part in parts if (cleaned := re.sub(r"[^A-Za-z0-9_-]+", "", part)))


@dataclass(frozen=True)
class Route:
    path: tuple[str, ...]  # path parts; "{name}" is a path parameter
    http_method: str = ANY

    @property
    def resource_path(self) -> str:
        return "/" + "/".join(self.path)

    @property
    def slug(self) -> str:
        return slug(*self.path)

    def source_arn(self, execution_arn: str) -> str:
        """The ARN pattern API Gateway invokes the function with for this route, any stage."""
        verb = "*" if self.http_method == ANY else self.http_method
        parts = "/".join("*" if p.startswith("{") else p for p in self.path)
        return f"{execution_arn}/*/{verb}/{parts}"


@dataclass(frozen=True)
class GatewayError:
    """An answer API Gateway makes without the function, in the API's error shape."""

    response_type: str
    code: str
    message: str | None  # None: API Gateway's own message ($context.error.messageString)
    status_code: str | None = None  # None: keep the status API Gateway chose (DEFAULT_4XX/5XX)
    retry_after: str | None = None

    def template(self) -> str:
        message = json.dumps(self.message) if self.message is not None else "$context.error.messageString"
        return f'{{"error": {{"code": {json.dumps(self.code)}, "message": {message}}}}}'

    def parameters(self) -> dict[str, str]:
        headers = {"Cache-Control": NO_STORE, "Content-Type": f"'{JSON_TYPE}; charset=utf-8'"}
        if self.retry_after is not None:
            headers["Retry-After"] = f"'{self.retry_after}'"
        return {f"gatewayresponse.header.{name}": value for name, value in headers.items()}


ROUTES = (
    Route(("api", "search")),
    Route(("api", "search", "code")),
    Route(("api", "search", "issues")),
    Route(("api", "repos", "{owner}", "{repo}")),
    Route(("api", "repos", "{owner}", "{repo}", "contents", "{path+}")),  # greedy: a path has slashes
    Route(("mcp",)),  # POST carries the protocol; GET and DELETE get the function's 405, not a 403
)

# Sign-in's endpoints (handler/signin/door.py ENDPOINTS), only on stacks with `auth: github`.
SIGN_IN_ROUTES = (
    Route((".well-known", "oauth-authorization-server")),
    Route((".well-known", "oauth-protected-resource")),
    Route((".well-known", "oauth-protected-resource", "mcp")),
    Route((".well-known", "openid-configuration")),  # answered 404 in JSON: not an OpenID provider
    Route(("authorize",)),
    Route(("oauth", "consent")),
    Route(("oauth", "callback")),
    Route(("token",)),
    Route(("register",)),
    Route(("revoke",)),
)

GATEWAY_ERRORS = (
    # The usage plan's throttle is one limit for every user (one key, CloudFront's), per second.
    GatewayError("THROTTLED", "rate_limited", "the service is busy; retry in 1 s", status_code="429", retry_after="1"),
    # What API Gateway answers for a path or verb it has no method for.
    GatewayError("MISSING_AUTHENTICATION_TOKEN", "not_found", "no API at this path; see /openapi.yaml", "404"),
    GatewayError("INTEGRATION_TIMEOUT", "upstream_timeout", "the search took too long; retry", "504"),
    GatewayError("DEFAULT_4XX", "invalid_request", None),
    GatewayError("DEFAULT_5XX", "internal_error", None),
)


@dataclass(frozen=True)
class ApiDefinition:
    routes: tuple[Route, ...] = ROUTES
    gateway_errors: tuple[GatewayError, ...] = GATEWAY_ERRORS
    authorization: str = "NONE"
    api_key_required: bool = True
    integration_type: str = "AWS_PROXY"
    integration_http_method: str = "POST"  # Lambda is always invoked with POST

    def digest(self, *resource_ids: str) -> str:
        payload = json.dumps({**asdict(self), "ids": resource_ids}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


API = ApiDefinition()
SIGNED_IN_API = ApiDefinition(routes=ROUTES + SIGN_IN_ROUTES)


def definition(sign_in: bool) -> ApiDefinition:
    return SIGNED_IN_API if sign_in else API
