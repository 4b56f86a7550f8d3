"""Sign-in's wiring: the function's environment turned into an authorization server and a gate.

Imported only when AUTH=github, so a stack without sign-in pays nothing for it. The public
origin (the issuer) is PUBLIC_URL when the owner has a domain, else the host CloudFront saw
(a CloudFront Function copies it into X-Viewer-Host; only CloudFront holds the API key, so
nothing else can set it).
"""

from __future__ import annotations

import json
import os
import re

import auth_store
from auth_gate import Gate, Principal, Refusal

__all__ = [
    "ENDPOINTS",
    "Misconfigured",
    "Refusal",
    "challenge",
    "end",
    "endpoint",
    "issuer",
    "principal",
    "reset",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from oauth_server import AuthorizationServer

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

# Per public origin: the gate (every search request), and the authorization server, built on the
# first sign-in request only: a warm search never imports it (see bench/bench.py, cold init).
_gates: dict[str, Gate] = {}
_servers: dict[str, AuthorizationServer] = {}
_store: Any = None


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


def _shared_store() -> Any:
    global _store
    if _store is None:
        _store = auth_store.from_environment()
    return _store


def _gate(headers: Mapping[str, str]) -> Gate:
    origin = issuer(headers)
    gate = _gates.get(origin)
    if gate is None:
        gate = _gates[origin] = Gate(_shared_store(), f"{origin}/mcp")
    return gate


def _server(headers: Mapping[str, str]) -> AuthorizationServer:
    origin = issuer(headers)
    found = _servers.get(origin)
    if found is not None:
        return found
    import github_oauth
    from github_api import GitHubClient
    from oauth_clients import MetadataCache
    from oauth_server import AuthorizationServer, Settings

    env = os.environ
    client_id, secret = env.get("GITHUB_OAUTH_CLIENT_ID", ""), env.get("GITHUB_OAUTH_CLIENT_SECRET", "")
    if not client_id or not secret:
        raise Misconfigured("GITHUB_OAUTH_CLIENT_ID and GITHUB_OAUTH_CLIENT_SECRET must be set for AUTH=github")
    api_url = env.get("GITHUB_API_URL") or "https://api.github.com"
    settings = Settings(
        origin,
        client_id,
        secret,
        web=env.get("GITHUB_WEB_URL") or github_oauth.web_url(api_url),
        allowed_users=frozenset(u.strip() for u in env.get("AUTH_ALLOWED_USERS", "").split(",") if u.strip()),
        allowed_orgs=tuple(o.strip() for o in env.get("AUTH_ALLOWED_ORGS", "").split(",") if o.strip()),
    )
    metadata = next((s.metadata for s in _servers.values()), None) or MetadataCache()
    server = AuthorizationServer(
        settings, _shared_store(), GitHubClient(api_url), metadata=metadata, forget=_gate(headers).forget
    )
    _servers[origin] = server
    return server


def reset() -> None:
    """Forget the warm state, as a cold start would (tests)."""
    global _store
    _gates.clear()
    _servers.clear()
    _store = None


def endpoint(
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    body: str | None,
    *,
    repeated: list[str] | None = None,
) -> Response:
    if path == "/.well-known/openid-configuration":
        # Clients try OIDC discovery after RFC 8414's; this server is not an OpenID provider.
        return _json(
            404,
            {
                "error": "not_found",
                "error_description": "not an OpenID provider; see /.well-known/oauth-authorization-server",
            },
        )
    try:
        server = _server(headers)
    except Misconfigured as exc:
        return _json(500, {"error": "server_error", "error_description": str(exc)})
    if repeated:  # RFC 6749 section 3.1: a parameter sent twice makes the request ambiguous
        from oauth_server import refused

        return refused(400, "This request cannot be read", f"{repeated[0]} is sent more than once.")
    return server.handle(method, path, params, headers, body)


def principal(headers: Mapping[str, str]) -> Principal:
    """Who the request is from; Refusal (401/403) if no valid token of this stack's is presented."""
    try:
        gate = _gate(headers)
    except Misconfigured as exc:
        raise Refusal(500, "server_error", str(exc)) from None
    return gate.principal(headers)


def end(headers: Mapping[str, str], who: Principal) -> None:
    _gate(headers).end(who)


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
    return _json(refusal.status, payload, extra)


def _json(status: int, payload: object, headers: Mapping[str, str] | None = None) -> Response:
    out = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", **(headers or {})}
    return {"statusCode": status, "headers": out, "body": json.dumps(payload), "isBase64Encoded": False}
