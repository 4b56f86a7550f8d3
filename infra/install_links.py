"""The links that add a stack's MCP server to an assistant in one click, and the Claude Code line.

Pure functions of the server's URL, in each client's own documented format:

- Cursor: `cursor://anysphere.cursor-deeplink/mcp/install?name=$NAME&config=$BASE64_ENCODED_CONFIG`,
  the config being the server's entry as in `mcp.json` (https://cursor.com/docs/mcp/install-links).
- VS Code: `vscode:mcp/install?${encodeURIComponent(JSON.stringify(obj))}`, `obj` being what
  `code --add-mcp` takes: the name and the server's `mcp.json` entry
  (https://code.visualstudio.com/docs/copilot/guides/mcp-developer-guide#_mcp-url-handler).
- Claude Code: `claude mcp add --transport http <name> <url>` (https://code.claude.com/docs/en/mcp).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

# The key the server is saved under in each client's configuration; the tools' own name.
NAME = "github-search"


def _json(value: dict[str, str]) -> str:
    return json.dumps(value, separators=(",", ":"))


def cursor_link(mcp_url: str, name: str = NAME) -> str:
    config = base64.b64encode(_json({"url": mcp_url}).encode()).decode()
    # A query value, percent-encoded as URLSearchParams writes it: base64's "=" padding goes as %3D.
    return "cursor://anysphere.cursor-deeplink/mcp/install?" + urlencode({"name": name, "config": config})


def vscode_link(mcp_url: str, name: str = NAME, *, insiders: bool = False) -> str:
    scheme = "vscode-insiders" if insiders else "vscode"
    # encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) as they are; quote() with that safe set matches it.
    return f"{scheme}:mcp/install?" + quote(_json({"name": name, "type": "http", "url": mcp_url}), safe="-_.!~*'()")


def claude_code_command(mcp_url: str, name: str = NAME) -> str:
    return f"claude mcp add --transport http {name} {mcp_url}"
