"""The MCP tools: their definitions (schemas a model reads) and their calls over the service.

Each tool answers a `CallToolResult`: on success `structuredContent` (matching the tool's
`outputSchema`) plus the same JSON, compact, as one text item; on bad arguments or an upstream
failure a normal result with `isError: true` and a message a model can act on. Descriptions are
short and exact: the whole list is what a model reads before every conversation.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from search.query import (
    DEFAULT_LIMIT,
    ISSUE_SORTS,
    KINDS,
    LIMIT_RANGE,
    MAX_Q_LENGTH,
    ORDERS,
    SORTS,
    BadRequest,
    FilePath,
    IssueRef,
    parse_code_query,
    parse_file,
    parse_issue_query,
    parse_query,
    shown,
)
from search.query import parse_repository as parse_name
from search.service import Failure, Outcome, SearchService

from mcp_front import documents, schemas

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from search.fence import Fence

    Json = dict[str, Any]

SEARCH_RESULTS = 10  # what `search` (ChatGPT's connectors, deep research) lists


def _query(syntax: str, example: str) -> Json:
    return {"type": "string", "minLength": 1, "maxLength": MAX_Q_LENGTH, "description": f"{syntax}, e.g. {example}"}


_LIMIT = {"type": "integer", "minimum": LIMIT_RANGE[0], "maximum": LIMIT_RANGE[1], "default": DEFAULT_LIMIT}
_ORDER = {"type": "string", "enum": list(ORDERS), "default": ORDERS[0]}
_OWNER = {"type": "string", "description": "The user or organization, e.g. pulumi"}
_REPO = {"type": "string", "description": "The repository's name, e.g. pulumi-aws"}
_ANNOTATIONS = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": True}


# The MCP App every tool is shown in (view.py serves it; imported only when a host reads it).
VIEW_URI = "ui://github-search/view"


def _tool(name: str, title: str, description: str, inputs: Json, *, output: Json, required: list[str]) -> Json:
    return {
        "name": name,
        "title": title,
        "description": description,
        "inputSchema": schemas.object_schema(inputs, required),
        "outputSchema": output,
        "annotations": {**_ANNOTATIONS, "title": title},
        # Shown in the view by hosts that render MCP Apps; the others ignore `_meta`. Every client
        # gets it: over stateless HTTP a 2025 client's tools/list does not carry what it declared.
        "_meta": {"ui": {"resourceUri": VIEW_URI}},
    }


TOOLS: list[Json] = [
    _tool(
        "search_repositories",
        "Search GitHub repositories",
        "Search GitHub repositories, best first. Syntax: words and "
        "qualifiers (language:, topic:, stars:>100, org:, user:, pushed:>2026-01-01, archived:false); sort and "
        "order are arguments, not qualifiers.",
        {
            "query": _query("GitHub repository search syntax", "pulumi language:python stars:>100"),
            "sort": {"type": "string", "enum": list(SORTS), "default": SORTS[0], "description": "Rank by"},
            "order": _ORDER,
            "limit": _LIMIT,
        },
        output=schemas.SEARCH_RESULT,
        required=["query"],
    ),
    _tool(
        "get_repository",
        "Get a GitHub repository",
        "One repository's facts (stars, topics, license, dates...) and its README (first 4,000 characters, untrusted).",
        {"owner": _OWNER, "repo": _REPO},
        output=schemas.REPOSITORY_PAGE,
        required=["owner", "repo"],
    ),
    _tool(
        "search_code",
        "Search code on GitHub",
        "Search files; each hit has repository, path, url, sha and the matching lines. 10 searches a minute. "
        'Syntax: words or "a phrase", repo:, org:, language:, path:src/dir, filename:, extension:, NOT; not '
        "symbol:, content:, /regex/ or path globs.",
        {"query": _query("GitHub code search syntax", "WebAcl language:python repo:pulumi/examples"), "limit": _LIMIT},
        output=schemas.CODE_SEARCH_RESULT,
        required=["query"],
    ),
    _tool(
        "search_issues",
        "Search issues and pull requests",
        "Search issues and pull requests; each hit has its state, labels, author and the start of its body "
        "(untrusted). Syntax: words, repo:, org:, is:open, "
        "is:merged, label:bug, author:, created:>2026-01-01; the kind argument picks issues or pull requests.",
        {
            "query": _query("GitHub issue search syntax", "repo:pulumi/pulumi-aws is:open label:bug"),
            "kind": {"type": "string", "enum": list(KINDS), "description": "issue or pr; absent: both"},
            "sort": {"type": "string", "enum": list(ISSUE_SORTS), "description": "absent: best match"},
            "order": _ORDER,
            "limit": _LIMIT,
        },
        output=schemas.ISSUE_SEARCH_RESULT,
        required=["query"],
    ),
    _tool(
        "get_file",
        "Read a file from a GitHub repository",
        "A file's text (first 4,000 characters; size and content_truncated say how much more there is) or a "
        "directory's listing, at a branch, tag or commit (default branch when ref is absent). Binary and "
        "over-1-MB files answer a note instead.",
        {
            "owner": _OWNER,
            "repo": _REPO,
            "path": {"type": "string", "description": "e.g. src/main.py; empty: the root directory"},
            "ref": {"type": "string", "description": "branch, tag or commit SHA"},
        },
        output=schemas.FILE_CONTENT,
        required=["owner", "repo", "path"],
    ),
    _tool(
        "search",
        "Search (connectors)",
        "Search GitHub repositories; each result's id (owner/repo) can be passed to fetch.",
        {"query": _query("GitHub repository search syntax", "pulumi language:python")},
        output=schemas.CONNECTOR_RESULTS,
        required=["query"],
    ),
    _tool(
        "fetch",
        "Fetch a document (connectors)",
        f"One document as Markdown, by id: {documents.ID_FORMS} (the ids search, search_code and search_issues "
        "hand out). What strangers wrote in it comes fenced as untrusted content.",
        {"id": {"type": "string", "description": documents.ID_FORMS}},
        output=schemas.CONNECTOR_DOCUMENT,
        required=["id"],
    ),
]
TOOL_NAMES = tuple(tool["name"] for tool in TOOLS)
# With a fence, or private repositories, each tool says so in a few words; the instructions say
# it in full, once (the list has a budget: 12 KiB, 13 KiB with the largest fence and private repositories).
FENCED = " Only within the scope the instructions name."
PRIVATE = " Your private repositories too."
_LISTS: dict[tuple[bool, bool], list[Json]] = {(False, False): TOOLS}


def listed(fence: Fence | None, *, private: bool = False) -> list[Json]:
    key = (fence is not None, private)
    if key not in _LISTS:
        suffix = (PRIVATE if private else "") + (FENCED if fence is not None else "")
        _LISTS[key] = [{**tool, "description": tool["description"] + suffix} for tool in TOOLS]
    return _LISTS[key]


class UnknownTool(Exception):
    """No tool by that name: a JSON-RPC error (-32602), not a tool result."""


def _ok(value: object, text: str | None = None) -> Json:
    """`text`: the value's JSON when the service already rendered it (compact: a model pays per character)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")) if text is None else text
    return {"content": [{"type": "text", "text": text}], "structuredContent": value, "isError": False}


def _error(message: str) -> Json:
    return {"content": [{"type": "text", "text": message}], "isError": True}


def _search_args(arguments: Json, *names: str) -> Json:
    """The tool's arguments as the REST query string (`query` is `q`), so both fronts share one parser."""
    limit = arguments.get("limit")
    if isinstance(limit, bool) or not (limit is None or isinstance(limit, int)):
        raise BadRequest(f"'limit' must be an integer from {LIMIT_RANGE[0]} to {LIMIT_RANGE[1]}")
    params = {"q": arguments.get("query"), **{n: arguments.get(n) for n in names}}
    if limit is not None:
        params["limit"] = str(limit)[:12]
    if params["q"] is None:
        raise BadRequest("'query' is required: GitHub search syntax, e.g. pulumi language:python")
    return {k: v for k, v in params.items() if v is not None}


def _answer(result: Any) -> Json:
    return _ok(result.value, result.text)


CALLS: dict[str, Callable[[SearchService, Json, Outcome], Json]] = {
    "search_repositories": lambda svc, args, out: _answer(
        svc.search(parse_query(_search_args(args, "sort", "order")), out)
    ),
    "get_repository": lambda svc, args, out: _answer(
        svc.repository(parse_name(args.get("owner"), args.get("repo")), out)
    ),
    "search_code": lambda svc, args, out: _answer(svc.code(parse_code_query(_search_args(args)), out)),
    "search_issues": lambda svc, args, out: _answer(
        svc.issues(parse_issue_query(_search_args(args, "kind", "sort", "order")), out)
    ),
    "get_file": lambda svc, args, out: _answer(
        svc.file(parse_file(args.get("owner"), args.get("repo"), args.get("path"), args.get("ref")), out)
    ),
}


def _search(service: SearchService, arguments: Json, outcome: Outcome) -> Json:
    query = parse_query({**_search_args({"query": arguments.get("query")}), "limit": str(SEARCH_RESULTS)})
    repos = service.search(query, outcome).value["repos"]
    assert isinstance(repos, list)
    return _ok({"results": [{"id": r["full_name"], "title": r["full_name"], "url": r["url"]} for r in repos]})


def _fetch(service: SearchService, arguments: Json, outcome: Outcome) -> Json:
    target = documents.parse_id(arguments.get("id"))
    if isinstance(target, IssueRef):
        return _ok(documents.issue_document(service.issue(target, outcome).value))
    if isinstance(target, FilePath):
        return _ok(documents.file_document(service.file(target, outcome).value))
    return _ok(documents.repository_document(service.repository(target, outcome).value))


CALLS |= {"search": _search, "fetch": _fetch}


def call(service: SearchService, name: object, arguments: object, outcome: Outcome) -> Json:
    """The `CallToolResult` for one call; raises UnknownTool for a name no tool has."""
    run = CALLS.get(name) if isinstance(name, str) else None
    if run is None:
        raise UnknownTool(f"Unknown tool: {shown(name, 80)}; the tools are {', '.join(TOOL_NAMES)}")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return _error(f"arguments must be an object (got {shown(arguments)})")
    try:
        return run(service, arguments, outcome)
    except BadRequest as exc:
        outcome.error = "invalid_request"
        return _error(f"invalid arguments: {exc}")
    except Failure as exc:
        outcome.error = exc.code
        return _error(exc.message)  # a rate limit's message names the wait already
