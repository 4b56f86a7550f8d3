"""Lambda entry point for `GET /api/search`: validate, ask GitHub (or the cache), answer.

The contract is DESIGN.md section 5, published as static/openapi.yaml: every answer is JSON, every error is
`{"error": {"code", "message"}}` with `Cache-Control: no-store`, and nothing raises out of
`handler`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping

from github_api import GitHubClient, Reply, UpstreamTimeout, UpstreamUnreachable
from query import BadRequest, SearchQuery, parse_query
from ttl_cache import Entry, TtlCache

log = logging.getLogger("github_search")

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_TTL_SECONDS = 300
STALE_MAX_AGE_SECONDS = 30
DEFAULT_RETRY_AFTER_SECONDS = 60
LOGGED_QUERY_CHARS = 80
# Every status this function can answer with (the OpenAPI document lists the same).
STATUSES = frozenset({200, 204, 400, 405, 429, 500, 502, 504})

# typing and dataclasses stay out of the cold start (~7 ms); mypy still sees the types.
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
    body = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json; charset=utf-8", **headers},
        "body": body,
        "isBase64Encoded": False,
    }


def to_repos(payload: object, limit: int) -> str:
    """Map GitHub's search answer to ours; raises ValueError on a shape we do not understand."""
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise ValueError("no 'items' in GitHub's answer")
    repos = [
        {
            "full_name": item["full_name"],
            "url": item["html_url"],
            "star": item.get("stargazers_count", 0),
            "description": item.get("description"),
            "language": item.get("language"),
            "topics": item.get("topics") or [],
            "updated_at": item.get("updated_at"),
        }
        for item in payload["items"][:limit]
    ]
    answer = {
        "total_count": int(payload.get("total_count", len(repos))),
        "incomplete_results": bool(payload.get("incomplete_results", False)),
        "repos": repos,
    }
    return json.dumps(answer, ensure_ascii=False)


def _is_rate_limit(reply: Reply) -> bool:
    if reply.status == 429:
        return True
    if reply.status != 403:
        return False
    if reply.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in reply.headers:
        return True
    return b"rate limit" in reply.body.lower()


def retry_after_seconds(headers: Mapping[str, str], now_epoch: float) -> int:
    """Seconds to wait: GitHub's `retry-after`, else until `x-ratelimit-reset`, else a minute."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return max(1, int(value))
    reset = headers.get("x-ratelimit-reset", "").strip()
    if reset.isdigit():
        return max(1, int(reset) - int(now_epoch))
    return DEFAULT_RETRY_AFTER_SECONDS


def _github_message(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return "GitHub rejected the query"
    if not isinstance(payload, dict):
        return "GitHub rejected the query"
    parts = [str(payload.get("message") or "GitHub rejected the query")]
    for item in payload.get("errors") or []:
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"]))
    return ": ".join(parts)


class Outcome:
    """What one request did, for the log line."""

    __slots__ = ("cache", "rate_limit_remaining", "upstream_ms", "upstream_status")

    def __init__(self, cache: str = "MISS") -> None:
        self.cache = cache
        self.upstream_status: int | None = None
        self.upstream_ms: float | None = None
        self.rate_limit_remaining: str | None = None


class SearchService:
    """The search with its cache and GitHub client; one per warm function instance."""

    def __init__(
        self,
        client: GitHubClient,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        cache: TtlCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.ttl = ttl_seconds
        self.cache = cache if cache is not None else TtlCache()
        self.clock = clock
        self.wall_clock = wall_clock

    def _ok(self, outcome: Outcome, body: str, cache: str, max_age: int) -> Response:
        outcome.cache = cache
        return _json_response(200, body, {"Cache-Control": f"public, max-age={max_age}", "X-Cache": cache})

    def search(self, query: SearchQuery, outcome: Outcome) -> Response:
        now = self.clock()
        entry = self.cache.get(query.key, now)
        if entry is not None and entry.age(now) <= self.ttl:
            return self._ok(outcome, entry.body, "HIT", self.ttl)

        headers = {"If-None-Match": entry.etag} if entry is not None and entry.etag else {}
        try:
            reply = self.client.get("/search/repositories", query.github_params(), headers)
        except UpstreamTimeout as exc:
            return self._fallback(entry, outcome, error(504, "upstream_timeout", str(exc)))
        except UpstreamUnreachable as exc:
            return self._fallback(entry, outcome, error(502, "upstream_error", str(exc)))

        outcome.upstream_status = reply.status
        outcome.upstream_ms = round(reply.elapsed_ms, 3)
        outcome.rate_limit_remaining = reply.headers.get("x-ratelimit-remaining")
        return self._answer(query, reply, entry, outcome)

    def _answer(self, query: SearchQuery, reply: Reply, entry: Entry | None, outcome: Outcome) -> Response:
        now = self.clock()
        if reply.status == 304 and entry is not None:
            self.cache.renew(entry, now)
            return self._ok(outcome, entry.body, "REVALIDATED", self.ttl)
        if reply.status == 200:
            try:
                body = to_repos(json.loads(reply.body), query.limit)
            except (ValueError, KeyError, TypeError):
                return self._fallback(
                    entry,
                    outcome,
                    error(502, "upstream_error", "GitHub answered with a body that is not the expected JSON"),
                )
            self.cache.put(query.key, body, reply.headers.get("etag"), now)
            return self._ok(outcome, body, "MISS", self.ttl)
        if reply.status == 422:
            return error(400, "invalid_request", _github_message(reply.body))
        if _is_rate_limit(reply):
            wait = retry_after_seconds(reply.headers, self.wall_clock())
            message = f"GitHub's search rate limit was reached; retry in {wait} s"
            return self._fallback(entry, outcome, error(429, "rate_limited", message, {"Retry-After": str(wait)}))
        if reply.status in (401, 403):
            refused = "GitHub refused the configured token" if self.client.has_token else "GitHub refused the request"
            return error(502, "upstream_error", f"{refused} (HTTP {reply.status}); check the githubToken setting")
        return self._fallback(entry, outcome, error(502, "upstream_error", f"GitHub answered HTTP {reply.status}"))

    def _fallback(self, entry: Entry | None, outcome: Outcome, failure: Response) -> Response:
        """Serve the last good answer (younger than a day, as the cache keeps them) over an error."""
        if entry is None:
            return failure
        return self._ok(outcome, entry.body, "STALE", min(self.ttl, STALE_MAX_AGE_SECONDS))


def _allowed_origins() -> frozenset[str]:
    return frozenset(o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip())


def _cors_headers(event: Mapping[str, Any]) -> dict[str, str]:
    """CORS only in local mode (ALLOWED_ORIGINS set); deployed, assistants call server-side."""
    allowed = _allowed_origins()
    headers = event.get("headers")
    if not allowed or not isinstance(headers, Mapping):
        return {}
    origin = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == "origin"), None)
    if origin not in allowed:
        return {}
    return {"Access-Control-Allow-Origin": str(origin), "Vary": "Origin"}


_service: SearchService | None = None
_service_settings: tuple[str, str, str, str, str] | None = None


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
    )
    if _service is None or settings != _service_settings:
        api_url, token, ttl, connect_timeout, read_timeout = settings
        client = GitHubClient(api_url, token or None)
        if connect_timeout:
            client.connect_timeout = float(connect_timeout)
        if read_timeout:
            client.read_timeout = float(read_timeout)
        if _service is not None:
            _service.client.close()
        _service = SearchService(client, int(ttl) if ttl.isdigit() and int(ttl) > 0 else DEFAULT_TTL_SECONDS)
        _service_settings = settings
    return _service


def reset() -> None:
    """Forget the warm state (cache, connection), as a cold start would."""
    global _service, _service_settings
    if _service is not None:
        _service.client.close()
    _service, _service_settings = None, None


def respond(event: object) -> tuple[Response, Outcome, SearchQuery | None]:
    outcome = Outcome(cache="NONE")
    if not isinstance(event, Mapping):
        return error(400, "invalid_request", "malformed request event"), outcome, None
    cors = _cors_headers(event)
    method = event.get("httpMethod", "GET")
    if method == "OPTIONS" and cors:
        preflight = {
            **cors,
            "Access-Control-Allow-Methods": "GET, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        return {"statusCode": 204, "headers": preflight, "body": "", "isBase64Encoded": False}, outcome, None
    if method not in ("GET", "HEAD"):
        return error(405, "method_not_allowed", "only GET is supported", {"Allow": "GET"}), outcome, None
    query: SearchQuery | None = None
    try:
        query = parse_query(event.get("queryStringParameters"))
    except BadRequest as exc:
        response = error(400, "invalid_request", str(exc))
    else:
        outcome.cache = "MISS"  # unless the search finds it HIT, REVALIDATED or STALE
        response = service().search(query, outcome)
    response["headers"].update(cors)
    return response, outcome, query


def handler(event: object, context: object = None) -> Response:
    started = time.perf_counter()
    query: SearchQuery | None = None
    outcome = Outcome(cache="NONE")
    try:
        response, outcome, query = respond(event)
    except Exception:  # the contract: never raise out of the handler
        log.exception("unexpected error")
        response = error(500, "internal_error", "unexpected error; see the function's logs")
    fields = {
        "query": query.q[:LOGGED_QUERY_CHARS] if query else None,
        "sort": query.sort if query else None,
        "status": response["statusCode"],
        "cache": outcome.cache,
        "upstream_status": outcome.upstream_status,
        "upstream_ms": outcome.upstream_ms,
        "rate_limit_remaining": outcome.rate_limit_remaining,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    log.info("search %s", " ".join(f"{k}={v}" for k, v in fields.items()), extra=fields)
    return response
