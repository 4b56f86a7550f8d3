"""Lambda entry point, and the REST front. A request goes top-down, through each layer once:

    sign-in's door (`signin/`, only with AUTH=github): answers its own endpoints, hands the
      front the person behind the token, and turns a refusal into a challenge on the way out
    -> the REST front (this module: `/api/...`) or the MCP front (`mcp_front/`, on first use)
      -> the search service (`search/`): one cache, one GitHub client -> GitHub

The contract (docs/architecture.md, "The API contract") is published as static/openapi.yaml,
which lists every status this module and the service can answer (tests/test_contract.py derives
them from the code and checks): every answer is JSON, every error is `{"error": {"code",
"message"}}` with `Cache-Control: no-store`, and nothing raises out of `handler`.

The top layer: it may import every part; no part imports it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from urllib.parse import unquote

from proxy import Request, carried, json_response, read, response, sealed
from search.github_api import GitHubClient
from search.query import (
    BadRequest,
    parse_code_query,
    parse_file,
    parse_issue_query,
    parse_query,
    parse_repository,
)
from search.service import DEFAULT_TTL_SECONDS, Failure, Outcome, Result, SearchService
from search.syntax import qualifiers

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
SCOPES = ("repo", "org", "user")  # a search's qualifiers that say whose code it reads

# typing stays out of the cold start; mypy still sees the types.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from signin.gate import Principal

    Response = dict[str, Any]
    Answer = tuple[Response, Any]  # the response, and the parsed query (for the log line)


def handler(event: object, context: object = None) -> Response:
    started = time.perf_counter()
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    outcome = Outcome(time_left=(lambda: remaining_ms() / 1000) if callable(remaining_ms) else None)
    fields: dict[str, Any] = {"request_id": _request_id(event, context), "route": None}
    try:
        answer, _ = respond(event, outcome, fields)
    except Exception:  # the contract: never raise out of the handler
        log.exception("unexpected error")
        answer = error(500, "internal_error", "unexpected error; see the function's logs")
    answer = carried(sealed(answer))
    record = audit(fields, outcome, answer, round((time.perf_counter() - started) * 1000, 1))
    log.info("audit", extra=record)
    return answer


def audit(fields: dict[str, Any], outcome: Outcome, answer: Response, ms: float) -> dict[str, Any]:
    """One call's audit record: who (the person, the client), what (the front, the route or tool,
    the repository a read named, a search's scope qualifiers), within what (the fence, whether
    private repositories were in reach), and how it went. Never a token; the query's text only
    when the owner asks for it (AUDIT_QUERIES: a query can carry a secret someone pasted)."""
    q = outcome.query
    scope = [
        f"{key}:{value}" for negated, key, value in qualifiers(q or "", quoted=False) if key in SCOPES and not negated
    ]
    record = {
        **fields,
        "front": "mcp" if fields["route"] == MCP_PATH else "rest" if fields["route"] in REST_ROUTES else "sign-in",
        "repository": outcome.repository,
        "scope": scope or None,
        "fence": os.environ.get("SEARCH_SCOPE", "").strip() or None,
        "status": answer["statusCode"],
        "error": outcome.error or _error_code(answer),
        "cache": outcome.cache,
        "upstream_status": outcome.upstream_status,
        "upstream_calls": outcome.upstream_calls,
        "upstream_ms": outcome.upstream_ms,
        "rate_limit_remaining": outcome.rate_limit_remaining,
        "token_refused": outcome.token_refused,
        "budget_used": outcome.budget_used,
        "ms": ms,
    }
    if q is not None and os.environ.get("AUDIT_QUERIES", "").strip().lower() == "true":
        record["query"] = q[:LOGGED_QUERY_CHARS]
    return record


def _error_code(answer: Response) -> str | None:
    """The `code` of an error the REST front or the door answered (their one JSON shape)."""
    if answer["statusCode"] < 400:
        return None
    try:
        found = json.loads(answer.get("body") or "null")
        code = found["error"]["code"] if isinstance(found, dict) and isinstance(found.get("error"), dict) else None
    except ValueError:
        return None
    return str(code)[:40] if isinstance(code, str) else None  # MCP's JSON-RPC errors have a number


def _request_id(event: object, context: object) -> str | None:
    """API Gateway's id for the request (what its access log and CloudFront's carry), else Lambda's."""
    request_context = event.get("requestContext") if isinstance(event, Mapping) else None
    found = request_context.get("requestId") if isinstance(request_context, Mapping) else None
    found = found or getattr(context, "aws_request_id", None)
    return str(found)[:64] if found else None


def respond(event: object, outcome: Outcome, fields: dict[str, Any]) -> Answer:
    if not isinstance(event, Mapping):
        return error(400, "invalid_request", "malformed request event"), None
    request = read(event, *_route(event))
    fields["route"] = request.resource[:80]

    def front(person: Principal | None) -> Answer:
        if person is not None:  # the search runs as this person, with their own GitHub token
            outcome.github_token = person.github_token
            fields.update(
                {  # who, for the audit record: never their tokens
                    "login": person.login,
                    "person_id": person.user_id or None,
                    "client_id": person.client_id or None,
                    "client_name": person.client_name or None,
                    "private": person.sealed is not None,  # their private repositories in reach
                }
            )
            if person.sealed is not None:  # private repositories: their answers are theirs alone
                outcome.person = f"id:{person.user_id}" if person.user_id else f"login:{person.login}"
            from signin import door  # imported already: a person means sign-in is on

            outcome.admit = door.admission(person)  # their daily budget, when the owner set one
        if request.resource == MCP_PATH:
            return _mcp(request, outcome, fields), None
        return _rest(request, outcome)

    if os.environ.get("AUTH", "none") == "none":
        return front(None)
    from signin import door  # only stacks with sign-in import it; any AUTH but "none" fails closed

    protected = request.resource == MCP_PATH or request.resource in REST_ROUTES
    return door.through(request, front, protected=protected)


# -- routing ------------------------------------------------------------------------------------


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


# -- the REST front -----------------------------------------------------------------------------


def _rest(request: Request, outcome: Outcome) -> Answer:
    cors = _cors_headers(request)
    query = None
    if request.resource not in REST_ROUTES:
        answer = error(404, "not_found", f"no API at {request.resource[:80]!r}; try GET {SEARCH_PATH}?q=...")
    elif request.method == "OPTIONS" and cors:
        preflight = {
            **cors,
            "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        }
        return response(204, "", preflight), None
    elif request.method not in ("GET", "HEAD"):
        answer = error(405, "method_not_allowed", "only GET and HEAD are supported", {"Allow": "GET, HEAD"})
    else:
        answer, query = _get(request, outcome)
    answer["headers"].update(cors)
    return answer, query


def _get(request: Request, outcome: Outcome) -> Answer:
    """The REST front's GET routes: each a parser and a service call."""
    qs, params, resource = request.query, request.path_params, request.resource
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


def _answer(parse: Callable[[], Any], run: Callable[[Any, Outcome], Result], outcome: Outcome) -> Answer:
    """Parse the request (400 if it cannot be), then let the service answer it: (response, request)."""
    try:
        parsed = parse()
    except BadRequest as exc:
        return error(400, "invalid_request", str(exc)), None
    outcome.cache = "MISS"  # unless the service finds it HIT, REVALIDATED or STALE
    try:
        # A signed-in person's answer: no shared cache may keep it for a request without their token
        # (RFC 9111 section 3.5 lets one store an answer to an Authorization request marked public);
        # one that may hold their private code, no cache at all.
        scope = "no-store" if outcome.person else "public" if outcome.github_token is None else "private"
        return ok(run(parsed, outcome), scope=scope), parsed
    except Failure as exc:
        return failed(exc), parsed


def _allowed_origins() -> frozenset[str]:
    return frozenset(o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip())


def _cors_headers(request: Request) -> dict[str, str]:
    """CORS only in local mode (ALLOWED_ORIGINS set); deployed, assistants call server-side."""
    allowed = _allowed_origins()
    origin = request.headers.get("origin") if allowed else None
    if origin is None or origin not in allowed:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(
        status, {"error": {"code": code, "message": message}}, {"Cache-Control": "no-store", **(headers or {})}
    )


def ok(result: Result, *, scope: str = "public") -> Response:
    """`scope`: public (anyone's answer), private (one person's, of public data) or no-store (one
    person's, perhaps of their private repositories)."""
    control = "private, no-store" if scope == "no-store" else f"{scope}, max-age={result.max_age}"
    return json_response(200, result.text, {"Cache-Control": control, CACHE_HEADER: result.cache})


def failed(failure: Failure) -> Response:
    retry = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else None
    return error(failure.status, failure.code, failure.message, retry)


# -- the MCP front ------------------------------------------------------------------------------


def _mcp(request: Request, outcome: Outcome, fields: dict[str, Any]) -> Response:
    from mcp_front import protocol  # on first use: the REST front's cold start does not pay for it

    info = protocol.Info()
    reply = protocol.McpFront(service()).handle(request.method, request.headers, request.body, outcome, info)
    fields.update(mcp_method=info.method, tool=info.tool, protocol_version=info.version)
    out = {"Cache-Control": "no-store", **reply.headers}
    if reply.body is None:
        return response(reply.status, "", out)
    return json_response(reply.status, reply.body, out)


# -- the search service, one per warm instance --------------------------------------------------

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
        # A changed fence is a new service, so a new cache: no answer outlives the fence it was made in.
        env.get("SEARCH_SCOPE", ""),
    )
    if _service is None or settings != _service_settings:
        api_url, token, ttl, connect_timeout, read_timeout, hint, scope = settings
        fenced = None
        if scope.strip():  # only a fenced stack loads the fence
            from search import fence

            try:
                fenced = fence.parse(scope)
            except ValueError as exc:
                raise ValueError(f"SEARCH_SCOPE: {exc}") from None
        client = GitHubClient(api_url, token or None, unreachable_hint=hint)
        client.connect_timeout = _positive(connect_timeout, "UPSTREAM_CONNECT_TIMEOUT") or client.connect_timeout
        client.read_timeout = _positive(read_timeout, "UPSTREAM_READ_TIMEOUT") or client.read_timeout
        if _service is not None:
            _service.client.close()
        ttl_seconds = int(ttl) if ttl.isdigit() and 0 < len(ttl) < 7 else DEFAULT_TTL_SECONDS
        _service = SearchService(client, ttl_seconds, fence=fenced)
        _service_settings = settings
    return _service


def reset() -> None:
    """Forget the warm state (cache, connection), as a cold start would."""
    global _service, _service_settings
    if _service is not None:
        _service.client.close()
    _service, _service_settings = None, None
