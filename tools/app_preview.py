"""The MCP App's view without an assistant: `make dev` serves `/app-preview?tool=…&q=…`.

The page is a host as a web assistant is one: the official AppBridge (apphost/, bundled to
build/apphost/preview.js by `make app-host`) mounts the view in a sandboxed frame from the other
local name (127.0.0.1 and localhost are two origins), under the CSP the MCP Apps specification
gives hosts as their default, and feeds it a real `tools/call` on this server's /mcp. The view's
own document is what `resources/read` answers for `ui://github-search/view`.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "build" / "apphost" / "preview.js"
PAGE, SCRIPT, VIEW = "/app-preview", "/app-preview/preview.js", "/app-view"
PATHS = frozenset({PAGE, SCRIPT, VIEW})
# The specification's "Restrictive Default" for a view that declares no `_meta.ui.csp`.
VIEW_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' data:; connect-src 'none'"
)
SEARCHES = ("search_repositories", "search_code", "search_issues", "search")
READS = ("get_repository", "get_file", "fetch")
EXAMPLES = {
    "search_repositories": "topic:terraform cloudfront",
    "search_code": "WebAcl language:python",
    "search_issues": "repo:octo/tracker crash",
    "search": "mcp server",
    "get_repository": "pulumi/pulumi-aws",
    "get_file": "pulumi/pulumi-aws/README.md",
    "fetch": "pulumi/pulumi-aws",
}
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class Unusable(ValueError):
    """A query string the preview cannot turn into a tool call; the message says what to write."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def arguments(tool: str, q: str, limit: str = "") -> dict[str, object]:
    """The tool's arguments from the preview's one text box: a query for the searches,
    `owner/repo` for get_repository, `owner/repo/path` for get_file, an id for fetch."""
    q = q.strip()
    if tool not in SEARCHES + READS:
        raise Unusable(f"tool must be one of {', '.join(SEARCHES + READS)}")
    if not q:
        raise Unusable(f"q is empty; e.g. q={EXAMPLES[tool]}")
    if tool == "fetch":
        return {"id": q}
    if tool in SEARCHES:
        found: dict[str, object] = {"query": q}
        if limit:
            if not (limit.isascii() and limit.isdigit() and len(limit) < 3):
                raise Unusable("limit must be a number from 1 to 20")
            found["limit"] = int(limit)
        return found
    owner, _, rest = q.partition("/")
    repo, _, path = rest.partition("/")
    names = all(_NAME.fullmatch(name) and name.strip(".") for name in (owner, repo))
    if not names or (tool == "get_repository" and path):
        shape = "owner/repo" if tool == "get_repository" else "owner/repo/path"
        raise Unusable(f"{tool} takes q={shape}, e.g. q={EXAMPLES[tool]}")
    named: dict[str, object] = {"owner": owner, "repo": repo}
    return named | {"path": path} if tool == "get_file" else named


def view_origin(host_header: str, port: int) -> str:
    """The view's origin: the other local name than the page's, so the two never share one."""
    other = "localhost" if host_header.split(":", maxsplit=1)[0] != "localhost" else "127.0.0.1"
    return f"http://{other}:{port}"


def answer(path: str, query: dict[str, list[str]], host_header: str, port: int, *, sign_in: bool) -> Answer:
    if path == VIEW:
        from mcp_front import view  # the function's own module: the same document resources/read gives

        [contents] = view.contents(view.URI) or []
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": VIEW_CSP}
        return Answer(200, headers, str(contents["text"]).encode())
    if path == SCRIPT:
        if not BUNDLE.exists():
            return _text(404, "build/apphost/preview.js is not built: run `make app-host` (needs npm)\n")
        return Answer(200, {"Content-Type": "text/javascript; charset=utf-8"}, BUNDLE.read_bytes())
    first = {name: values[0] for name, values in query.items() if values}
    tool = first.get("tool", "search_repositories")
    if sign_in:
        problem = "The preview calls /mcp without a token: run it with `make dev`, no AUTH."
        return _page(tool, first, problem=problem, status=403)
    if not BUNDLE.exists():
        return _page(
            tool, first, problem="The preview's host is not built: run `make app-host` (needs npm).", status=503
        )
    try:
        called = arguments(tool, first.get("q", EXAMPLES.get(tool, "")), first.get("limit", ""))
    except Unusable as problem:
        return _page(tool, first, problem=str(problem), status=400)
    return _page(tool, first, called=called, view_url=view_origin(host_header, port) + VIEW)


def _text(status: int, message: str) -> Answer:
    return Answer(status, {"Content-Type": "text/plain; charset=utf-8"}, message.encode())


def _page(
    tool: str,
    given: dict[str, str],
    *,
    called: dict[str, object] | None = None,
    problem: str = "",
    status: int = 200,
    view_url: str = "",
) -> Answer:
    e = html.escape
    theme = "dark" if given.get("theme") == "dark" else "light"
    options = "".join(f"<option{' selected' if name == tool else ''}>{e(name)}</option>" for name in SEARCHES + READS)
    q = given.get("q", EXAMPLES.get(tool, ""))
    mounted = (
        f'<iframe id="view" title="The GitHub search view" sandbox="allow-scripts"></iframe>'
        f'<p id="opened" class="muted">Links the view asks to open show here.</p>'
        f'<script src="{SCRIPT}"></script>'
        if called is not None
        else f'<p class="problem" role="alert">{e(problem)}</p>'
    )
    data = (
        f'data-tool="{e(tool)}" data-arguments="{e(json.dumps(called or {}))}" '
        f'data-view-url="{e(view_url)}" data-theme="{theme}"'
    )
    page = f"""<!doctype html>
<html lang="en" {data}>
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>MCP App preview: {e(tool)}</title>
<style>
:root {{ color-scheme: light; font: 14px/1.5 system-ui, sans-serif; }}
:root[data-theme="dark"] {{ color-scheme: dark; background: #0b0d10; color: #e6edf3; }}
body {{ margin: 0 auto; max-width: 760px; padding: 12px; }}
form {{ display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 12px; }}
input[name=q] {{ flex: 1 1 200px; min-width: 0; }}
iframe {{ display: block; width: 100%; height: 120px; border: 0; }}
.muted {{ color: #6e7781; font-size: 12px; overflow-wrap: anywhere; }} .problem {{ color: #d1242f; }}
</style></head>
<body>
<form method="get" action="{PAGE}">
<select name="tool" aria-label="Tool">{options}</select>
<input name="q" aria-label="Query" value="{e(q)}">
<label><input id="theme" type="checkbox" name="theme" value="dark"{" checked" if theme == "dark" else ""}> dark</label>
<button>Call</button>
</form>
{mounted}
</body>
</html>
"""
    return Answer(status, {"Content-Type": "text/html; charset=utf-8"}, page.encode())
