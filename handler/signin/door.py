"""Sign-in's door: one layer every request passes through once, wrapped around the fronts.

    through(request, front): sign-in's own endpoints are answered here (the authorization
    server, built on the first such request); a search path needs the stack's access token and
    the front is handed the person behind it; GitHub refusing that person's token on the way
    (`SignInRefused`) ends their grant and becomes the challenge to sign in again.

Imported only when AUTH=github, so a stack without sign-in pays nothing for it. The public
origin (the issuer) is PUBLIC_URL when the owner has a domain, else the host CloudFront saw
(a CloudFront Function copies it into X-Viewer-Host; only CloudFront holds the API key, so
nothing else can set it).

With private repositories (PRIVATE_REPOSITORIES=true) the person's GitHub token is a GitHub
App's, which expires: it is renewed before a call that would meet it expired, and once more
when GitHub refuses it, before the person is asked to sign in again (signin/grants.py).
"""

from __future__ import annotations

import os
import re

from proxy import Request, json_response
from search.service import SignInRefused

from signin import store
from signin.gate import Gate, Principal, Refusal

__all__ = ["ENDPOINTS", "Misconfigured", "Refusal", "admission", "check", "issuer", "reset", "through"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from signin.server import AuthorizationServer

    Response = dict[str, Any]
    Answer = tuple[Response, Any]

BUDGET = "DAILY_CALLS_PER_PERSON"  # signin/budget.py's setting; unset, that module is never loaded
RETRY_SECONDS = 5  # after a renewal GitHub did not answer, or the table or the key did not: soon
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
# The MCP front's path: its refusals are JSON-RPC errors, the REST front's the API's error shape.
MCP_PATH = "/mcp"
HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?\Z")
JSONRPC_UNAUTHORIZED = -32001
# A challenge's `code` in the REST front's error shape (static/openapi.yaml lists both).
ERROR_CODES = {401: "unauthorized", 403: "forbidden", 502: "upstream_error", 503: "unavailable"}


def through(request: Request, front: Callable[[Principal | None], Answer], *, protected: bool) -> Answer:
    """The answer to `request`: sign-in's own, a refusal, or the front's, run as the person."""
    if request.resource in ENDPOINTS:
        return endpoint(request), None
    if not protected or request.method == "OPTIONS":
        return front(None)  # CORS preflights carry no token; unknown paths get their 404
    try:
        person = _gate(request.headers).principal(request.headers)
        try:
            if person.sealed is not None:
                return _renewing(request, front, person)
            return front(person)
        except SignInRefused as exc:
            _gate(request.headers).end(person)
            return challenge(Refusal(401, "invalid_token", str(exc)), request), None
    except Misconfigured as exc:
        return challenge(Refusal(500, "server_error", str(exc)), request), None
    except Refusal as refused:
        return challenge(refused, request), None
    except store.StoreError as exc:  # the table or the token key did not answer: nothing is lost
        unavailable = Refusal(503, None, f"your sign-in could not be checked just now ({exc}); try again")
        return challenge(unavailable, request, {"Retry-After": str(RETRY_SECONDS)}), None


def _renewing(request: Request, front: Callable[[Principal | None], Answer], person: Principal) -> Answer:
    """The front, run with a GitHub token that is not about to expire, and run once more with a
    renewed one if GitHub refuses it. A second refusal ends the grant (in `through`)."""
    from signin import grants
    from signin.github_oauth import Tokens

    gate = _gate(request.headers)
    renewal = _renewal(request.headers)
    try:
        if grants.due(Tokens(person.github_token, person.expires), renewal.clock()):
            person = gate.renewed(person, *renewal.renew(person.grant, refused=None))
        try:
            return front(person)
        except SignInRefused:
            person = gate.renewed(person, *renewal.renew(person.grant, refused=person.sealed))
        return front(person)
    except grants.Ended as exc:
        gate.end(person)
        return challenge(Refusal(401, "invalid_token", str(exc)), request), None
    except grants.Busy as exc:
        busy = Refusal(502, None, f"GitHub could not renew your sign-in just now ({exc}); try again")
        return challenge(busy, request, {"Retry-After": str(RETRY_SECONDS)}), None


# Per public origin: the gate (every search request), and the authorization server, built on the
# first sign-in request only: a warm search never imports it (see bench/bench.py, cold init).
_gates: dict[str, Gate] = {}
_servers: dict[str, AuthorizationServer] = {}
_store: Any = None
_sealer: Any = None
_renewer: Any = None
_budget: Any = None


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
        _store = store.from_environment()
    return _store


def private() -> bool:
    """Whether people read their private repositories through a GitHub App (PRIVATE_REPOSITORIES)."""
    return os.environ.get("PRIVATE_REPOSITORIES", "").strip().lower() == "true"


def _shared_sealer() -> Any:
    global _sealer
    if _sealer is None and private():
        from signin import sealing

        _sealer = sealing.from_environment()
    return _sealer


def admission(person: Principal) -> Callable[[], int] | None:
    """What counts `person`'s call against their daily budget (signin/budget.py); None: no budget."""
    global _budget
    if _budget is None:
        _budget = False
        if os.environ.get(BUDGET, "").strip():  # only a stack with a budget loads it
            from signin import budget

            _budget = budget.Budget(_shared_store(), budget.limit(os.environ) or 0)
    if _budget is False:
        return None
    counter = _budget
    return lambda: int(counter.admit(person))


def check() -> None:
    """Misconfigured if the app people sign in with reads more than this configuration keeps
    apart: a GitHub App's user tokens read private repositories where it is installed, and only
    with PRIVATE_REPOSITORIES is each person's answer their own (and their token sealed); or if
    the daily budget is not one."""
    if os.environ.get(BUDGET, "").strip():
        from signin import budget

        try:
            budget.limit(os.environ)
        except ValueError as exc:
            raise Misconfigured(str(exc)) from None
    if os.environ.get("GITHUB_OAUTH_CLIENT_ID", "").startswith("Iv") and not private():
        raise Misconfigured(
            "GITHUB_OAUTH_CLIENT_ID is a GitHub App's (Iv...), whose sign-ins read private repositories; "
            "without privateRepositories one person's answers would be served to others: set "
            "privateRepositories to true, or sign in with an OAuth App (Ov23...)"
        )


def _gate(headers: Mapping[str, str]) -> Gate:
    origin = issuer(headers)
    gate = _gates.get(origin)
    if gate is None:
        check()
        gate = _gates[origin] = Gate(_shared_store(), f"{origin}/mcp", sealer=_shared_sealer())
    return gate


def _app() -> Any:
    """The OAuth App (or GitHub App) people sign in with: its id, secret and GitHub's web host."""
    from search.github_api import web_url

    env = os.environ
    client_id, secret = env.get("GITHUB_OAUTH_CLIENT_ID", ""), env.get("GITHUB_OAUTH_CLIENT_SECRET", "")
    if not client_id or not secret:
        raise Misconfigured("GITHUB_OAUTH_CLIENT_ID and GITHUB_OAUTH_CLIENT_SECRET must be set for AUTH=github")
    check()
    api_url = env.get("GITHUB_API_URL") or "https://api.github.com"
    return client_id, secret, api_url, env.get("GITHUB_WEB_URL") or web_url(api_url)


def _renewal(headers: Mapping[str, str]) -> Any:
    global _renewer
    if _renewer is None:
        from signin import grants

        client_id, secret, _, web = _app()
        _renewer = grants.Renewal(_shared_store(), _shared_sealer(), grants.App(web, client_id, secret))
    return _renewer


def _server(headers: Mapping[str, str]) -> AuthorizationServer:
    origin = issuer(headers)
    found = _servers.get(origin)
    if found is not None:
        return found
    from search.github_api import GitHubClient

    from signin.clients import MetadataCache
    from signin.server import AuthorizationServer, Settings

    env = os.environ
    client_id, secret, api_url, web = _app()
    settings = Settings(
        origin,
        client_id,
        secret,
        web=web,
        allowed_users=frozenset(u.strip() for u in env.get("AUTH_ALLOWED_USERS", "").split(",") if u.strip()),
        allowed_orgs=tuple(o.strip() for o in env.get("AUTH_ALLOWED_ORGS", "").split(",") if o.strip()),
    )
    metadata = next((s.metadata for s in _servers.values()), None) or MetadataCache()
    server = AuthorizationServer(
        settings,
        _shared_store(),
        GitHubClient(api_url),
        metadata=metadata,
        forget=_gate(headers).forget,
        sealer=_shared_sealer(),
    )
    _servers[origin] = server
    return server


def reset() -> None:
    """Forget the warm state, as a cold start would (tests)."""
    global _store, _sealer, _renewer, _budget
    _gates.clear()
    _servers.clear()
    _store = _sealer = _renewer = _budget = None


def endpoint(request: Request) -> Response:
    if request.resource == "/.well-known/openid-configuration":
        # Clients try OIDC discovery after RFC 8414's; this server is not an OpenID provider.
        return _json(
            404,
            {
                "error": "not_found",
                "error_description": "not an OpenID provider; see /.well-known/oauth-authorization-server",
            },
        )
    try:
        server = _server(request.headers)
    except Misconfigured as exc:
        return _json(500, {"error": "server_error", "error_description": str(exc)})
    if request.repeated:  # RFC 6749 section 3.1: a parameter sent twice makes the request ambiguous
        from signin.server import refused

        return refused(400, "This request cannot be read", f"{request.repeated[0]} is sent more than once.")
    query = request.query
    params = {str(k): str(v) for k, v in query.items()} if isinstance(query, dict) else {}
    return server.handle(request.method, request.resource, params, request.headers, request.body)


def challenge(refusal: Refusal, request: Request, headers: Mapping[str, str] | None = None) -> Response:
    """The 401/403 answer: WWW-Authenticate naming the metadata, in the front's own error shape."""
    try:
        metadata = f"{issuer(request.headers)}/.well-known/oauth-protected-resource/mcp"
    except Misconfigured:
        metadata = "/.well-known/oauth-protected-resource/mcp"
    extra = {"WWW-Authenticate": refusal.challenge(metadata)} if refusal.status in (401, 403) else {}
    extra |= headers or {}
    code = ERROR_CODES.get(refusal.status, "internal_error")
    if request.resource == MCP_PATH:
        payload: object = {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": JSONRPC_UNAUTHORIZED, "message": f"{code}: {refusal.message}"},
        }
    else:
        payload = {"error": {"code": code, "message": refusal.message}}
    return _json(refusal.status, payload, extra)


def _json(status: int, payload: object, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(status, payload, {"Cache-Control": "no-store", **(headers or {})})
