"""Sign-in's wiring: the function's environment turned into an authorization server and a gate.

Imported only when AUTH=github, so a stack without sign-in pays nothing for it. The public
origin (the issuer) is PUBLIC_URL when the owner has a domain, else the host CloudFront saw
(a CloudFront Function copies it into X-Viewer-Host; only CloudFront holds the API key, so
nothing else can set it).
"""

from __future__ import annotations

import os
import re

import auth_store
import github_oauth
from auth_gate import Gate, Principal, Refusal

__all__ = [
    "ENDPOINTS",
    "Misconfigured",
    "Refusal",
    "challenge",
    "enabled",
    "end",
    "endpoint",
    "issuer",
    "principal",
    "reset",
]
from github_api import GitHubClient
from oauth_clients import MetadataCache
from oauth_server import AuthorizationServer, Settings, json_answer, oauth_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Response = dict[str, Any]

# The paths the authorization server answers (API Gateway routes and CloudFront behaviors too).
ENDPOINTS = (
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/openid-configuration",
    "/authorize",
    "/oauth/consent",
    "/oauth/callback",
    "/token",
    "/register",
    "/revoke",
)
HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?\Z")
JSONRPC_UNAUTHORIZED = -32001

_servers: dict[str, tuple[AuthorizationServer, Gate]] = {}
_shared: tuple[Any, MetadataCache, GitHubClient] | None = None


def enabled() -> bool:
    return os.environ.get("AUTH", "none") == "github"


class Misconfigured(Exception):
    pass


def issuer(headers: Mapping[str, str]) -> str:
    configured = os.environ.get("PUBLIC_URL", "").strip().rstrip("/")
    if configured:
        return configured
    host = headers.get("x-viewer-host", "")
    if not HOST.match(host):
        raise Misconfigured("the public host is unknown: set PUBLIC_URL, or reach the function through CloudFront")
    return f"https://{host}"


def _parts(headers: Mapping[str, str]) -> tuple[AuthorizationServer, Gate]:
    global _shared
    origin = issuer(headers)
    found = _servers.get(origin)
    if found is not None:
        return found
    env = os.environ
    client_id, secret = env.get("GITHUB_OAUTH_CLIENT_ID", ""), env.get("GITHUB_OAUTH_CLIENT_SECRET", "")
    if not client_id or not secret:
        raise Misconfigured("GITHUB_OAUTH_CLIENT_ID and GITHUB_OAUTH_CLIENT_SECRET must be set for AUTH=github")
    api_url = env.get("GITHUB_API_URL") or "https://api.github.com"
    if _shared is None:
        # One store, one metadata cache and one GitHub client whatever host the request named.
        _shared = (auth_store.from_environment(), MetadataCache(), GitHubClient(api_url))
    store, metadata, github = _shared
    settings = Settings(
        origin,
        client_id,
        secret,
        web=env.get("GITHUB_WEB_URL") or github_oauth.web_url(api_url),
        allowed_users=frozenset(u.strip() for u in env.get("AUTH_ALLOWED_USERS", "").split(",") if u.strip()),
        allowed_orgs=tuple(o.strip() for o in env.get("AUTH_ALLOWED_ORGS", "").split(",") if o.strip()),
    )
    gate = Gate(store, settings.resource)
    parts = AuthorizationServer(settings, store, github, metadata=metadata, forget=gate.forget), gate
    _servers[origin] = parts
    return parts


def reset() -> None:
    """Forget the warm state, as a cold start would (tests)."""
    global _shared
    _servers.clear()
    _shared = None


def endpoint(
    method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str], body: str | None
) -> Response:
    if path == "/.well-known/openid-configuration":
        # Clients try OIDC discovery after RFC 8414's; this server is not an OpenID provider.
        return oauth_error(404, "not_found", "not an OpenID provider; see /.well-known/oauth-authorization-server")
    try:
        server, _ = _parts(headers)
    except Misconfigured as exc:
        return oauth_error(500, "server_error", str(exc))
    return server.handle(method, path, params, headers, body)


def principal(headers: Mapping[str, str]) -> Principal:
    """Who the request is from; Refusal (401/403) if no valid token of this stack's is presented."""
    try:
        _, gate = _parts(headers)
    except Misconfigured as exc:
        raise Refusal(500, "server_error", str(exc)) from None
    return gate.principal(headers)


def end(headers: Mapping[str, str], who: Principal) -> None:
    _parts(headers)[1].end(who)


def challenge(refusal: Refusal, headers: Mapping[str, str], mcp: bool) -> Response:
    """The 401/403 answer: WWW-Authenticate naming the metadata, in the front's own error shape."""
    try:
        metadata = f"{issuer(headers)}/.well-known/oauth-protected-resource/mcp"
    except Misconfigured:
        metadata = "/.well-known/oauth-protected-resource/mcp"
    extra = {"WWW-Authenticate": refusal.challenge(metadata)} if refusal.status in (401, 403) else {}
    code = {401: "unauthorized", 403: "forbidden"}.get(refusal.status, "internal_error")
    if mcp:
        payload: object = {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": JSONRPC_UNAUTHORIZED, "message": f"{code}: {refusal.message}"},
        }
    else:
        payload = {"error": {"code": code, "message": refusal.message}}
    return json_answer(refusal.status, payload, {"Content-Type": "application/json; charset=utf-8", **extra})
