"""The owner's fence (`searchScope`, locally SEARCH_SCOPE): every search and read stays within the
chosen owners and repositories, whatever the query says and whatever GitHub answers.

What GitHub is sent is read off the fake GitHub (a real HTTP server); what a user sees, off the
function's answers through both fronts, in process and through the local server.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import anyio
import app
import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mcp.client.client import Client
from mcp_front import protocol
from mcp_front import tools as mcp_tools
from search import fence as fences
from search import syntax
from search.github_api import GitHubClient
from search.query import (
    BadRequest,
    IssueRef,
    parse_code_query,
    parse_file,
    parse_issue_query,
    parse_query,
    parse_repository,
)
from search.service import Failure, Outcome, SearchService

from infra.settings import ConfigError, load
from tests.conftest import TOKEN, event
from tools import fake_github
from tools.background import LocalServer
from tools.fake_github import OUTSIDER, FakeGitHub

SCOPE = "org:acme user:Someone repo:other/tool"
_PARSED = fences.parse(SCOPE)
assert _PARSED is not None
FENCE: fences.Fence = _PARSED
GROUP = "(user:acme OR user:Someone OR repo:other/tool)"
LEGACY = "user:acme user:Someone repo:other/tool"


def fenced(q: str, *, advanced: bool = False) -> str:
    return FENCE.fenced(q, advanced=advanced)


# -- the fence, read from the owner's text ------------------------------------------------------


def test_a_fence_is_owners_and_repositories_in_github_qualifiers():
    fence = fences.parse(" org:acme, user:Someone  repo:other/tool ")
    assert fence is not None
    assert fence.describe() == "org:acme, user:Someone, repo:other/tool"
    assert fence.allows("ACME/anything") and fence.allows("someone/x") and fence.allows("Other/Tool")
    assert not fence.allows("other/tools") and not fence.allows("acme-evil/x") and not fence.allows("evil/acme")
    assert fences.parse("") is None and fences.parse("  ") is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("acme", "is not org:<name>"),
        ("team:acme/devs", "is not org:<name>"),
        ("org:-acme", "not a GitHub user or organization name"),
        ("org:acme/x", "not a GitHub user or organization name"),
        ("repo:acme", "<owner>/<name>"),
        ("repo:acme/..", "<owner>/<name>"),
        ("repo:acme/a b", "<owner>/<name>"),
        ("org:acme ORG:ACME", "listed twice"),
        ("org:a org:b org:c org:d org:e", "at most 4"),
    ],
)
def test_a_fence_github_could_not_read_is_refused_with_what_to_write(text: str, says: str):
    with pytest.raises(ValueError, match=re.escape(says)):
        fences.parse(text)


def test_preview_refuses_a_bad_fence_naming_the_key_and_the_fix():
    with pytest.raises(ConfigError) as refused:
        load({"searchScope": "org:a org:b org:c org:d repo:e/f"})
    assert refused.value.key == "searchScope"
    assert "at most 4" in str(refused.value) and "pulumi config set searchScope" in str(refused.value)
    assert load({"searchScope": "org:acme,repo:other/tool"}).search_scope == ("org:acme", "repo:other/tool")
    assert load({}).search_scope == ()


# -- the query GitHub is sent -------------------------------------------------------------------


def test_legacy_searches_get_the_fence_as_qualifiers_github_ors():
    assert fenced("pulumi language:python") == f"pulumi language:python {LEGACY}"


def test_a_plain_query_naming_only_what_is_inside_is_narrowed_as_asked():
    assert fenced("crash repo:acme/api") == "crash repo:acme/api"
    assert fenced("crash user:someone") == "crash user:someone"
    # With an operator or a parenthesis, the fence is added all the same: its OR cannot widen it.
    assert fenced("crash OR repo:acme/api") == f"crash OR repo:acme/api {LEGACY}"
    assert fenced("NOT (repo:acme/api)") == f"NOT (repo:acme/api) {LEGACY}"
    # Quoted, it is a phrase GitHub searches for, not a qualifier: the fence is added.
    assert fenced('"repo:acme/api" crash') == f'"repo:acme/api" crash {LEGACY}'


def test_issue_search_brackets_the_query_within_one_or_group():
    """The advanced issue search ANDs qualifiers and honours OR: a user's OR stays in the brackets."""
    assert fenced("label:bug OR is:open", advanced=True) == f"( label:bug OR is:open ) {GROUP}"
    one = fences.parse("repo:acme/api")
    assert one is not None and one.fenced("crash", advanced=True) == "( crash ) repo:acme/api"


@pytest.mark.parametrize(
    "q",
    [
        "x repo:evil/tool",
        "x REPO:evil/tool",
        "x Org:evil",
        "x user:evil",
        "x owner:evil",
        'x repo:"evil/tool"',
        '"repo:evil/tool" x',
        "x -repo:evil/tool",
        "x NOT org:evil",
        "(x OR repo:evil/tool)",
        "x repo:acme/api,evil/tool",
        "x repo:acme/api repo:evil/tool",
        "x org:acme-evil",
        "x repo:other/tool2",
    ],
)
@pytest.mark.parametrize("advanced", [False, True])
def test_a_query_naming_an_owner_or_repository_outside_is_refused_saying_what_is_inside(q: str, advanced: bool):
    with pytest.raises(fences.OutsideScope) as refused:
        fenced(q, advanced=advanced)
    assert "org:acme, user:Someone, repo:other/tool" in str(refused.value)


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ('x "', "unclosed quote"),
        ("x ) OR ( y", "closed before it was opened"),
        ("(x", "unclosed parenthesis"),
        ('x \\" OR y', "backslash"),
        ('a"b c"user:evil org:acme', "quote inside a word"),  # one word to one reader, a phrase to another
        ('x "a b"c', "quote inside a word"),
        ('x "a b" c"d e"', "quote inside a word"),
        ("x repo:acme/../evil/x", "is not a repository name"),  # the owner alone read as acme
        ("x repo:acme/a/b", "is not a repository name"),
        ("x repo:acme/..", "is not a repository name"),
        ("x repo:other/tool,acme/../evil", "is not a repository name"),
    ],
)
@pytest.mark.parametrize("advanced", [False, True])
def test_a_query_that_could_reach_out_of_the_brackets_is_refused(q: str, says: str, advanced: bool):
    with pytest.raises(ValueError, match=says):
        fenced(q, advanced=advanced)


def test_only_a_repository_name_is_inside():
    assert FENCE.allows("acme/api") and FENCE.allows("other/tool")
    for name in ("acme/../evil/x", "acme/a/b", "acme/..", "acme/.", "acme/", "acme", "/acme", "other/tool/x"):
        assert not FENCE.allows(name), name
    assert (
        fenced('x "a b" -"c d" (e OR "f g") repo:"acme/api"') == 'x "a b" -"c d" (e OR "f g") repo:"acme/api" ' + LEGACY
    )


def test_the_fence_spends_operators_and_says_so():
    assert fenced("a OR b OR c OR d", advanced=True)  # 3, and the fence's 2
    with pytest.raises(ValueError, match="uses 4 AND/OR/NOT operators and this service's scope adds 2"):
        fenced("a OR b OR c OR d OR e", advanced=True)
    assert fenced("a OR b OR c OR d OR e OR f")  # legacy: the fence spends none


def test_items_from_outside_are_dropped_and_the_total_stays_githubs_estimate():
    """GitHub's total counts matches outside on pages never fetched: it cannot be made exact, so it
    is passed on as GitHub's, and the schemas say so."""
    answer = {"total_count": 40, "repos": [{"full_name": "acme/a"}, {"full_name": "evil/b"}, {"full_name": "x/y"}]}
    kept, dropped = FENCE.kept(answer, "repos", "full_name")
    assert kept == {"total_count": 40, "repos": [{"full_name": "acme/a"}]} and dropped == 2
    for tool in ("search_repositories", "search_code", "search_issues"):
        [listed] = [t for t in mcp_tools.TOOLS if t["name"] == tool]
        assert "GitHub's estimate" in listed["outputSchema"]["properties"]["total_count"]["description"]
    assert FENCE.kept({"total_count": 1, "repos": [{"full_name": "acme/a"}]}, "repos", "full_name")[1] == 0


# -- queries a model gets right the first time --------------------------------------------------


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ("symbol:handler language:python", 'search for the name as a word ("def handler"'),
        ("content:WebAcl", "write the words alone"),
        ("/Web[A-Z]cl/ language:python", "regular expression"),
        ("WebAcl path:src/**/*.py", "path: takes a directory (path:src/lib), filename:"),
        ("a OR b OR c OR d OR e OR f OR g", "uses 6 AND/OR/NOT operators"),
        ("WebAcl sort:indexed", "pass sort as its own parameter"),
        ("crash is:pr", "belongs to issue search"),
    ],
)
def test_code_search_syntax_github_does_not_take_is_refused_with_the_equivalent(q: str, says: str):
    with pytest.raises(BadRequest, match=re.escape(says)):
        parse_code_query({"q": q})


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"q": "crash is:pr type:issue"}, "issues and pull requests at once"),
        ({"q": "crash is:issue", "kind": "pr"}, "issues and pull requests at once"),
        ({"q": "crash filename:app.py"}, "belongs to code search"),
        ({"q": "crash order:asc"}, "pass order as its own parameter"),
    ],
)
def test_issue_search_contradictions_are_refused_before_a_call(params: dict[str, str], says: str):
    with pytest.raises(BadRequest, match=says):
        parse_issue_query(params)


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ("pulumi label:bug", "belongs to issue search"),
        ("pulumi is:pr", "belongs to issue search"),
        ("pulumi extension:py", "belongs to code search"),
        ("pulumi sort:stars", "pass sort as its own parameter"),
    ],
)
def test_repository_search_refuses_the_other_searches_qualifiers(q: str, says: str):
    with pytest.raises(BadRequest, match=says):
        parse_query({"q": q})


def test_what_github_takes_passes_untouched():
    assert parse_code_query({"q": 'WebAcl "aws.wafv2" path:infra extension:py -filename:test.py'}).q
    assert parse_issue_query({"q": "crash is:pr is:merged -label:wontfix", "kind": "pr"}).q
    assert parse_query({"q": "pulumi is:public archived:false topic:iac NOT deprecated"}).q
    assert syntax.qualifiers('-REPO:"a/b" NOT user:c x:y') == [
        (True, "repo", "a/b"),
        (True, "user", "c"),
        (False, "x", "y"),
    ]


# -- the service, against the fake GitHub -------------------------------------------------------


@pytest.fixture
def fenced_service(fake: FakeGitHub) -> Iterator[SearchService]:
    client = GitHubClient(fake.url, TOKEN)
    yield SearchService(client, fence=FENCE)
    client.close()


def sent(fake: FakeGitHub, path: str) -> list[dict[str, str]]:
    return [s.params for s in fake.seen if s.path == path]


def test_each_search_reaches_github_within_the_fence(fenced_service: SearchService, fake: FakeGitHub):
    repos: Any = fenced_service.search(parse_query({"q": "pulumi", "limit": "20"}), Outcome()).value["repos"]
    hits: Any = fenced_service.code(parse_code_query({"q": "WebAcl"}), Outcome()).value["hits"]
    found: Any = fenced_service.issues(parse_issue_query({"q": "crash OR hang", "kind": "issue"}), Outcome()).value
    assert sent(fake, "/search/repositories")[0]["q"] == f"pulumi {LEGACY}"
    assert sent(fake, "/search/code")[0]["q"] == f"WebAcl {LEGACY}"
    [issues] = sent(fake, "/search/issues")
    assert issues["q"] == f"( crash OR hang is:issue ) {GROUP}" and issues["advanced_search"] == "true"
    names = (
        [r["full_name"] for r in repos] + [h["repository"] for h in hits] + [i["repository"] for i in found["issues"]]
    )
    assert len(names) == 20 + 5 + 5 and all(FENCE.allows(n) for n in names)
    assert {n.split("/")[0].lower() for n in names} == {"acme", "someone", "other"}


def test_an_outside_item_github_answers_is_dropped(fenced_service: SearchService, fake: FakeGitHub):
    outcome = Outcome()
    answer: Any = fenced_service.search(parse_query({"q": "outsider", "limit": "20"}), outcome).value
    assert OUTSIDER not in [r["full_name"] for r in answer["repos"]] and len(answer["repos"]) == 19
    assert answer["total_count"] == 4242 and outcome.dropped == 1  # the fake's estimate, as GitHub's


@pytest.mark.parametrize(
    ("read", "answer"),
    [
        (
            lambda svc, o: svc.repository(parse_repository("acme", "moved"), o),
            fake_github.repository_page("acme", "moved"),
        ),
        (
            lambda svc, o: svc.file(parse_file("acme", "moved", "README.md"), o),
            fake_github.contents("acme", "moved", "README.md"),
        ),
        (
            lambda svc, o: svc.file(parse_file("acme", "moved", "docs/"), o),
            fake_github.contents("acme", "moved", "docs/"),
        ),
        (
            lambda svc, o: svc.issue(IssueRef(parse_repository("acme", "moved"), 7), o),
            fake_github.issue("acme", "moved", 7),
        ),
    ],
    ids=["repository", "file", "directory", "issue"],
)
def test_a_read_whose_answer_names_a_repository_outside_is_refused(
    fenced_service: SearchService, fake: FakeGitHub, read: Any, answer: Any
):
    """GitHub answers a transfer with 301 today, but the fence holds on what a read's answer says,
    as it does on a search's: a 200 naming evil/secret for acme/moved is refused, and not cached."""
    moved = json.loads(json.dumps(answer).replace("acme/moved", "evil/secret"))
    assert "evil/secret" in json.dumps(moved) and "acme/moved" not in json.dumps(moved)
    fake.queue(fake_github.Answer(200, moved))
    with pytest.raises(Failure) as refused:
        read(fenced_service, Outcome())
    assert refused.value.status == 403 and refused.value.code == "outside_scope"
    assert "evil/secret" in refused.value.message
    assert "evil/secret" not in json.dumps(read(fenced_service, Outcome()).value)  # GitHub's own answer next time


@pytest.mark.parametrize(
    "read",
    [
        lambda svc, o: svc.repository(parse_repository("evil", "tool"), o),
        lambda svc, o: svc.file(parse_file("evil", "tool", "README.md"), o),
        lambda svc, o: svc.file(parse_file("other", "tool2", ""), o),
        lambda svc, o: svc.issue(IssueRef(parse_repository("evil", "tool"), 1), o),
    ],
)
def test_a_read_outside_is_refused_before_github_is_asked(fenced_service: SearchService, fake: FakeGitHub, read):
    with pytest.raises(Failure) as refused:
        read(fenced_service, Outcome())
    assert refused.value.status == 403 and refused.value.code == "outside_scope"
    assert "org:acme, user:Someone, repo:other/tool" in refused.value.message
    assert fake.seen == []


# -- the property: nothing reaches GitHub without the fence --------------------------------------

INSIDE = ["acme", "ACME", "someone", "acme/api", "other/tool", "Other/Tool"]
OUTSIDE = ["evil", "evil/tool", "acme-evil", "other/tool2", "acme/api,evil/x"]
VALUES = st.one_of(*[st.sampled_from(INSIDE)] * 3, st.sampled_from(OUTSIDE))  # inside, mostly
QUALIFIER = st.builds(
    lambda sign, key, quote, value: f"{sign}{key}:{quote}{value}{quote}",
    st.sampled_from(["", "-"]),
    st.sampled_from(["repo", "org", "user", "REPO", "Org", "owner"]),
    st.sampled_from(["", '"']),
    VALUES,
)
WORDS = st.sampled_from(["crash", "hang", "outsider", "AND", "OR", "NOT", "(", ")", '"a b"', "language:go"])
TOKENS = st.one_of(QUALIFIER, WORDS, WORDS, st.sampled_from(['"', "\\", "created:>2026-01-01", "(crash OR hang)"]))
QUERIES = st.lists(TOKENS, min_size=1, max_size=8).map(" ".join)


def reachable(q: str, advanced: bool) -> str | None:
    """What GitHub may answer from for a query it was sent, by the rules search/fence.py documents:
    None when within the fence, else why not."""
    if advanced:
        match = re.fullmatch(r"\( (.*) \) " + re.escape(GROUP), q)
        if match is None or fences.unbalanced(match[1]):
            return f"not one bracketed query ANDed with the fence's group: {q!r}"
        return None
    if fences.unbalanced(q):
        return f"a quote, parenthesis or backslash could swallow the fence: {q!r}"
    # The legacy engine ORs every repo:, org: and user: it is sent (a comma list too, perhaps).
    named = [(k, part) for _, k, v in syntax.qualifiers(q) if k in fences.SCOPE_KEYS for part in v.split(",")]
    outside = [v for k, v in named if not (FENCE.allows if k in ("repo", "repository") else FENCE.allows_owner)(v)]
    if outside:
        return f"names {outside} outside the fence: {q!r}"
    if q.endswith(" " + LEGACY):
        return None
    narrowing = [v for neg, k, v in syntax.qualifiers(q, quoted=False) if not neg and k in fences.NARROWING]
    if syntax.operators(q) or "(" in q or not narrowing:
        return f"sent without the fence: {q!r}"
    return None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=QUERIES, kind=st.sampled_from(["repositories", "code", "issues"]))
@example(q="crash repo:acme/api,evil/x", kind="code")  # the rare ones, always tried
@example(q='"repo:acme/api" crash', kind="repositories")
@example(q="NOT (repo:acme/api) crash", kind="repositories")
def test_no_query_reaches_github_without_the_fence(fake_server: FakeGitHub, q: str, kind: str):
    fake = fake_server
    fake.reset()
    service = SearchService(GitHubClient(fake.url, TOKEN), fence=FENCE)  # a cold cache: each query is sent
    table: dict[str, tuple[Any, Any, str, str, str]] = {
        "repositories": (service.search, parse_query, "/search/repositories", "repos", "full_name"),
        "code": (service.code, parse_code_query, "/search/code", "hits", "repository"),
        "issues": (service.issues, parse_issue_query, "/search/issues", "issues", "repository"),
    }
    search, parse, path, key, name = table[kind]
    try:
        answer = search(parse({"q": q, "limit": "20"}), Outcome()).value
    except (BadRequest, Failure):
        answer = None
    finally:
        service.client.close()
    for params in sent(fake, path):
        problem = reachable(params["q"], advanced=kind == "issues")
        assert problem is None, problem
        assert (params.get("advanced_search") == "true") == (kind == "issues")
    if answer is not None:
        assert all(FENCE.allows(item[name]) for item in answer[key])


# -- through both fronts, in the function -------------------------------------------------------


@pytest.fixture
def fenced_env(function_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    monkeypatch.setenv("SEARCH_SCOPE", SCOPE)
    app.reset()
    return function_env


def rest(path: str, params: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    response = app.handler({**event(params), "resource": None, "path": path})
    return response["statusCode"], json.loads(response["body"])


def test_a_changed_fence_is_a_new_cache(fenced_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch):
    """Local mode can change the fence between runs, and a warm function must not serve the old one's."""
    assert rest("/api/search", {"q": "pulumi"})[0] == 200
    monkeypatch.setenv("SEARCH_SCOPE", "repo:other/tool")
    status, answer = rest("/api/search", {"q": "pulumi"})
    assert status == 200 and {r["full_name"] for r in answer["repos"]} == {"other/tool"}
    assert [p["q"] for p in sent(fenced_env, "/search/repositories")] == [f"pulumi {LEGACY}", "pulumi repo:other/tool"]


def test_a_bad_fence_in_the_environment_is_named(fenced_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SEARCH_SCOPE", "org:acme team:x")
    with pytest.raises(ValueError, match="SEARCH_SCOPE: 'team:x' is not org:<name>"):
        app.service()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/search", {"q": "pulumi org:evil"}),
        ("/api/search/code", {"q": 'WebAcl Repo:"evil/tool"'}),
        ("/api/search/issues", {"q": "crash -user:evil"}),
        ("/api/repos/evil/tool", None),
        ("/api/repos/evil/tool/contents/README.md", None),
    ],
)
def test_the_rest_front_answers_403_outside_scope(fenced_env: FakeGitHub, path: str, params: dict[str, str] | None):
    status, answer = rest(path, params)
    assert status == 403 and answer["error"]["code"] == "outside_scope"
    assert "org:acme, user:Someone, repo:other/tool" in answer["error"]["message"]
    assert fenced_env.seen == []


def mcp(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    response = app.handler({"resource": "/mcp", "httpMethod": "POST", "headers": {}, "body": json.dumps(body)})
    result: dict[str, Any] = json.loads(response["body"])["result"]
    return result


def test_the_mcp_front_names_the_fence_and_refuses_outside_it(fenced_env: FakeGitHub):
    assert mcp("initialize", {"protocolVersion": "2025-11-25"})["instructions"].startswith(
        "This server answers only about org:acme, user:Someone, repo:other/tool"
    )
    assert all(t["description"].endswith(mcp_tools.FENCED) for t in mcp("tools/list")["tools"])
    refused = [
        mcp("tools/call", {"name": name, "arguments": arguments})
        for name, arguments in [
            ("fetch", {"id": "evil/tool#3"}),
            ("fetch", {"id": "evil/tool/src/app.py"}),
            ("get_file", {"owner": "evil", "repo": "tool", "path": ""}),
            ("search", {"query": "crash user:evil"}),
            ("search_issues", {"query": "crash", "kind": "pr", "sort": "created"}),  # inside: answered
        ]
    ]
    for result in refused[:-1]:
        assert result["isError"] is True and "outside what this service answers about" in result["content"][0]["text"]
    assert refused[-1]["isError"] is False
    assert all(FENCE.allows(i["repository"]) for i in refused[-1]["structuredContent"]["issues"])
    assert fenced_env.seen[-1].params["q"] == f"( crash is:pr ) {GROUP}"


def test_without_a_fence_nothing_changes(function_env: FakeGitHub):
    assert mcp("initialize")["instructions"] == protocol.INSTRUCTIONS
    assert mcp("tools/list")["tools"] == mcp_tools.TOOLS
    assert rest("/api/search", {"q": "pulumi"})[0] == 200
    assert sent(function_env, "/search/repositories")[0] == {
        "q": "pulumi",
        "sort": "stars",
        "order": "desc",
        "per_page": "20",
    }


# -- through the local server: the pages, the SDK, the fake GitHub -------------------------------


@pytest.fixture(scope="module")
def fenced_server(fake_server: FakeGitHub) -> Iterator[LocalServer]:
    running = LocalServer(fake_server.url, env={"GITHUB_TOKEN": TOKEN, "SEARCH_SCOPE": SCOPE})
    yield running
    running.stop()


def test_the_pages_say_what_the_stack_covers(fenced_server: LocalServer):
    said = "It answers only about org:acme, user:Someone, repo:other/tool"
    for path in ("/", "/openapi.yaml", "/.well-known/ai-plugin.json"):
        page = requests.get(fenced_server.base + path, timeout=10)
        assert page.status_code == 200 and said in page.text, path


def test_an_mcp_client_searches_within_the_fence(fenced_server: LocalServer, fake_server: FakeGitHub):
    fake_server.reset()

    async def work(client: Client) -> Any:
        found = await client.call_tool("search_code", {"query": "WebAcl outsider", "limit": 20})
        escaped = await client.call_tool("search_repositories", {"query": "pulumi ORG:Evil"})
        mistaken = await client.call_tool("search_code", {"query": "symbol:WebAcl"})
        return found, escaped, mistaken

    async def run() -> Any:
        async with Client(f"{fenced_server.base}/mcp") as client:
            return await work(client)

    found, escaped, mistaken = anyio.run(run)
    hits = found.structured_content["hits"]
    assert found.is_error is False and len(hits) == 19 and all(FENCE.allows(h["repository"]) for h in hits)
    assert OUTSIDER not in {h["repository"] for h in hits}
    assert escaped.is_error is True and "org:acme, user:Someone, repo:other/tool" in escaped.content[0].text
    assert mistaken.is_error is True and "symbol:WebAcl is not in GitHub's code search API" in mistaken.content[0].text
    assert [s.params["q"] for s in fake_server.seen if s.path == "/search/code"] == [f"WebAcl outsider {LEGACY}"]


def test_the_smoke_test_passes_against_a_fenced_stack_and_sees_the_fence(fenced_server: LocalServer):
    done = subprocess.run(
        [sys.executable, "-m", "tools.smoke", fenced_server.base],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS code, issues, files: each REST route answers its schema (or 403 outside a fence)" in done.stdout


# -- the stack ----------------------------------------------------------------------------------


def test_the_stack_hands_the_function_its_fence_and_the_pages_name_it():
    from tests.program import Graph, synth
    from tests.test_program import SEARCH_FUNCTION

    graph = Graph(synth("dev", (("searchScope", "org:acme, repo:other/tool"),))["raw"])
    variables = graph.inputs("aws:lambda/function:Function", SEARCH_FUNCTION)["environment"]["variables"]
    assert variables["SEARCH_SCOPE"] == "org:acme repo:other/tool"
    pages = {r["inputs"]["key"]: r["inputs"].get("content") for r in graph.all("aws:s3/bucketObjectv2:BucketObjectv2")}
    for key in ("index.html", "openapi.yaml", ".well-known/ai-plugin.json"):
        assert "It answers only about org:acme, repo:other/tool, as its owner chose" in pages[key], key
