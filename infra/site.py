"""The static files a stack (or the local server) serves, rendered for one public base URL.

Pure functions: the Pulumi program uploads what `site_files` returns, and `make dev` serves the
same list, so a deployed stack and a laptop can never disagree on paths, types or contents.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from infra.install_links import claude_code_command, cursor_link, vscode_link

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
VERSION = "0.1.0"
# Short, so that a changed file is visible at the edge within minutes (no invalidation needed).
CACHE_CONTROL = "public, max-age=300"
_BASE_URL = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


@dataclass(frozen=True)
class SiteFile:
    key: str  # object key, and the URL path without its leading slash
    body: bytes
    content_type: str
    cache_control: str = CACHE_CONTROL


@dataclass(frozen=True)
class Entry:
    key: str
    source: str  # file name in static/
    content_type: str
    templated: bool  # rendered with the base URL, or served as is


LAYOUT = (
    Entry("index.html", "index.html", "text/html; charset=utf-8", templated=True),
    Entry(".well-known/ai-plugin.json", "ai-plugin.json", "application/json", templated=True),
    Entry("openapi.yaml", "openapi.yaml", "application/yaml", templated=True),
    Entry("legal", "legal.html", "text/html; charset=utf-8", templated=False),  # the URL the manifest names
    Entry("logo.png", "logo.png", "image/png", templated=False),
)


def _json_text(value: str) -> str:
    """A value to place inside a JSON string literal."""
    return json.dumps(value)[1:-1]


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace every {{name}}; an unknown name is an error, not a silent blank."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise ValueError(f"template placeholder {match.group(0)} has no value")
        return values[match.group(1)]

    return _PLACEHOLDER.sub(value, text)


# How the pages describe /mcp's authentication, without and with sign-in (`auth: github`).
MCP_AUTH = {
    False: "Streamable HTTP, no authentication",
    True: "Streamable HTTP; your client signs you in with GitHub on first use (OAuth 2.1)",
}
# What ChatGPT's "Create app" form is set to (its Authentication choice).
CONNECTOR_AUTH = {False: "No authentication", True: "OAuth (it registers itself)"}
ACTION_AUTH = {
    False: "none",
    True: "OAuth, with a client registered at /register (its id and secret), authorization URL /authorize, "
    "token URL /token, scope search",
}


def scope_sentence(scope: tuple[str, ...]) -> str:
    """What the pages say the stack covers: all of GitHub, or its owner's fence (`searchScope`)."""
    if not scope:
        return "It answers about every public repository on GitHub."
    return (
        f"It answers only about {', '.join(scope)}, as its owner chose: every search stays within them, "
        "and anything outside is refused."
    )


def _manifest_auth(base_url: str) -> dict[str, str]:
    """The legacy plugin manifest's OAuth block, for a stack with sign-in."""
    return {
        "type": "oauth",
        "client_url": f"{base_url}/authorize",
        "authorization_url": f"{base_url}/token",
        "authorization_content_type": "application/x-www-form-urlencoded",
        "scope": "search",
    }


def render(
    name: str,
    base_url: str,
    contact_email: str | None = None,
    static_dir: Path = STATIC_DIR,
    *,
    sign_in: bool = False,
    scope: tuple[str, ...] = (),
) -> bytes:
    if not _BASE_URL.match(base_url):
        raise ValueError(
            f"base URL must look like https://host[:port] with no path or trailing slash, got {base_url!r}"
        )
    text = (static_dir / name).read_text(encoding="utf-8")
    if name.endswith(".json"):
        values = {
            "base_url": base_url,
            "contact_email": contact_email or "",
            "version": VERSION,
            "scope": scope_sentence(scope),
        }
        manifest = json.loads(substitute(text, {k: _json_text(v) for k, v in values.items()}))
        if not contact_email:
            del manifest["contact_email"]  # better absent than an empty address
        if sign_in:
            manifest["auth"] = _manifest_auth(base_url)
        return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    mcp_url = f"{base_url}/mcp"
    values = {
        "base_url": base_url,
        "mcp_url": mcp_url,
        "version": VERSION,
        "mcp_auth": MCP_AUTH[sign_in],
        "connector_auth": CONNECTOR_AUTH[sign_in],
        "action_auth": ACTION_AUTH[sign_in],
        "scope": scope_sentence(scope),
        # Attribute values: a link's & is &amp; in HTML.
        "cursor_link": html.escape(cursor_link(mcp_url)),
        "vscode_link": html.escape(vscode_link(mcp_url)),
        "vscode_insiders_link": html.escape(vscode_link(mcp_url, insiders=True)),
        "claude_code": html.escape(claude_code_command(mcp_url)),
    }
    return substitute(text, values).encode()


def body(
    entry: Entry,
    base_url: str,
    contact_email: str | None = None,
    static_dir: Path = STATIC_DIR,
    *,
    sign_in: bool = False,
    scope: tuple[str, ...] = (),
) -> bytes:
    if entry.templated:
        return render(entry.source, base_url, contact_email, static_dir, sign_in=sign_in, scope=scope)
    return (static_dir / entry.source).read_bytes()


def site_files(
    base_url: str,
    contact_email: str | None = None,
    static_dir: Path = STATIC_DIR,
    *,
    sign_in: bool = False,
    scope: tuple[str, ...] = (),
) -> list[SiteFile]:
    return [
        SiteFile(e.key, body(e, base_url, contact_email, static_dir, sign_in=sign_in, scope=scope), e.content_type)
        for e in LAYOUT
    ]
