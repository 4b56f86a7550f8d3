"""The function against a fake GitHub that is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import time

import app
import pytest
from search.github_api import USER_AGENT, GitHubClient
from search.query import SearchQuery
from search.service import Failure, Outcome, SearchService

from tests.conftest import TOKEN, event, free_port
from tests.contract import schema_errors
from tools.fake_github import (
    SECONDARY_LIMIT_MESSAGE,
    Answer,
    FakeGitHub,
    rate_limit_headers,
    repository,
    repository_page,
    validation_failed,
)

ERROR_CASES = {
    "validation failed": (Answer(422, validation_failed("q", "invalid")), 400, "invalid_request"),
    "primary rate limit (403)": (
        Answer(403, {"message": "API rate limit exceeded for user ID 1."}, rate_limit_headers(remaining=0)),
        429,
        "rate_limited",
    ),
    "secondary rate limit": (
        Answer(403, {"message": SECONDARY_LIMIT_MESSAGE}, {"retry-after": "17"}),
        429,
        "rate_limited",
    ),
    "429": (Answer(429, {"message": "Too Many Requests"}), 429, "rate_limited"),
    "bad credentials": (Answer(401, {"message": "Bad credentials"}), 502, "upstream_error"),
    "forbidden, not a limit": (
        Answer(403, {"message": "Resource not accessible by personal access token"}),
        502,
        "upstream_error",
    ),
    "500": (Answer(500, {"message": "Server Error"}), 502, "upstream_error"),
    "503": (Answer(503, b"<html>Service Unavailable</html>"), 502, "upstream_error"),
    "invalid JSON": (Answer(200, b'{"total_count": 1, "items": [', {"etag": '"x"'}), 502, "upstream_error"),
    "unexpected shape": (Answer(200, {"total_count": 1}), 502, "upstream_error"),
}


def body(response):
    return json.loads(response["body"])


def assert_error(response, status, code):
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"].startswith("application/json")
    assert response["headers"]["Cache-Control"] == "no-store"
    error = body(response)["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error["message"]


def test_success_maps_github_answer_to_contract(function_env: FakeGitHub):
    response = app.handler(event({"q": "  pulumi   aws ", "limit": "3"}))
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "public, max-age=300"
    assert response["headers"]["X-Search-Cache"] == "MISS"
    payload = body(response)
    assert payload["total_count"] == 4242
    assert payload["incomplete_results"] is False
    assert len(payload["repos"]) == 3
    first = payload["repos"][0]
    assert set(first) == {"full_name", "url", "star", "description", "language", "topics", "updated_at", "private"}
    assert first["url"].startswith("https://github.com/")  # html_url, not the API URL
    assert first["star"] == 4999

    [seen] = function_env.seen
    assert seen.path == "/search/repositories"
    # the largest page, whatever the limit: one call serves every limit
    assert seen.params == {"q": "pulumi aws", "sort": "stars", "order": "desc", "per_page": "20"}
    assert seen.headers["accept"] == "application/vnd.github+json"
    assert seen.headers["x-github-api-version"] == "2022-11-28"
    assert seen.headers["user-agent"] == USER_AGENT
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"


def test_no_token_sends_no_authorization(function_env: FakeGitHub, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    assert app.handler(event({"q": "x"}))["statusCode"] == 200
    assert "authorization" not in function_env.seen[0].headers


def test_fresh_hit_spends_no_upstream_call(function_env: FakeGitHub):
    first = app.handler(event({"q": "pulumi", "sort": "forks"}))
    second = app.handler(event({"q": " pulumi ", "sort": "forks", "unknown": "ignored"}))
    assert second["headers"]["X-Search-Cache"] == "HIT"
    assert second["body"] == first["body"]
    assert len(function_env.seen) == 1


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_upstream_errors_map_to_documented_answers(function_env: FakeGitHub, case: str):
    answer, status, code = ERROR_CASES[case]
    function_env.queue(answer)
    message = assert_error(app.handler(event({"q": "pulumi"})), status, code)
    assert TOKEN not in message


def test_validation_failure_carries_github_message(function_env: FakeGitHub):
    function_env.queue(Answer(422, validation_failed("q", "invalid")))
    message = assert_error(app.handler(event({"q": "stars:>>>"})), 400, "invalid_request")
    assert "Validation Failed" in message and "The search q is invalid." in message


def test_refused_token_says_so_without_echoing_it(function_env: FakeGitHub):
    function_env.queue(Answer(401, {"message": "Bad credentials"}))
    message = assert_error(app.handler(event({"q": "pulumi"})), 502, "upstream_error")
    assert "refused the configured token" in message


def test_retry_after_from_primary_limit_reset(function_env: FakeGitHub):
    function_env.queue(Answer(403, {"message": "API rate limit exceeded"}, rate_limit_headers(remaining=0)))
    response = app.handler(event({"q": "pulumi"}))
    assert_error(response, 429, "rate_limited")
    assert 30 <= int(response["headers"]["Retry-After"]) <= 42


def test_retry_after_from_secondary_limit_header(function_env: FakeGitHub):
    function_env.queue(Answer(403, {"message": SECONDARY_LIMIT_MESSAGE}, {"retry-after": "17"}))
    response = app.handler(event({"q": "pulumi"}))
    assert response["headers"]["Retry-After"] == "17"


def test_secondary_limit_recognised_by_message_alone(function_env: FakeGitHub):
    function_env.queue(Answer(403, {"message": SECONDARY_LIMIT_MESSAGE}))
    response = app.handler(event({"q": "pulumi"}))
    assert_error(response, 429, "rate_limited")
    assert response["headers"]["Retry-After"] == "60"


def test_slow_github_is_a_504(function_env: FakeGitHub, monkeypatch):
    monkeypatch.setenv("UPSTREAM_READ_TIMEOUT", "0.3")
    function_env.queue(Answer(200, {"items": []}, delay=1.0))
    assert_error(app.handler(event({"q": "pulumi"})), 504, "upstream_timeout")
    # the next request gets a fresh connection and an answer
    assert app.handler(event({"q": "pulumi"}))["statusCode"] == 200


def test_unreachable_github_is_a_502(function_env: FakeGitHub, monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{free_port()}")
    assert_error(app.handler(event({"q": "pulumi"})), 502, "upstream_error")


def test_connection_dropped_by_github_is_reopened_transparently(function_env: FakeGitHub):
    function_env.queue(Answer(200, {"total_count": 0, "items": []}, drop_connection=True))
    assert app.handler(event({"q": "one"}))["statusCode"] == 200
    time.sleep(0.05)  # let the server's close reach us, as between two invocations
    response = app.handler(event({"q": "two"}))
    assert response["statusCode"] == 200
    assert response["headers"]["X-Search-Cache"] == "MISS"
    assert len(function_env.seen) == 2
    assert function_env.connections == 2


def test_fifty_warm_requests_use_one_connection(function_env: FakeGitHub):
    for n in range(50):
        assert app.handler(event({"q": f"query {n}"}))["statusCode"] == 200
    assert len(function_env.seen) == 50
    assert function_env.connections == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ClockedService(SearchService):
    """The service with a clock the test moves by hand."""

    def __init__(self, url: str) -> None:
        self.clock_ = Clock()
        super().__init__(GitHubClient(url, TOKEN, read_timeout=0.3), ttl_seconds=300, clock=self.clock_)


@pytest.fixture
def service(fake: FakeGitHub):
    svc = ClockedService(fake.url)
    yield svc
    svc.client.close()


def search(svc, q="pulumi", limit=5):
    """The service's answer as the REST front sends it."""
    try:
        return app.ok(svc.search(SearchQuery(q=q, limit=limit), Outcome()))
    except Failure as exc:
        return app.failed(exc)


def test_expired_entry_revalidates_with_etag(fake: FakeGitHub, service):
    first = search(service)
    service.clock_.now += 301
    second = search(service)
    assert second["headers"]["X-Search-Cache"] == "REVALIDATED"
    assert second["body"] == first["body"]
    assert "if-none-match" not in fake.seen[0].headers
    assert fake.seen[1].headers["if-none-match"].startswith('W/"')
    assert len(fake.seen) == 2
    third = search(service)  # the 304 renewed the entry
    assert third["headers"]["X-Search-Cache"] == "HIT"
    assert len(fake.seen) == 2


def test_hundred_requests_within_ttl_cost_one_call(fake: FakeGitHub, service):
    for _ in range(100):
        assert search(service)["statusCode"] == 200
        service.clock_.now += 2
    assert len(fake.seen) == 1


@pytest.mark.parametrize(
    "failure",
    [
        Answer(503, {"message": "unavailable"}),
        Answer(403, {"message": "API rate limit exceeded"}, rate_limit_headers(remaining=0)),
        Answer(200, b"not json"),
        Answer(200, {"items": []}, delay=1.0),
    ],
    ids=["5xx", "rate-limited", "bad-json", "timeout"],
)
def test_stale_answer_beats_an_error(fake: FakeGitHub, service, failure: Answer):
    first = search(service)
    service.clock_.now += 3600
    fake.queue(failure)
    stale = search(service)
    assert stale["statusCode"] == 200
    assert stale["headers"]["X-Search-Cache"] == "STALE"
    assert stale["headers"]["Cache-Control"] == "public, max-age=30"
    assert stale["body"] == first["body"]


def test_no_stale_answer_after_a_day(fake: FakeGitHub, service):
    search(service)
    service.clock_.now += 86_401
    fake.queue(Answer(503, {"message": "unavailable"}))
    assert_error(search(service), 502, "upstream_error")


@pytest.mark.parametrize(
    "params",
    [
        None,
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 257},
        {"q": "x", "sort": "best"},
        {"q": "x", "order": "up"},
        {"q": "x", "limit": "0"},
        {"q": "x", "limit": "21"},
        {"q": "x", "limit": "five"},
        {"q": "x", "limit": "5.0"},
        {"q": "x", "limit": "-1"},
    ],
)
def test_bad_requests_are_400_without_upstream_call(function_env: FakeGitHub, params):
    assert_error(app.handler(event(params)), 400, "invalid_request")
    assert function_env.seen == []


def test_blank_optional_parameters_take_defaults(function_env: FakeGitHub):
    assert app.handler(event({"q": "x" * 256, "sort": " ", "order": "", "limit": ""}))["statusCode"] == 200
    assert function_env.seen[0].params == {"q": "x" * 256, "sort": "stars", "order": "desc", "per_page": "20"}
    assert len(body(app.handler(event({"q": "x" * 256})))["repos"]) == 5


def test_other_methods_are_405(function_env: FakeGitHub):
    assert_error(app.handler(event({"q": "x"}, method="POST")), 405, "method_not_allowed")


def test_one_log_record_per_request_and_never_the_token(function_env: FakeGitHub, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("AUDIT_QUERIES", "true")  # the query's text only when the owner asks for it
    function_env.queue(Answer(401, {"message": "Bad credentials"}))
    app.handler(event({"q": "pulumi"}))
    app.handler(event({"q": "pulumi"}))
    app.handler(event({"q": "pulumi"}))
    app.handler(event({"q": ""}))
    records = [r for r in caplog.records if r.name == "github_search"]
    assert [r.status for r in records] == [502, 200, 200, 400]
    assert [r.cache for r in records] == ["MISS", "MISS", "HIT", "NONE"]
    assert records[1].upstream_status == 200
    assert records[1].rate_limit_remaining == "29"
    assert records[1].upstream_ms >= 0
    assert records[1].query == "pulumi"
    monkeypatch.delenv("AUDIT_QUERIES")
    app.handler(event({"q": "ghp_pasted_by_mistake repo:octo/x"}))
    assert not hasattr(caplog.records[-1], "query") and caplog.records[-1].scope == ["repo:octo/x"]
    assert "ghp_pasted_by_mistake" not in caplog.text + repr(vars(caplog.records[-1]))
    everything = caplog.text + " ".join(repr(vars(r)) for r in caplog.records)
    assert TOKEN not in everything
    assert "Bearer" not in everything


def test_cors_only_when_configured(function_env: FakeGitHub, monkeypatch):
    origin = {"Origin": "https://chatgpt.com"}
    assert "Access-Control-Allow-Origin" not in app.handler(event({"q": "x"}, headers=origin))["headers"]
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://chatgpt.com,https://chat.openai.com")
    allowed = app.handler(event({"q": "x"}, headers=origin))
    assert allowed["headers"]["Access-Control-Allow-Origin"] == "https://chatgpt.com"
    denied = app.handler(event({"q": "x"}, headers={"origin": "https://evil.example"}))
    assert "Access-Control-Allow-Origin" not in denied["headers"]
    preflight = app.handler(event(None, method="OPTIONS", headers=origin))
    assert preflight["statusCode"] == 204
    assert "GET" in preflight["headers"]["Access-Control-Allow-Methods"]


# -- the contract at the edges -----------------------------------------------------------------


def test_a_hit_is_answered_with_what_is_left_of_its_freshness(fake: FakeGitHub, service):
    assert search(service)["headers"]["Cache-Control"] == "public, max-age=300"
    service.clock_.now += 100
    hit = search(service)
    assert hit["headers"]["X-Search-Cache"] == "HIT"
    assert hit["headers"]["Cache-Control"] == "public, max-age=200"
    service.clock_.now += 199.5  # half a second of freshness left: never max-age=0
    assert search(service)["headers"]["Cache-Control"] == "public, max-age=1"


def test_one_upstream_call_serves_every_limit(fake: FakeGitHub, service):
    answers = [body(search(service, limit=limit)) for limit in range(1, 21)]
    assert len(fake.seen) == 1
    assert [len(a["repos"]) for a in answers] == list(range(1, 21))
    assert all(a["repos"] == answers[-1]["repos"][: len(a["repos"])] for a in answers)
    assert search(service, q="other")["statusCode"] == 200
    assert len(fake.seen) == 2  # another query is another call


def test_unknown_path_is_404_and_other_verbs_405(function_env: FakeGitHub):
    missing = app.handler({**event({"q": "x"}), "resource": "/api/nothing", "path": "/api/nothing"})
    assert_error(missing, 404, "not_found")
    for verb in ("POST", "PUT", "PATCH", "DELETE"):
        response = app.handler(event({"q": "x"}, method=verb))
        assert_error(response, 405, "method_not_allowed")
        assert response["headers"]["Allow"] == "GET, HEAD"
    assert app.handler(event({"q": "x"}, method="HEAD"))["statusCode"] == 200
    assert function_env.seen and all(s.path == "/search/repositories" for s in function_env.seen)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x", "limit": "9" * 5000},  # more digits than int() accepts
        {"q": "x", "limit": "1" + "0" * 4300},
        {"q": "lone \ud800 surrogate"},
        {"q": "x", "sort": "\udfff"},
        {"q": "x" * 10_000},
    ],
    ids=["limit-5000-digits", "limit-4301-digits", "q-surrogate", "sort-surrogate", "q-10000"],
)
def test_hostile_parameters_are_400(function_env: FakeGitHub, params):
    response = app.handler(event(params))
    assert_error(response, 400, "invalid_request")
    response["body"].encode("utf-8")  # the body itself is valid UTF-8
    assert function_env.seen == []


ODD_BODIES = {
    "total_count 1e400": b'{"total_count": 1e400, "incomplete_results": false, "items": []}',
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "stargazers_count null": {"total_count": 1, "items": [{**repository(1, "x"), "stargazers_count": None}]},
    "topics a string": {"total_count": 1, "items": [{**repository(1, "x"), "topics": "x"}]},
    "total_count a bool": {"total_count": True, "items": []},
    "incomplete_results a string": {"total_count": 1, "incomplete_results": "no", "items": []},
    "item not an object": {"total_count": 1, "items": ["octo/x"]},
    "html_url not a URL": {"total_count": 1, "items": [{**repository(1, "x"), "html_url": "octo/x"}]},
    "updated_at not a time": {"total_count": 1, "items": [{**repository(1, "x"), "updated_at": "yesterday"}]},
    "description a number": {"total_count": 1, "items": [{**repository(1, "x"), "description": 7}]},
    "negative stars": {"total_count": 1, "items": [{**repository(1, "x"), "stargazers_count": -1}]},
}


@pytest.mark.parametrize("case", list(ODD_BODIES))
def test_odd_github_answers_are_502_not_500(function_env: FakeGitHub, case: str):
    function_env.queue(Answer(200, ODD_BODIES[case]))
    assert_error(app.handler(event({"q": "odd"})), 502, "upstream_error")


def test_nulls_github_may_send_are_kept(function_env: FakeGitHub):
    item = {**repository(1, "x"), "description": None, "language": None, "topics": None, "updated_at": None}
    function_env.queue(Answer(200, {"total_count": 1, "incomplete_results": True, "items": [item]}))
    response = app.handler(event({"q": "nulls"}))
    assert response["statusCode"] == 200
    [repo] = body(response)["repos"]
    assert (repo["description"], repo["language"], repo["topics"], repo["updated_at"]) == (None, None, [], None)
    assert body(response)["incomplete_results"] is True


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "NOW+1000000000"}, 3600),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9" * 5000}, 60),
        ({"retry-after": "86400"}, 3600),
        ({"retry-after": "0"}, 1),
        ({"retry-after": "9" * 5000, "x-ratelimit-reset": "NOW+42"}, 42),
    ],
    ids=["reset-far-away", "reset-5000-digits", "retry-after-a-day", "retry-after-0", "retry-after-5000-digits"],
)
def test_retry_after_is_between_1_and_3600(function_env: FakeGitHub, headers, expected):
    now = int(time.time())
    headers = {k: str(now + int(v[4:])) if v.startswith("NOW+") else v for k, v in headers.items()}
    function_env.queue(Answer(403, {"message": "API rate limit exceeded"}, headers))
    response = app.handler(event({"q": "pulumi"}))
    assert_error(response, 429, "rate_limited")
    assert abs(int(response["headers"]["Retry-After"]) - expected) <= 2


def test_unreachable_github_is_named(function_env: FakeGitHub, monkeypatch):
    port = free_port()
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
    message = assert_error(app.handler(event({"q": "pulumi"})), 502, "upstream_error")
    assert "127.0.0.1" in message and "ConnectionRefusedError" in message
    monkeypatch.setenv("GITHUB_API_URL", "http://no-such-host.invalid")
    message = assert_error(app.handler(event({"q": "pulumi"})), 502, "upstream_error")
    assert "no-such-host.invalid" in message and "does not resolve" in message


# -- GET /api/repos/{owner}/{repo} ---------------------------------------------------------------


def repo_event(owner: str, repo: str, method: str = "GET") -> dict:
    return {
        **event(None, method=method),
        "resource": "/api/repos/{owner}/{repo}",
        "path": f"/api/repos/{owner}/{repo}",
        "pathParameters": {"owner": owner, "repo": repo},
    }


def test_repository_page_with_readme_matches_the_spec(function_env: FakeGitHub):
    response = app.handler(repo_event("pulumi", "pulumi-aws"))
    assert response["statusCode"] == 200
    assert response["headers"]["X-Search-Cache"] == "MISS"
    assert response["headers"]["Cache-Control"] == "public, max-age=300"
    page = body(response)
    assert schema_errors(page, "/api/repos/{owner}/{repo}") == []
    assert (page["full_name"], page["url"]) == ("pulumi/pulumi-aws", "https://github.com/pulumi/pulumi-aws")
    assert (page["forks"], page["open_issues"], page["license"], page["default_branch"]) == (
        56,
        7,
        "Apache-2.0",
        "main",
    )
    assert page["readme"].startswith("# pulumi-aws\n") and page["readme_truncated"] is False
    paths = [(s.path, s.headers["accept"]) for s in function_env.seen]
    assert paths == [
        ("/repos/pulumi/pulumi-aws", "application/vnd.github+json"),
        ("/repos/pulumi/pulumi-aws/readme", "application/vnd.github.raw+json"),
    ]
    again = app.handler(repo_event("Pulumi", "Pulumi-AWS"))  # GitHub's names are case-insensitive
    assert again["headers"]["X-Search-Cache"] == "HIT" and len(function_env.seen) == 2
    assert app.handler(repo_event("pulumi", "pulumi-aws", method="HEAD"))["statusCode"] == 200
    assert_error(app.handler(repo_event("pulumi", "pulumi-aws", method="POST")), 405, "method_not_allowed")


def test_missing_repository_is_404_and_no_readme_is_null(function_env: FakeGitHub):
    message = assert_error(app.handler(repo_event("octo", "missing")), 404, "not_found")
    assert "octo/missing" in message
    assert [s.path for s in function_env.seen] == ["/repos/octo/missing"]  # no README call for it
    page = body(app.handler(repo_event("octo", "no-readme")))
    assert page["readme"] is None and page["readme_truncated"] is False


def test_moved_repository_is_404_that_says_so(function_env: FakeGitHub):
    function_env.queue(Answer(301, {"message": "Moved Permanently", "url": "https://api.github.com/repositories/1"}))
    assert "renamed or transferred" in assert_error(app.handler(repo_event("octo", "old")), 404, "not_found")


def test_readme_is_cut_at_4000_characters(function_env: FakeGitHub):
    function_env.queue(Answer(200, repository_page("octo", "long")), Answer(200, ("é" * 25_000).encode()))
    page = body(app.handler(repo_event("octo", "long")))
    assert page["readme"] == "é" * 4_000 and page["readme_truncated"] is True


@pytest.mark.parametrize(
    ("owner", "repo"),
    [
        ("-octo", "x"),
        ("octo-", "x"),
        ("o" * 40, "x"),
        ("octo", ".."),
        ("octo", "."),
        # ".git" is dropped before GitHub sees the name: what is left must still be a name.
        ("pulumi", "...git"),
        ("pulumi", "..git"),
        ("pulumi", ".git"),
        ("octo", "a/b"),
        ("octo", "x" * 101),
        ("o\u00e9", "x"),
    ],
)
def test_names_github_does_not_allow_are_400_without_a_call(function_env: FakeGitHub, owner: str, repo: str):
    assert_error(app.handler(repo_event(owner, repo)), 400, "invalid_request")
    assert function_env.seen == []


def test_repository_and_readme_revalidate_with_etags(fake: FakeGitHub, service):
    from search.query import RepositoryName

    name = RepositoryName("octo", "etag")
    first = service.repository(name, Outcome())
    service.clock_.now += 301
    outcome = Outcome()
    second = service.repository(name, outcome)
    assert (first.cache, second.cache, second.text) == ("MISS", "REVALIDATED", first.text)
    assert [bool(s.headers.get("if-none-match")) for s in fake.seen] == [False, False, True, True]
    assert outcome.upstream_status == 304


def test_mcp_origin_allowlist_when_deployed(function_env: FakeGitHub, monkeypatch):
    monkeypatch.setenv("MCP_ALLOWED_ORIGINS", "https://search.example.com,https://claude.ai")
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}

    def mcp(origin: str | None) -> int:
        headers = {"Content-Type": "application/json"} | ({"Origin": origin} if origin else {})
        mcp_event = {**event(None, method="POST", headers=headers), "resource": "/mcp", "body": json.dumps(ping)}
        return app.handler(mcp_event)["statusCode"]

    assert [mcp(None), mcp("https://claude.ai"), mcp("https://search.example.com")] == [200, 200, 200]
    assert [mcp("https://search.example.com.evil.example"), mcp("http://127.0.0.1:3333")] == [403, 403]
