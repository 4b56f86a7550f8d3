"""Code, issues and files, through the REST front (the handler, as API Gateway calls it) and the
MCP front, against the fake GitHub's real shapes: each kind, the caps that keep answers small,
the limits GitHub names, and hostile paths that must never reach GitHub as another path."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, unquote

import app
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import event
from tests.contract import schema_errors
from tools.fake_github import Answer, FakeGitHub, code_hit, issue

CONTENTS = "/api/repos/{owner}/{repo}/contents/{path}"


def get(url_path: str, params: dict[str, str] | None = None, **path_parameters: str) -> dict[str, Any]:
    """What API Gateway hands the function: the resource, decoded path parameters, the query."""
    resource = url_path if not path_parameters else CONTENTS.replace("{path}", "{path+}")
    request = {**event(params), "resource": resource, "path": url_path, "pathParameters": path_parameters or None}
    return app.handler(request)


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def mcp(tool: str, **arguments: Any) -> dict[str, Any]:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    request = {**event(None, method="POST", headers={"Content-Type": "application/json"}), "resource": "/mcp"}
    result: dict[str, Any] = json.loads(app.handler({**request, "body": json.dumps(message)})["body"])["result"]
    return result


# -- each kind, through both fronts ---------------------------------------------------------------


def test_code_search_hits_carry_the_matching_lines_cut_and_flagged(function_env: FakeGitHub):
    response = get("/api/search/code", {"q": "WebAcl language:python", "limit": "3"})
    assert response["statusCode"] == 200 and response["headers"]["X-Search-Cache"] == "MISS"
    answer = body(response)
    assert schema_errors(answer, "/api/search/code") == []
    assert len(answer["hits"]) == 3 and answer["total_count"] == 777
    [seen] = function_env.seen
    assert seen.headers["accept"] == "application/vnd.github.text-match+json"  # GitHub sends the lines only so
    assert (seen.path, seen.params["q"]) == ("/search/code", "WebAcl language:python")
    third = answer["hits"][2]  # the fake gives hit 3 four fragments: three are kept, and it says so
    assert len(third["fragments"]) == 3 and third["fragments_truncated"] is True
    assert all(len(f) <= 300 for h in answer["hits"] for f in h["fragments"])
    # The same answer through MCP, from the cache (one GitHub call serves every limit).
    result = mcp("search_code", query="WebAcl language:python", limit=3)
    assert result["structuredContent"] == answer and len(function_env.seen) == 1
    assert json.loads(result["content"][0]["text"]) == answer and ", " not in result["content"][0]["text"][:40]


def test_code_search_without_a_token_says_so_instead_of_asking_github(function_env: FakeGitHub, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    response = get("/api/search/code", {"q": "x"})
    assert response["statusCode"] == 503 and function_env.seen == []
    message = body(response)["error"]["message"]
    assert body(response)["error"]["code"] == "not_configured" and "githubToken" in message
    assert mcp("search_code", query="x")["content"][0]["text"] == message


def test_issue_search_adds_the_kind_qualifier_and_marks_bodies_untrusted(function_env: FakeGitHub):
    answer = body(get("/api/search/issues", {"q": "repo:octo/tracker crash", "kind": "pr", "sort": "comments"}))
    assert schema_errors(answer, "/api/search/issues") == []
    [seen] = function_env.seen
    assert seen.params == {
        "q": "repo:octo/tracker crash is:pr",
        "sort": "comments",
        "order": "desc",
        "per_page": "20",
    }
    first = answer["issues"][0]
    assert (first["repository"], first["number"], first["author"]) == ("octo/tracker", 1, "user1")
    assert first["body_truncated"] is True and len(first["body"]) == 300
    assert {i["kind"] for i in answer["issues"]} == {"issue", "pull_request"}
    # A closed pull request GitHub merged says so (its link's merged_at), as GitHub's own badge does.
    every = body(get("/api/search/issues", {"q": "repo:octo/tracker crash", "limit": "20"}))["issues"]
    states = {i["number"]: (i["kind"], i["state"]) for i in every}
    assert states[6] == states[18] == ("pull_request", "merged") and states[12] == ("pull_request", "closed")
    assert states[3] == ("pull_request", "open") and (states[1], states[2]) == (("issue", "open"), ("issue", "closed"))
    schema = mcp_tools_schema("search_issues")["properties"]["issues"]["items"]["properties"]["body"]
    assert "Untrusted" in schema["description"]
    # Best match when no sort is given: GitHub's default, so no sort or order is sent.
    get("/api/search/issues", {"q": "crash is:issue"})
    assert function_env.seen[-1].params == {"q": "crash is:issue", "per_page": "20"}


def mcp_tools_schema(tool: str) -> dict[str, Any]:
    from mcp_front import tools as mcp_tools

    [found] = [t["outputSchema"] for t in mcp_tools.TOOLS if t["name"] == tool]
    return found


@pytest.mark.parametrize(
    ("path", "kind", "content", "note"),
    [
        ("docs/README.md", "file", "# docs/README.md in octo/x", None),
        ("src/big.py", "file", "    line 1:", None),
        ("logo.png", "file", None, "binary file of 2056 bytes"),
        ("assets/huge.bin", "file", None, "over the 1 MB"),
        ("link", "symlink", None, "symbolic link to docs/page-1.md"),
        ("vendor", "submodule", None, "submodule: https://github.com/octo/vendor.git"),
        ("docs", "directory", None, None),
    ],
)
def test_get_file_answers_what_each_kind_of_path_is(
    function_env: FakeGitHub, path: str, kind: str, content: str | None, note: str | None
):
    response = get(f"/api/repos/octo/x/contents/{path}", {"ref": "main"}, owner="octo", repo="x", path=path)
    assert response["statusCode"] == 200
    found = body(response)
    assert schema_errors(found, CONTENTS) == []
    assert (found["kind"], found["ref"], found["repository"]) == (kind, "main", "octo/x")
    assert (found["content"] or "").startswith(content or "") and (found["content"] is None) == (content is None)
    assert (note or "") in (found["note"] or "") and (found["note"] is None) == (note is None)
    assert function_env.seen[0].params == {"ref": "main"}
    assert mcp("get_file", owner="octo", repo="x", path=path, ref="main")["structuredContent"] == found


def test_a_long_file_and_a_long_directory_are_cut_and_say_how_much_there_is(function_env: FakeGitHub):
    big = body(get("/api/repos/octo/x/contents/src/big.py", owner="octo", repo="x", path="src/big.py"))
    assert len(big["content"]) == 4_000 and big["content_truncated"] is True and big["size"] > 50_000
    listing = body(get("/api/repos/octo/x/contents/docs", owner="octo", repo="x", path="docs"))
    assert len(listing["entries"]) == 50 and listing["entries_truncated"] is True
    assert listing["entries"][0] == {"name": "page-0.md", "path": "docs/page-0.md", "type": "directory", "size": 0}


def test_a_megabyte_file_and_thousands_of_matches_stay_within_the_caps(function_env: FakeGitHub):
    megabyte = "x = 1\n" * 180_000
    function_env.queue(
        Answer(
            200,
            {
                "type": "file",
                "name": "big.txt",
                "path": "big.txt",
                "sha": "f" * 40,
                "size": len(megabyte),
                "encoding": "base64",
                "content": base64.b64encode(megabyte.encode()).decode(),
                "html_url": "https://github.com/octo/x/blob/main/big.txt",
            },
        )
    )
    found = body(get("/api/repos/octo/x/contents/big.txt", owner="octo", repo="x", path="big.txt"))
    assert len(found["content"]) == 4_000 and found["size"] == len(megabyte)
    many = code_hit(1, "x")
    many["text_matches"] = [{"property": "content", "fragment": "y" * 400}] * 1000  # a 4 MB answer in all
    function_env.queue(Answer(200, {"total_count": 10**6, "incomplete_results": True, "items": [many] * 10}))
    answer = body(get("/api/search/code", {"q": "thousands", "limit": "20"}))
    assert len(answer["hits"]) == 10 and answer["incomplete_results"] is True
    assert all(len(h["fragments"]) == 3 and h["fragments_truncated"] for h in answer["hits"])
    assert len(json.dumps(answer)) < 25_000


def test_missing_files_and_issues_are_404_that_name_them(function_env: FakeGitHub):
    response = get("/api/repos/octo/x/contents/a/missing", {"ref": "v1"}, owner="octo", repo="x", path="a/missing")
    assert (
        response["statusCode"] == 404 and body(response)["error"]["message"] == "no a/missing in octo/x at v1 on GitHub"
    )
    text = mcp("fetch", id="octo/x#99999")["content"][0]["text"]
    assert text == "no issue or pull request octo/x#99999 on GitHub"


def test_rate_limits_name_the_limit_github_counted(function_env: FakeGitHub):
    reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"}
    function_env.queue(
        Answer(403, {"message": "API rate limit exceeded"}, {**reset, "x-ratelimit-resource": "code_search"})
    )
    limited = get("/api/search/code", {"q": "limited"})
    assert limited["statusCode"] == 429 and "code search limit (10 a minute)" in body(limited)["error"]["message"]
    assert int(limited["headers"]["Retry-After"]) == 3600  # GitHub's reset, capped at an hour
    function_env.queue(Answer(429, {"message": "slow down"}, {"retry-after": "42", "x-ratelimit-resource": "search"}))
    limited = get("/api/search/issues", {"q": "limited"})
    assert (
        limited["headers"]["Retry-After"] == "42" and "search limit (30 a minute" in body(limited)["error"]["message"]
    )


# -- fetch: the connectors' documents for every id form -------------------------------------------


def test_fetch_opens_what_search_code_and_search_issues_hand_out(function_env: FakeGitHub):
    hit = mcp("search_code", query="WebAcl")["structuredContent"]["hits"][0]
    found = mcp("fetch", id=f"{hit['repository']}/{hit['path']}")["structuredContent"]
    assert found["id"] == f"{hit['repository']}/{hit['path']}" and found["metadata"]["kind"] == "file"
    assert "untrusted content" in found["text"] and "```untrusted\n# src/module_1/handler.py" in found["text"]
    assert found["url"] == f"https://github.com/{hit['repository']}/blob/main/{hit['path']}"
    first = mcp("search_issues", query="crash")["structuredContent"]["issues"][0]
    document = mcp("fetch", id=f"{first['repository']}#{first['number']}")["structuredContent"]
    assert document["id"] == "octo/tracker#1" and document["metadata"] == {
        "kind": "issue",
        "state": "open",
        "comments": 2,
    }
    assert document["text"].startswith("# Issue octo/tracker#1") and "the body of octo/tracker#1" in document["text"]
    assert "```untrusted\nWhen I search" in document["text"]
    full = issue("octo", "tracker", 1)["body"]
    assert len(full) > 1000 and full[:1000] in document["text"]  # more of the body than a search hit shows


@pytest.mark.parametrize("id_", ["octo/x#0", "octo/x#abc", "octo/x#1#2", "octo/../x", "octo", 7, None])
def test_fetch_refuses_ids_of_no_form_without_calling_github(function_env: FakeGitHub, id_: object):
    result = mcp("fetch", id=id_)
    assert result["isError"] is True and function_env.seen == []


# -- hostile paths ---------------------------------------------------------------------------------

segments = st.one_of(
    st.sampled_from(
        [".", "..", "%2e", "%2e%2e", "..%2f", "a\\b", "a\x00b", "", "~", "%00", "\u202e", "é", "a b", "\ud800"]
    ),
    st.text(st.characters(codec="utf-8"), max_size=6),
)
paths = st.lists(segments, min_size=1, max_size=4).map("/".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths, st.one_of(st.none(), st.sampled_from(["main", "v1..2", "../main", "a b", "sha/../x", "feature/x"])))
def test_a_path_reaches_github_only_as_the_path_it_spells(function_env: FakeGitHub, path: str, ref: str | None):
    function_env.reset()
    app.reset()
    response = get("/x", {"ref": ref} if ref else None, owner="octo", repo="x", path=path)
    assert response["statusCode"] in (200, 400, 404), response
    if response["statusCode"] == 400:
        assert function_env.seen == []
        return
    [seen] = function_env.seen
    spelled = path.strip("/").split("/")
    requested = seen.path.removeprefix("/repos/octo/x/contents/").split("/")
    assert requested == [quote(s, safe="") for s in spelled]  # each segment percent-encoded, and only it
    assert [unquote(s) for s in requested] == spelled and not {".", ".."} & set(spelled)
    assert "\\" not in unquote(seen.path) and "\x00" not in unquote(seen.path)
    assert seen.params == ({"ref": ref} if ref else {})
