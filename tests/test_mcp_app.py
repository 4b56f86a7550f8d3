"""The MCP App's server side: every tool names the view, and the view is a resource any host can
list and read, in both eras of the protocol (driven by the MCP Python SDK over real HTTP, and by raw
requests for what it never sends). How the view looks and behaves: tests/test_mcp_app_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from mcp.client.client import Client
from mcp_front import view

from tests.conftest import TOKEN
from tests.test_mcp import MODES, modern, post, rpc_error, with_client
from tools import app_preview
from tools.background import LocalServer
from tools.fake_github import FakeGitHub

URI = "ui://github-search/view"
MIME = "text/html;profile=mcp-app"


@pytest.fixture(scope="module")
def server(fake_server: FakeGitHub) -> Iterator[LocalServer]:
    running = LocalServer(fake_server.url, env={"GITHUB_TOKEN": TOKEN})
    yield running
    running.stop()


@pytest.mark.parametrize("mode", MODES)
def test_every_tool_names_the_view_and_the_host_can_read_it(server: LocalServer, mode: str):
    async def work(client: Client) -> Any:
        tools = (await client.list_tools()).tools
        listed = (await client.list_resources()).resources
        meta = tools[0].meta or {}
        read = await client.read_resource(meta["ui"]["resourceUri"])
        return client.session.server_capabilities, tools, listed, read

    capabilities, tools, listed, read = with_client(f"{server.base}/mcp", mode, work)
    if mode != "2026-07-28":  # pinned to the modern era, the SDK skips discovery (raw: test_mcp.py)
        assert capabilities.extensions == {"io.modelcontextprotocol/ui": {}}
        assert capabilities.resources is not None
    assert {tool.name: tool.meta for tool in tools} == {tool.name: {"ui": {"resourceUri": URI}} for tool in tools}
    [resource] = listed
    assert (resource.uri, resource.mime_type, resource.title) == (URI, MIME, "GitHub search results")
    [contents] = read.contents
    assert (contents.uri, contents.mime_type) == (URI, MIME)
    assert contents.meta == {"ui": {"prefersBorder": False}}  # no csp: the host's strictest default holds
    page = contents.text
    assert page.lower().startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert 'data-github-web="https://github.com"' in page


def test_the_view_loads_nothing_from_elsewhere():
    """Self-contained, so the spec's default CSP (no connect-src, no outside scripts) never bites; the
    browser test watches the network too, this names the page's own text."""
    page = view.page("https://github.com")
    assert re.findall(r"<script\b[^>]*>", page) == ["<script>"]  # one, inline
    assert not re.search(r"<link\b|<img\b|<iframe\b|@import|url\(|\bfetch\(|XMLHttpRequest|WebSocket|\.innerHTML", page)
    assert "eval(" not in page and "new Function" not in page


@pytest.mark.parametrize(
    ("env", "web"),
    [
        ({}, "https://github.com"),
        ({"GITHUB_API_URL": "https://api.github.com"}, "https://github.com"),
        ({"GITHUB_API_URL": "https://ghe.example.com/api/v3"}, "https://ghe.example.com"),
        (
            {"GITHUB_API_URL": "https://ghe.example.com/api/v3", "GITHUB_WEB_URL": "https://code.example.com/"},
            "https://code.example.com",
        ),
        ({"GITHUB_API_URL": "http://127.0.0.1:8080"}, "https://github.com"),  # links only over https
    ],
)
def test_links_may_go_to_github_or_the_configured_enterprise_host(env: dict[str, str], web: str):
    assert view.github_web(env) == web
    assert f'data-github-web="{web}"' in view.page(web)


def test_the_web_host_is_written_into_the_page_as_an_attribute_value_only():
    page = view.page('https://x"><script>alert(1)</script>')
    assert "<script>alert(1)" not in page and 'data-github-web="https://x&quot;&gt;&lt;script&gt;' in page


def test_modern_resources_carry_the_caching_hints(server: LocalServer):
    for method, params in (("resources/list", {}), ("resources/templates/list", {}), ("resources/read", {"uri": URI})):
        result = post(server, *modern(method, params)).json()["result"]
        assert result["resultType"] == "complete" and result["ttlMs"] > 0 and result["cacheScope"] == "public"
    listed = post(server, *modern("resources/templates/list")).json()["result"]
    assert listed["resourceTemplates"] == []


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_an_unknown_resource_is_invalid_params_naming_the_uri(server: LocalServer, era: str):
    uri = "ui://github-search/other"
    if era == "modern":
        error = rpc_error(post(server, *modern("resources/read", {"uri": uri})), 400, -32602)
    else:
        body = {"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": uri}}
        error = rpc_error(post(server, body), 200, -32602)
    assert error["data"] == {"uri": uri} and uri in error["message"]
    body = {"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": 7}}
    assert "'uri'" in rpc_error(post(server, body), 200, -32602)["message"]


# -- the preview page's pure parts (tools/app_preview.py; the page itself: test_mcp_app_browser.py) --


@pytest.mark.parametrize(
    ("tool", "q", "limit", "expected"),
    [
        ("search_code", " WebAcl language:python ", "3", {"query": "WebAcl language:python", "limit": 3}),
        ("search", "mcp server", "", {"query": "mcp server"}),
        ("get_repository", "pulumi/pulumi-aws", "", {"owner": "pulumi", "repo": "pulumi-aws"}),
        (
            "get_file",
            "pulumi/pulumi-aws/src/a b.py",
            "",
            {"owner": "pulumi", "repo": "pulumi-aws", "path": "src/a b.py"},
        ),
        ("get_file", "pulumi/pulumi-aws", "", {"owner": "pulumi", "repo": "pulumi-aws", "path": ""}),
        ("fetch", "pulumi/pulumi-aws#12", "", {"id": "pulumi/pulumi-aws#12"}),
    ],
)
def test_the_preview_turns_its_one_text_box_into_the_tools_arguments(
    tool: str, q: str, limit: str, expected: dict[str, object]
):
    assert app_preview.arguments(tool, q, limit) == expected


@pytest.mark.parametrize(
    ("tool", "q", "limit", "says"),
    [
        ("delete_repo", "x", "", "tool must be one of search_repositories, "),
        ("search_code", "  ", "", "q is empty; e.g. q=WebAcl language:python"),
        ("search_code", "x", "lots", "limit must be a number from 1 to 20"),
        (
            "get_repository",
            "pulumi/pulumi-aws/extra",
            "",
            "get_repository takes q=owner/repo, e.g. q=pulumi/pulumi-aws",
        ),
        ("get_file", "../etc/passwd", "", "get_file takes q=owner/repo/path"),
    ],
)
def test_the_preview_says_what_to_write_instead(tool: str, q: str, limit: str, says: str):
    with pytest.raises(app_preview.Unusable, match=re.escape(says)):
        app_preview.arguments(tool, q, limit)


def test_the_preview_puts_the_view_on_the_other_local_name_and_needs_no_sign_in():
    assert app_preview.view_origin("127.0.0.1:3333", 3333) == "http://localhost:3333"
    assert app_preview.view_origin("localhost:3333", 3333) == "http://127.0.0.1:3333"
    refused = app_preview.answer(app_preview.PAGE, {"tool": ["search"]}, "127.0.0.1:3333", 3333, sign_in=True)
    assert refused.status == 403 and b"without a token" in refused.body and b"<iframe" not in refused.body
    shown = app_preview.answer(app_preview.VIEW, {}, "localhost:3333", 3333, sign_in=False)
    assert shown.headers["Content-Security-Policy"] == app_preview.VIEW_CSP
    assert shown.body.decode() == view.page("https://github.com")
