"""Lambda entry point: the REST front (`/api/search`, `/api/repos/{owner}/{repo}`) and the MCP
front (`/mcp`, imported on first use) over one search service.

The contract (docs/architecture.md, "The API contract") is published as static/openapi.yaml,
which lists every status this module and the service can answer (tests/test_contract.py derives
them from the code and checks): every answer is JSON, every error is `{"error": {"code",
"message"}}` with `Cache-Control: no-store`, and nothing raises out of `handler`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from urllib.parse import unquote

from github_api import GitHubClient
from query import (
    BadRequest,
    parse_code_query,
    parse_file,
    parse_issue_query,
    parse_query,
    parse_repository,
)
from service import DEFAULT_TTL_SECONDS, Failure, Outcome, Result, SearchService

log = logging.getLogger("github_search")

DEFAULT_API_URL = "https://api.github.com"
LOGGED_QUERY_CHARS = 80
SEARCH_PATH = "/api/search"
CODE_PATH = "/api/search/code"
ISSUES_PATH = "/api/search/issues"
REPOSITORY_PATH = "/api/repos/{owner}/{repo}"
CONTENTS_PATH = "/api/repos/{owner}/{repo}/contents/{path+}"
MCP_PATH = "/mcp"
# The function's cache outcome. Not X-Cache: CloudFront sets that one on every answer.
CACHE_HEADER = "X-Search-Cache"
REST_ROUTES = (SEARCH_PATH, CODE_PATH, ISSUES_PATH, REPOSITORY_PATH, CONTENTS_PATH)

# typing stays out of the cold start; mypy still sees the types.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Response = dict[str, Any]


def error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return _json_response(
        status, {"error": {"code": code, "message": message}}, {"Cache-Control": "no-store", **(headers or {})}
    )


def _json_response(status: int, payload: object, headers: Mapping[str, str]) -> Response:
    """`payload` is serialised, unless it is already JSON text (a cached answer)."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json; charset=utf-8", **headers},
        "body": body,
        "isBase64Encoded": False,
    }


def ok(result: Result) -> Response:
    return _json_response(
        200, result.text, {"Cache-Control": f"public, max-age={result.max_age}", CACHE_HEADER: result.cache}
    )


def failed(failure: Failure) -> Response:
    retry = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else None
    return error(failure.status, failure.code, failure.message, retry)


def _header(event: Mapping[str, Any], name: str) -> str | None:
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return None
    value = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == name), None)
    return value if isinstance(value, str) else None


def _allowed_origins() -> frozenset[str]:
    return frozenset(o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip())


def _cors_headers(event: Mapping[str, Any]) -> dict[str, str]:
    """CORS only in local mode (ALLOWED_ORIGINS set); deployed, assistants call server-side."""
    allowed = _allowed_origins()
    origin = _header(event, "origin") if allowed else None
    if origin is None or origin not in allowed:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


_service: SearchService | None = None
_service_settings: tuple[str, ...] | None = None


def _positive(value: str, name: str) -> float | None:
    """An optional positive number from the environment; a bad one is named, not a crash per request."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not 0 < number < 3600:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return number


def service() -> SearchService:
    """The warm instance's service, rebuilt only if its environment changes."""
    global _service, _service_settings
    env = os.environ
    settings = (
        env.get("GITHUB_API_URL") or DEFAULT_API_URL,
        env.get("GITHUB_TOKEN", ""),
        env.get("CACHE_TTL_SECONDS", ""),
        env.get("UPSTREAM_CONNECT_TIMEOUT", ""),
        env.get("UPSTREAM_READ_TIMEOUT", ""),
        env.get("UPSTREAM_UNREACHABLE_HINT", ""),  # local mode: what to try when GitHub is out of reach
    )
    if _service is None or settings != _service_settings:
        api_url, token, ttl, connect_timeout, read_timeout, hint = settings
        client = GitHubClient(api_url, token or None, unreachable_hint=hint)
        client.connect_timeout = _positive(connect_timeout, "UPSTREAM_CONNECT_TIMEOUT") or client.connect_timeout
        client.read_timeout = _positive(read_timeout, "UPSTREAM_READ_TIMEOUT") or client.read_timeout
        if _service is not None:
            _service.client.close()
        _service = SearchService(client, int(ttl) if ttl.isdigit() and 0 < len(ttl) < 7 else DEFAULT_TTL_SECONDS)
        _service_settings = settings
    return _service


def reset() -> None:
    """Forget the warm state (cache, connection), as a cold start would."""
    global _service, _service_settings
    if _service is not None:
        _service.client.close()
    _service, _service_settings = None, None


def route(path: str) -> tuple[str, dict[str, str] | None]:
    """The API Gateway resource a path matches, and its path parameters (decoded, as API Gateway does)."""
    if path.startswith("/api/repos/"):
        parts = [unquote(p) for p in path[len("/api/repos/") :].split("/")]
        if len(parts) == 2 and all(parts):
            return REPOSITORY_PATH, {"owner": parts[0], "repo": parts[1]}
        if len(parts) >= 4 and parts[2] == "contents" and all(parts[:2]) and any(parts[3:]):
            return CONTENTS_PATH, {"owner": parts[0], "repo": parts[1], "path": "/".join(parts[3:])}
    return path, None


def _route(event: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    # API Gateway names the matched resource; a bare event (tests, benchmarks) means the search.
    resource = event.get("resource")
    params = event.get("pathParameters")
    if isinstance(resource, str) and resource:
        return resource, params if isinstance(params, Mapping) else {}
    path = event.get("path")
    if isinstance(path, str) and path:
        resource, matched = route(path)
        return resource, matched or {}
    return SEARCH_PATH, {}


def _answer(parse: Callable[[], Any], run: Callable[[Any, Outcome], Result], outcome: Outcome) -> tuple[Response, Any]:
    """Parse the request (400 if it cannot be), then let the service answer it: (response, request)."""
    try:
        request = parse()
    except BadRequest as exc:
        return error(400, "invalid_request", str(exc)), None
    outcome.cache = "MISS"  # unless the service finds it HIT, REVALIDATED or STALE
    try:
        return ok(run(request, outcome)), request
    except Failure as exc:
        return failed(exc), request


def _get(resource: str, event: Mapping[str, Any], params: Mapping[str, Any], outcome: Outcome) -> tuple[Response, Any]:
    """The REST front's GET routes: each a parser and a service call."""
    qs = event.get("queryStringParameters")
    svc = service()
    if resource == REPOSITORY_PATH:
        return _answer(lambda: parse_repository(params.get("owner"), params.get("repo")), svc.repository, outcome)
    if resource == CONTENTS_PATH:
        ref = qs.get("ref") if isinstance(qs, Mapping) else None
        return _answer(
            lambda: parse_file(params.get("owner"), params.get("repo"), params.get("path"), ref), svc.file, outcome
        )
    if resource == CODE_PATH:
        return _answer(lambda: parse_code_query(qs), svc.code, outcome)
    if resource == ISSUES_PATH:
        return _answer(lambda: parse_issue_query(qs), svc.issues, outcome)
    return _answer(lambda: parse_query(qs), svc.search, outcome)


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    headers = event.get("headers")
    return {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, Mapping) else {}


def _body(event: Mapping[str, Any]) -> str | None:
    body = event.get("body")
    if isinstance(body, str) and event.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return body if isinstance(body, str) else None


def _mcp(event: Mapping[str, Any], method: str, outcome: Outcome, fields: dict[str, Any]) -> Response:
    import mcp_front  # imported on first use: the REST front's cold start does not pay for it

    info = mcp_front.Info()
    reply = mcp_front.McpFront(service()).handle(method, _headers(event), _body(event), outcome, info)
    fields.update(mcp_method=info.method, tool=info.tool, protocol_version=info.version)
    out = {"Cache-Control": "no-store", **reply.headers}
    if reply.body is None:
        return {"statusCode": reply.status, "headers": out, "body": "", "isBase64Encoded": False}
    return _json_response(reply.status, reply.body, out)


def _signed_in(
    event: Mapping[str, Any], resource: str, outcome: Outcome, fields: dict[str, Any]
) -> tuple[Response, Any] | None:
    """With sign-in on: the authorization server's answer, or a refusal; None lets the request on."""
    import sign_in  # only stacks with sign-in import it

    headers = _headers(event)
    if resource in sign_in.ENDPOINTS:
        qs, multi = event.get("queryStringParameters"), event.get("multiValueQueryStringParameters")
        params = {str(k): str(v) for k, v in qs.items()} if isinstance(qs, Mapping) else {}
        # API Gateway keeps the last of a repeated parameter; OAuth refuses the request instead.
        repeated = (
            [str(k) for k, v in multi.items() if isinstance(v, list) and len(v) > 1]
            if isinstance(multi, Mapping)
            else []
        )
        method = str(event.get("httpMethod", "GET"))
        return sign_in.endpoint(method, resource, params, headers, _body(event), repeated=repeated), None
    if event.get("httpMethod") == "OPTIONS" or (resource != MCP_PATH and resource not in REST_ROUTES):
        return None  # CORS preflights carry no token; unknown paths get their 404
    try:
        who = sign_in.principal(headers)
    except sign_in.Refusal as refused:
        return sign_in.challenge(refused, headers, mcp=resource == MCP_PATH), None
    outcome.github_token = who.github_token
    fields["login"] = who.login
    response, query = _front(event, resource, outcome, fields)
    if outcome.github_refused:
        sign_in.end(headers, who)
        refusal = sign_in.Refusal(401, "invalid_token", "GitHub no longer accepts your sign-in; sign in again")
        return sign_in.challenge(refusal, headers, mcp=resource == MCP_PATH), query
    return response, query


def respond(event: object, outcome: Outcome, fields: dict[str, Any]) -> tuple[Response, Any]:
    if not isinstance(event, Mapping):
        return error(400, "invalid_request", "malformed request event"), None
    resource, _ = _route(event)
    fields["route"] = resource[:80]
    if os.environ.get("AUTH", "none") != "none":  # any other value fails closed: sign-in in front
        answer = _signed_in(event, resource, outcome, fields)
        if answer is not None:
            return answer
    return _front(event, resource, outcome, fields)


def _front(event: Mapping[str, Any], resource: str, outcome: Outcome, fields: dict[str, Any]) -> tuple[Response, Any]:
    """The MCP and REST fronts' answer."""
    cors = _cors_headers(event)
    method = event.get("httpMethod", "GET")
    _, params = _route(event)
    query = None
    if resource == MCP_PATH:
        return _mcp(event, str(method), outcome, fields), None
    if resource not in REST_ROUTES:
        response = error(404, "not_found", f"no API at {resource[:80]!r}; try GET {SEARCH_PATH}?q=...")
    elif method == "OPTIONS" and cors:
        preflight = {
            **cors,
            "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        }
        return {"statusCode": 204, "headers": preflight, "body": "", "isBase64Encoded": False}, None
    elif method not in ("GET", "HEAD"):
        response = error(405, "method_not_allowed", "only GET and HEAD are supported", {"Allow": "GET, HEAD"})
    else:
        response, query = _get(resource, event, params, outcome)
    response["headers"].update(cors)
    return response, query


def handler(event: object, context: object = None) -> Response:
    started = time.perf_counter()
    query: Any = None
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    outcome = Outcome(time_left=(lambda: remaining_ms() / 1000) if callable(remaining_ms) else None)
    fields: dict[str, Any] = {"route": None, "login": None}
    try:
        response, query = respond(event, outcome, fields)
    except Exception:  # the contract: never raise out of the handler
        log.exception("unexpected error")
        response = error(500, "internal_error", "unexpected error; see the function's logs")
    fields |= {
        "query": query.q[:LOGGED_QUERY_CHARS] if hasattr(query, "q") else None,
        "sort": getattr(query, "sort", None) or None,
        "status": response["statusCode"],
        "cache": outcome.cache,
        "upstream_status": outcome.upstream_status,
        "upstream_calls": outcome.upstream_calls,
        "upstream_ms": outcome.upstream_ms,
        "rate_limit_remaining": outcome.rate_limit_remaining,
        "token_refused": outcome.token_refused,
        "login": fields["login"],  # with sign-in: who searched (never their tokens)
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    log.info("request %s", " ".join(f"{k}={v}" for k, v in fields.items()), extra=fields)
    return response
