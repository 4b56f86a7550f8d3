"""The search service: one GitHub client and one cache, shared by every front.

A front (the REST API in `app`, later others) asks the service for an answer and gets a
`Result`, or catches a `Failure` that already carries the status, code and message the
contract publishes (see docs/architecture.md, "The API contract").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable, Mapping

from search.findings import code_answer, contents, issue_page, issues_answer, web_repositories
from search.github_api import GitHubClient, Reply, UpstreamTimeout, UpstreamUnreachable
from search.mapping import Unexpected, first, parse_json, readme_text, repository_page, search_answer, with_readme
from search.query import CodeQuery, FilePath, IssueQuery, IssueRef, RepositoryName, SearchQuery
from search.ttl_cache import Entry, TtlCache, View

# typing stays out of the cold start, and so does the fence, for the stacks without one.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from search.fence import Fence

DEFAULT_TTL_SECONDS = 300
STALE_MAX_AGE_SECONDS = 30
DEFAULT_RETRY_AFTER_SECONDS = 60
MAX_RETRY_AFTER_SECONDS = 3600  # GitHub's primary limit resets within the hour
README_MAX_CHARS = 4_000  # enough for a model to learn what a project is; about 1,000 tokens
# One HTTP request (an MCP batch, say) may spend this many GitHub calls, no more: GitHub allows 30
# searches a minute for the whole stack, and the usage plan and WAF count HTTP requests, not calls.
MAX_UPSTREAM_CALLS = 8
ANSWER_MARGIN_SECONDS = 1.0  # what answering takes once the last GitHub call is back
RAW = {"Accept": "application/vnd.github.raw+json"}
TEXT_MATCHES = {"Accept": "application/vnd.github.text-match+json"}  # the lines each code hit matched
# GitHub's x-ratelimit-resource, as a person would name the limit.
LIMITS = {
    "search": "search limit (30 a minute with a token, 10 without)",
    "code_search": "code search limit (10 a minute)",
    "core": "API limit (5,000 an hour with a token, 60 without)",
}
UNCONFIGURED_CODE_SEARCH = (
    "code search needs a GitHub token, and this service has none: its owner sets one with "
    "pulumi config set --secret githubToken <token> (locally: GITHUB_TOKEN)"
)
# From least to most telling: a combined answer reports its most telling part.
CACHE_RANK = ("HIT", "REVALIDATED", "MISS", "STALE")


class Failure(Exception):
    """An answer the contract names: status, error code, a message the caller can act on."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


class SignInRefused(Exception):
    """GitHub refused the signed-in person's own token (they revoked the app): nothing can be
    answered for them. Not a Failure, so that no front turns it into an answer: it reaches
    sign-in's door, which ends their grant and challenges the client to sign in again."""


class Result:
    """A successful answer: its mapping and JSON text, where it came from, how long it stays fresh.

    `value` is shared with the cache: fronts read it, never change it.
    """

    __slots__ = ("cache", "max_age", "text", "value")

    def __init__(self, view: View, cache: str, max_age: int) -> None:
        self.value, self.text, self.cache, self.max_age = view.value, view.text, cache, max_age


class Outcome:
    """What one request did, for the log line, and what it may still do."""

    __slots__ = (
        "admit",
        "admitted",
        "budget_used",
        "cache",
        "dropped",
        "error",
        "github_token",
        "person",
        "query",
        "rate_limit_remaining",
        "repository",
        "time_left",
        "token_refused",
        "upstream_calls",
        "upstream_ms",
        "upstream_status",
    )

    def __init__(self, cache: str = "NONE", time_left: Callable[[], float] | None = None) -> None:
        self.cache = cache
        # Seconds before the function is stopped (Lambda's context); None: no limit (local mode).
        self.time_left = time_left
        self.upstream_calls = 0
        self.dropped = 0  # items GitHub answered from outside the fence, left out
        self.token_refused: bool | None = None  # True when GitHub refused the configured token (the alarm's signal)
        self.upstream_status: int | None = None
        self.upstream_ms: float | None = None
        self.rate_limit_remaining: str | None = None
        # Sign-in: the signed-in person's GitHub token, used instead of the stack's.
        self.github_token: str | None = None
        # With private repositories: whose answers these are (their account's id). Part of every
        # cache key, so that nothing one person's token fetched is served to anyone else.
        self.person: str | None = None
        self.repository: str | None = None  # the repository a read named, for the log line (an owner's audit)
        # With a daily budget per person: counts this request against it (once), or raises the 429.
        self.admit: Callable[[], int] | None = None
        self.admitted = False
        self.budget_used: int | None = None  # the person's calls today, this one included
        self.query: str | None = None  # a search's query as asked (the audit takes its scope from it)
        self.error: str | None = None  # the error code a front answered with (an MCP tool error has none of its own)


def _view(value: dict[str, object]) -> View:
    # Compact: a model pays for every space in the text copy of a result.
    return View(value, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def is_rate_limit(reply: Reply) -> bool:
    if reply.status == 429:
        return True
    if reply.status != 403:
        return False
    if reply.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in reply.headers:
        return True
    return b"rate limit" in reply.body.lower()


def _seconds(value: str) -> int | None:
    value = value.strip()
    # Length first: int() of thousands of digits is slow or refused, and no wait is that long.
    return int(value) if 0 < len(value) <= 12 and value.isascii() and value.isdigit() else None


def retry_after_seconds(headers: Mapping[str, str], now_epoch: float) -> int:
    """Seconds to wait (1..3600): GitHub's `retry-after`, else until `x-ratelimit-reset`, else a minute."""
    wait = _seconds(headers.get("retry-after", ""))
    if wait is None:
        reset = _seconds(headers.get("x-ratelimit-reset", ""))
        wait = reset - int(now_epoch) if reset is not None else DEFAULT_RETRY_AFTER_SECONDS
    return min(MAX_RETRY_AFTER_SECONDS, max(1, wait))


def github_message(body: bytes, fallback: str = "GitHub rejected the query") -> str:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return fallback
    if not isinstance(payload, dict):
        return fallback
    parts = [str(payload.get("message") or fallback)[:300]]
    errors = payload.get("errors")
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"])[:300])
    return ": ".join(parts)


class SearchService:
    """The service with its cache and GitHub client; one per warm function instance."""

    def __init__(
        self,
        client: GitHubClient,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        cache: TtlCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        *,
        fence: Fence | None = None,
    ) -> None:
        self.client = client
        self.fence = fence  # the owners and repositories it answers about; None: all of GitHub
        self.ttl = ttl_seconds
        self.cache = cache if cache is not None else TtlCache()
        self.clock = clock
        self.wall_clock = wall_clock

    def search(self, query: SearchQuery, outcome: Outcome) -> Result:
        """`GET /search/repositories`."""
        return self._search("/search/repositories", query, search_answer, ("repos", "full_name"), outcome)

    def code(self, query: CodeQuery, outcome: Outcome) -> Result:
        """`GET /search/code` with its text matches; GitHub answers it only with a token."""
        if not self.client.has_token and not outcome.github_token:
            raise Failure(503, "not_configured", UNCONFIGURED_CODE_SEARCH)
        return self._search("/search/code", query, code_answer, ("hits", "repository"), outcome, headers=TEXT_MATCHES)

    def issues(self, query: IssueQuery, outcome: Outcome) -> Result:
        """`GET /search/issues`: issues and pull requests; within a fence, with GitHub's advanced
        issue search, which reads the fence's OR group (search/fence.py)."""
        return self._search("/search/issues", query, issues_answer, ("issues", "repository"), outcome, advanced=True)

    def _search(
        self,
        path: str,
        query: SearchQuery | CodeQuery | IssueQuery,
        mapping: Callable[[object], dict[str, object]],
        items: tuple[str, str],
        outcome: Outcome,
        *,
        headers: Mapping[str, str] | None = None,
        advanced: bool = False,
    ) -> Result:
        """One GitHub search per query (its largest page); every `limit` is cut from that answer.
        `items`: the answer's list, and the field naming each item's repository."""
        key, name = items
        outcome.query = query.q
        params = query.github_params()
        q = query.q
        if self.fence is not None:
            q = self._fenced(q, advanced=advanced)
            params = [(k, q if k == "q" else v) for k, v in params] + (
                [("advanced_search", "true")] if advanced else []
            )

        def decode(body: bytes) -> dict[str, object]:
            answer = mapping(parse_json(body))
            if self.fence is None:
                return answer
            answer, outcome.dropped = self.fence.kept(answer, key, name)
            return answer

        # The query GitHub is sent is the key: no answer within one fence serves another.
        entry, cache, max_age = self._fetch(
            (path, q, *query.upstream_key[1:]), path, params, decode, outcome, headers=headers
        )
        view = entry.views.get(query.limit)
        if view is None:
            assert isinstance(entry.value, dict)
            view = entry.views[query.limit] = _view(first(entry.value, query.limit, key))
        outcome.cache = cache
        return Result(view, cache, max_age)

    def _fenced(self, q: str, *, advanced: bool) -> str:
        from search.fence import OutsideScope

        assert self.fence is not None
        try:
            return self.fence.fenced(q, advanced=advanced)
        except OutsideScope as exc:
            raise Failure(403, "outside_scope", str(exc)) from None
        except ValueError as exc:
            raise Failure(400, "invalid_request", str(exc)) from None

    def _inside(self, full_name: str) -> None:
        """403 for a repository outside the fence, before any call or cache is looked at."""
        if self.fence is not None and not self.fence.allows(full_name):
            raise Failure(403, "outside_scope", self.fence.refusal(f"repository {full_name}"))

    def _answered(self, value: dict[str, object], names: list[str]) -> dict[str, object]:
        """A read's answer, if every repository GitHub's answer names is inside the fence: a name
        within it may answer for another (a transfer GitHub follows, a proxy, a GitHub bug)."""
        outside = [name for name in names if self.fence is not None and not self.fence.allows(name)]
        if outside:
            assert self.fence is not None
            what = f"the repository GitHub answered with ({outside[0][:100]})"
            raise Failure(403, "outside_scope", self.fence.refusal(what))
        return value

    def issue(self, ref: IssueRef, outcome: Outcome) -> Result:
        """One issue or pull request, by number."""
        self._inside(ref.name.full_name)
        outcome.repository = ref.name.full_name
        missing = Failure(404, "not_found", f"no issue or pull request {ref.name.full_name}#{ref.number} on GitHub")

        def decode(body: bytes) -> dict[str, object]:
            found = issue_page(parse_json(body))
            return self._answered(found, [str(found["repository"])])

        entry, cache, max_age = self._fetch(("issue", *ref.key), ref.github_path, [], decode, outcome, missing=missing)
        return self._whole(entry, cache, max_age, outcome)

    def file(self, path: FilePath, outcome: Outcome) -> Result:
        """A file's text (cut) or a directory's listing, at a ref or the default branch."""
        self._inside(path.name.full_name)
        outcome.repository = path.name.full_name
        at = f" at {path.ref}" if path.ref else ""
        missing = Failure(404, "not_found", f"no {path.path or 'root'} in {path.name.full_name}{at} on GitHub")

        def decode(body: bytes) -> dict[str, object]:
            payload = parse_json(body)
            found = contents(payload, path.name.full_name, path.path, path.ref)
            return self._answered(found, web_repositories(payload))

        entry, cache, max_age = self._fetch(
            ("file", *path.key), path.github_path, path.github_params(), decode, outcome, missing=missing
        )
        return self._whole(entry, cache, max_age, outcome)

    def _whole(self, entry: Entry, cache: str, max_age: int, outcome: Outcome) -> Result:
        view = entry.views.get(None)
        if view is None:
            assert isinstance(entry.value, dict)
            view = entry.views[None] = _view(entry.value)
        outcome.cache = cache
        return Result(view, cache, max_age)

    def repository(self, name: RepositoryName, outcome: Outcome) -> Result:
        """A repository's facts and README: two GitHub calls, each cached and revalidated."""
        self._inside(name.full_name)
        outcome.repository = name.full_name
        missing = Failure(404, "not_found", f"repository {name.full_name} not found on GitHub")

        def decode(body: bytes) -> dict[str, object]:
            page = repository_page(parse_json(body))
            return self._answered(page, [str(page["full_name"])])

        page, page_cache, page_age = self._fetch(("repo", *name.key), name.path, [], decode, outcome, missing=missing)
        readme, readme_cache, readme_age = self._fetch(
            ("readme", *name.key), f"{name.path}/readme", [], readme_text, outcome, headers=RAW, absent=True
        )
        view = page.views.get(readme)
        if view is None:  # rendered once per pair of upstream answers
            assert isinstance(page.value, dict) and (readme.value is None or isinstance(readme.value, str))
            page.views.clear()
            view = page.views[readme] = _view(with_readme(page.value, readme.value, README_MAX_CHARS))
        outcome.cache = max(page_cache, readme_cache, key=CACHE_RANK.index)
        return Result(view, outcome.cache, min(page_age, readme_age))

    def _fetch(
        self,
        key: Hashable,
        path: str,
        params: list[tuple[str, str]],
        decode: Callable[[bytes], object],
        outcome: Outcome,
        *,
        headers: Mapping[str, str] | None = None,
        missing: Failure | None = None,
        absent: bool = False,
    ) -> tuple[Entry, str, int]:
        """The cached answer for one GitHub GET: (entry, cache outcome, max-age), or a Failure.

        A 404 raises `missing` when given; with `absent`, it is an answer (None) cached like any other.
        """
        if outcome.admit is not None and not outcome.admitted:  # a request counts once, cached or not
            outcome.admitted = True
            outcome.budget_used = outcome.admit()
        key = key if outcome.person is None else ("person", outcome.person, key)  # theirs alone
        now = self.clock()
        entry = self.cache.get(key, now)
        # A person's answer is asked again every time, with its ETag (a 304 costs no rate limit):
        # GitHub decides, on each request, whether they may still read a private repository.
        if entry is not None and outcome.person is None and entry.age(now) <= self.ttl:
            # What is left of its freshness, so that no copy downstream outlives the TTL.
            return entry, "HIT", max(1, int(self.ttl - entry.age(now)))

        try:
            return self._asked(
                key,
                entry,
                path,
                params,
                decode=decode,
                outcome=outcome,
                headers=headers,
                missing=missing,
                absent=absent,
            )
        except (Failure, SignInRefused):
            if outcome.person is not None:
                # Whatever GitHub says instead of a person's answer (not found once access is lost, a
                # rate limit they spent on purpose, an outage), their old copy goes: never served.
                self.cache.discard(key)
            raise

    def _asked(
        self,
        key: Hashable,
        entry: Entry | None,
        path: str,
        params: list[tuple[str, str]],
        *,
        decode: Callable[[bytes], object],
        outcome: Outcome,
        headers: Mapping[str, str] | None,
        missing: Failure | None,
        absent: bool,
    ) -> tuple[Entry, str, int]:
        """GitHub's answer to one GET, revalidating `entry` if there is one."""
        stale = entry if outcome.person is None else None  # a person's copy never stands in for an error
        conditional = {"If-None-Match": entry.etag} if entry is not None and entry.etag else {}
        try:
            reply = self._call(path, params, {**(headers or {}), **conditional}, outcome)
        except Failure as not_run:
            return self._stale(stale, not_run)
        outcome.upstream_status = reply.status
        outcome.upstream_ms = round(reply.elapsed_ms, 3)
        outcome.rate_limit_remaining = reply.headers.get("x-ratelimit-remaining")

        if reply.status == 304 and entry is not None:
            self.cache.renew(entry, self.clock())
            return entry, "REVALIDATED", self.ttl
        if reply.status == 404 and absent:
            return self.cache.put(key, None, reply.headers.get("etag"), self.clock()), "MISS", self.ttl
        if missing is not None and reply.status in (301, 302, 307, 308, 404):
            moved = "; it was renamed or transferred: search for its new name" if reply.status != 404 else ""
            raise Failure(missing.status, missing.code, missing.message + moved)
        if reply.status == 200:
            try:
                value = decode(reply.body)
            except Unexpected:
                failure = Failure(502, "upstream_error", "GitHub answered with a body that is not the expected JSON")
                return self._stale(stale, failure)
            return self.cache.put(key, value, reply.headers.get("etag"), self.clock()), "MISS", self.ttl
        if reply.status == 422:
            raise Failure(400, "invalid_request", github_message(reply.body))
        if is_rate_limit(reply):
            wait = retry_after_seconds(reply.headers, self.wall_clock())
            limit = LIMITS.get(reply.headers.get("x-ratelimit-resource", ""), "rate limit")
            message = f"GitHub's {limit} was reached; retry in {wait} s"
            return self._stale(stale, Failure(429, "rate_limited", message, retry_after=wait))
        if reply.status == 401 and outcome.github_token:
            raise SignInRefused("GitHub no longer accepts your sign-in; sign in again")
        if reply.status in (401, 403):
            if self.client.has_token:
                outcome.token_refused = True
            refused = "GitHub refused the configured token" if self.client.has_token else "GitHub refused the request"
            raise Failure(502, "upstream_error", f"{refused} (HTTP {reply.status}); check the githubToken setting")
        return self._stale(stale, Failure(502, "upstream_error", f"GitHub answered HTTP {reply.status}"))

    def _call(self, path: str, params: list[tuple[str, str]], headers: dict[str, str], outcome: Outcome) -> Reply:
        """One GitHub call, if this request may still make one (its share of calls, its time)."""
        if outcome.upstream_calls >= MAX_UPSTREAM_CALLS:
            message = (
                f"not run: this request already made {MAX_UPSTREAM_CALLS} GitHub calls, the most one request "
                "may make; send the rest in another request"
            )
            raise Failure(429, "rate_limited", message)
        worst = self.client.connect_timeout + self.client.read_timeout + ANSWER_MARGIN_SECONDS
        if outcome.time_left is not None and outcome.time_left() < worst:
            message = "not run: too little of this request's time is left for another GitHub call; send it again"
            raise Failure(504, "upstream_timeout", message)
        outcome.upstream_calls += 1
        if outcome.github_token:
            headers = {**headers, "Authorization": f"Bearer {outcome.github_token}"}
        try:
            return self.client.get(path, params, headers)
        except UpstreamTimeout as exc:
            raise Failure(504, "upstream_timeout", str(exc)) from None
        except UpstreamUnreachable as exc:
            raise Failure(502, "upstream_error", str(exc)) from None

    def _stale(self, entry: Entry | None, failure: Failure) -> tuple[Entry, str, int]:
        """The last good answer (younger than a day, as the cache keeps them) beats an error."""
        if entry is None:
            raise failure
        return entry, "STALE", min(self.ttl, STALE_MAX_AGE_SECONDS)
