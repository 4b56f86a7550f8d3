"""Property-based: whatever API Gateway (or anyone) sends, and whatever GitHub answers, the
handler answers within its contract."""

from __future__ import annotations

import json
from typing import Any

import app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import event
from tests.contract import schema_errors, statuses_in_code
from tools.fake_github import Answer, FakeGitHub, repository

# 500 is the last-resort answer to a bug: a property run must never see it.
EXPECTED = statuses_in_code() - {500}

text = st.one_of(st.text(max_size=300), st.text(min_size=1000, max_size=5000), st.text(st.characters(), max_size=30))
param_values = st.one_of(
    st.none(),
    text,
    st.sampled_from(["stars", "forks", "asc", "desc", "1", "20", "21", " 5 ", "9" * 5000, "\ud800"]),
)
params = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["q", "sort", "order", "limit", "page", ""]), param_values, max_size=5),
    st.dictionaries(text, st.one_of(text, st.integers(), st.lists(text, max_size=2)), max_size=3),
    st.integers(),
    st.lists(text, max_size=2),
)
methods = st.sampled_from(["GET", "HEAD", "OPTIONS", "POST", "DELETE", "PATCH"])
events = st.one_of(
    st.builds(event, params, methods),
    st.dictionaries(
        st.sampled_from(["httpMethod", "queryStringParameters", "headers", "resource", "path"]),
        st.one_of(st.none(), text, st.integers(), params),
    ),
    st.none(),
    text,
    st.lists(st.integers(), max_size=3),
)


def check(response: dict[str, Any]) -> None:
    assert response["statusCode"] in EXPECTED
    assert isinstance(response["body"], str)
    response["body"].encode("utf-8")
    if response["statusCode"] >= 400:
        assert set(json.loads(response["body"])["error"]) == {"code", "message"}
        assert response["headers"]["Cache-Control"] == "no-store"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events)
def test_any_event_gets_a_documented_answer(function_env: FakeGitHub, any_event: object) -> None:
    check(app.handler(any_event))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
# Mostly GitHub's shape with one field made odd, sometimes anything at all.
odd_items = st.builds(
    lambda n, field, value: {**repository(n, "q"), field: value},
    st.integers(1, 50),
    st.sampled_from(["full_name", "html_url", "stargazers_count", "description", "language", "topics", "updated_at"]),
    json_values,
)
github_bodies = st.one_of(
    st.fixed_dictionaries(
        {"total_count": st.one_of(st.integers(0, 10**6), json_values), "items": st.lists(odd_items, max_size=3)},
        optional={"incomplete_results": st.one_of(st.booleans(), json_values)},
    ),
    json_values,
    st.binary(max_size=200),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(github_bodies, st.integers(1, 20))
def test_any_github_answer_gets_a_documented_answer(function_env: FakeGitHub, body: object, limit: int) -> None:
    app.reset()  # a cold instance: the answer below comes from the queued body, not the cache
    function_env.queue(Answer(200, body))
    response = app.handler(event({"q": "anything", "limit": str(limit)}))
    check(response)
    assert response["statusCode"] in (200, 502)
    if response["statusCode"] == 200:
        assert schema_errors(json.loads(response["body"])) == []


MCP_STATUSES = {200, 202, 400, 403, 404, 405, 413}
mcp_methods = st.sampled_from(["initialize", "ping", "tools/list", "tools/call", "server/discover", "x/y"])
mcp_messages = st.one_of(
    st.fixed_dictionaries(
        {"jsonrpc": st.sampled_from(["2.0", "1.0"]), "method": mcp_methods},
        optional={
            "id": st.one_of(st.integers(), st.text(max_size=5), st.none(), st.booleans()),
            "params": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "name": st.sampled_from(["search", "get_repository", "fetch", "nope"]),
                        "arguments": json_values,
                        "_meta": json_values,
                        "protocolVersion": st.text(max_size=12),
                    },
                ),
            ),
        },
    ),
    json_values,
)
mcp_headers = st.dictionaries(
    st.sampled_from(["MCP-Protocol-Version", "Mcp-Method", "Mcp-Name", "Origin", "mcp-session-id", "Content-Type"]),
    st.one_of(
        st.sampled_from(["2026-07-28", "2025-03-26", "2025-06-18", "tools/call", "search"]), st.text(max_size=20)
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["POST", "POST", "POST", "GET", "DELETE"]),
    mcp_headers,
    st.one_of(mcp_messages.map(json.dumps), st.lists(mcp_messages, max_size=3).map(json.dumps), text, st.none()),
)
def test_any_mcp_request_gets_a_json_rpc_answer(function_env: FakeGitHub, method: str, headers: Any, body: Any) -> None:
    response = app.handler({"resource": "/mcp", "httpMethod": method, "headers": headers, "body": body})
    assert response["statusCode"] in MCP_STATUSES, response
    if response["statusCode"] == 202:
        assert response["body"] == ""
        return
    answer = json.loads(response["body"])
    for message in answer if isinstance(answer, list) else [answer]:
        assert message["jsonrpc"] == "2.0" and ("result" in message) != ("error" in message)
        if "error" in message:
            assert isinstance(message["error"]["code"], int) and message["error"]["message"]


# -- a repository name can only ever name itself ---------------------------------------------------

name_parts = st.one_of(
    st.text(st.sampled_from("ab-_.%2eEgit/\\\x00"), max_size=12),
    st.sampled_from([".", "..", "...", ".git", "..git", "...git", "%2e%2e", "a.git", "a.git.git", "-a", "a-"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name_parts, name_parts)
def test_a_repository_name_reaches_github_only_as_the_path_it_spells(
    function_env: FakeGitHub, owner: str, repo: str
) -> None:
    function_env.reset()
    app.reset()  # no answer from the cache: every accepted name must show its GitHub path
    response = app.handler(
        {"resource": "/api/repos/{owner}/{repo}", "httpMethod": "GET", "pathParameters": {"owner": owner, "repo": repo}}
    )
    check(response)
    paths = [s.path for s in function_env.seen]
    if response["statusCode"] == 400:
        assert paths == []
        return
    spelled = repo.removesuffix(".git")
    assert paths[0] == f"/repos/{owner}/{spelled}"
    assert paths[1:] in ([], [f"/repos/{owner}/{spelled}/readme"])
    for path in paths:
        segments = path.split("/")
        # Nothing a normalising proxy or GitHub's router would read as another path.
        assert not {".", ".."} & set(segments) and "%" not in path and "\\" not in path and "\x00" not in path
