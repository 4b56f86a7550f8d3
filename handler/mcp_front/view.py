"""The tools' view, an MCP App (extension `io.modelcontextprotocol/ui`, revision 2026-01-26).

Every tool names one `ui://` resource in `_meta.ui.resourceUri`; a host that renders apps reads
it with `resources/read` and shows it in a sandboxed frame, fed with the tool's
`structuredContent`. Hosts without apps ignore `_meta` and keep the text answer.

The view is `view.html`, one self-contained page (its script and styles inline, nothing loaded
from elsewhere, so the host's default CSP holds and no `_meta.ui.csp` is declared). The one thing
filled in here is the GitHub web host whose links it may ask the host to open.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from search.github_api import web_url

from mcp_front.tools import VIEW_URI

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Json = dict[str, Any]

URI = VIEW_URI
MIME_TYPE = "text/html;profile=mcp-app"
RESOURCE: Json = {
    "uri": URI,
    "name": "github-search-view",
    "title": "GitHub search results",
    "description": "Shows what a search or read found: repositories, code, issues, a repository or a file.",
    "mimeType": MIME_TYPE,
}
# The view draws its own cards on the host's background.
RESOURCE_META: Json = {"ui": {"prefersBorder": False}}
# Neither pathlib nor html: this module loads with every /mcp cold start, and they cost milliseconds.
_PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "view.html")
_PLACEHOLDER = 'data-github-web="https://github.com"'
_ESCAPES = str.maketrans({"&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;", "'": "&#x27;"})
_pages: dict[str, str] = {}


def github_web(env: Mapping[str, str]) -> str:
    """The web origin links may point at besides github.com: GitHub Enterprise Server's, over https."""
    web = env.get("GITHUB_WEB_URL") or web_url(env.get("GITHUB_API_URL") or "https://api.github.com")
    parts = urlsplit(web)
    return f"https://{parts.netloc}" if parts.scheme == "https" and parts.netloc else "https://github.com"


def page(web: str) -> str:
    """The view, its links allowed to `web` besides github.com; read once per instance."""
    if web not in _pages:
        with open(_PAGE, encoding="utf-8") as file:
            text = file.read()
        _pages[web] = text.replace(_PLACEHOLDER, f'data-github-web="{web.translate(_ESCAPES)}"', 1)
    return _pages[web]


def contents(uri: object) -> list[Json] | None:
    """What `resources/read` answers for `uri`; None when there is no such resource."""
    if uri != URI:
        return None
    return [{"uri": URI, "mimeType": MIME_TYPE, "text": page(github_web(os.environ)), "_meta": RESOURCE_META}]
