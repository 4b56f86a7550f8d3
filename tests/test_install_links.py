"""One click from a stack's own page: "Add to Cursor" and "Add to VS Code" carry that stack's /mcp URL,
in the format each client documents, and the Claude Code line beside them.

The formats are checked against the clients' own recipes, run as written in Node (Cursor's
`JSON.stringify` then base64, as a query value; VS Code's `encodeURIComponent(JSON.stringify(obj))`),
and read back as a client reads a link. The page is checked as
rendered for a deployed stack (the program's recorded objects), as the local server renders it for
the host it was asked for, and as Chromium parses it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from playwright.sync_api import Browser

from infra.install_links import NAME, claude_code_command, cursor_link, vscode_link
from infra.site import render
from tests.program import Graph, recording
from tests.test_program import objects
from tests.test_sign_in_browser import png_size
from tools.background import LocalServer
from tools.fake_github import FakeGitHub
from tools.synth import ROOT

SCREENSHOT = ROOT / "docs" / "landing-page.png"
# A URL whose Cursor config ends in base64's "==" padding, which the link carries as %3D%3D.
PADDED_URL = "https://d3ctxn8zq4lv.cloudfront.net/mcp"


def cursor_config(link: str) -> dict[str, str]:
    """The server entry a Cursor link installs, read as a query parser reads it."""
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("cursor", "anysphere.cursor-deeplink", "/mcp/install")
    query = parse_qs(parts.query, strict_parsing=True)
    assert set(query) == {"name", "config"} and query["name"] == [NAME]
    config: dict[str, str] = json.loads(base64.b64decode(query["config"][0], validate=True))
    return config


def vscode_entry(link: str) -> dict[str, str]:
    scheme, _, rest = link.partition(":")
    assert scheme in {"vscode", "vscode-insiders"} and rest.startswith("mcp/install?")
    entry: dict[str, str] = json.loads(unquote(rest.removeprefix("mcp/install?")))
    return entry


def node(script: str, *args: str) -> str:
    found = shutil.which("node")
    assert found, "node is missing: make test needs Node 20 or newer (the README's Quick start)"
    return subprocess.run(
        [found, "-e", script, *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def test_the_cursor_link_is_what_cursors_own_recipe_makes():
    config = base64.b64encode(json.dumps({"url": PADDED_URL}, separators=(",", ":")).encode()).decode()
    assert config.endswith("==")
    recipe = node(
        "const config = Buffer.from(JSON.stringify({url: process.argv[1]})).toString('base64');"
        "console.log('cursor://anysphere.cursor-deeplink/mcp/install?' +"
        " new URLSearchParams({name: process.argv[2], config}).toString())",
        PADDED_URL,
        NAME,
    )
    assert cursor_link(PADDED_URL) == recipe
    assert recipe.endswith("%3D%3D")  # as Cursor's own link generator writes it
    assert cursor_config(cursor_link(PADDED_URL)) == {"url": PADDED_URL}


def test_the_vscode_link_is_what_vscodes_own_recipe_makes():
    for insiders, scheme in ((False, "vscode"), (True, "vscode-insiders")):
        recipe = node(
            "const obj = {name: process.argv[2], type: 'http', url: process.argv[1]};"
            f"console.log('{scheme}:mcp/install?' + encodeURIComponent(JSON.stringify(obj)))",
            PADDED_URL,
            NAME,
        )
        link = vscode_link(PADDED_URL, insiders=insiders)
        assert link == recipe
        assert vscode_entry(link) == {"name": NAME, "type": "http", "url": PADDED_URL}


class Links(HTMLParser):
    """Each anchor's text and href, with entities decoded, as a browser reads them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self._href: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.found[data.strip()] = self._href
            self._href = None


def assert_page_installs(page: str, mcp_url: str) -> None:
    links = Links(page).found
    assert cursor_config(links["Add to Cursor"]) == {"url": mcp_url}
    assert vscode_entry(links["Add to VS Code"]) == {"name": NAME, "type": "http", "url": mcp_url}
    assert links["Add to VS Code Insiders"].startswith("vscode-insiders:")
    assert vscode_entry(links["Add to VS Code Insiders"])["url"] == mcp_url
    assert claude_code_command(mcp_url) in page
    assert "{{" not in page


@pytest.mark.parametrize("config", ["prod", "sign-in"])
def test_a_deployed_stacks_page_adds_its_own_mcp_url(config: str):
    graph = Graph(recording(config))
    page = objects(graph)["index.html"]["content"]
    mcp_url = graph.outputs["mcpUrl"]
    assert mcp_url == graph.outputs["url"] + "/mcp"
    assert_page_installs(page, mcp_url)


def test_chatgpts_authentication_choice_follows_sign_in():
    without = render("index.html", "https://example.org").decode()
    with_sign_in = render("index.html", "https://example.org", sign_in=True).decode()
    assert "authentication <em>No authentication</em>" in without
    assert "authentication <em>OAuth (it registers itself)</em>" in with_sign_in


@pytest.fixture(scope="module")
def server(fake_server: FakeGitHub) -> Iterator[LocalServer]:
    running = LocalServer(fake_server.url)
    yield running
    running.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_local_page_adds_the_url_it_was_asked_for(server: LocalServer, host: str):
    authority = f"{host}:{server.port}"
    page = requests.get(server.base + "/", headers={"Host": authority}, timeout=10)
    assert page.status_code == 200
    assert_page_installs(page.text, f"http://{authority}/mcp")
    assert f"Claude Code   {claude_code_command(server.base + '/mcp')}" in server.output()


def test_a_person_sees_the_buttons_in_chromium(chromium: Browser, server: LocalServer):
    page = chromium.new_page(viewport={"width": 760, "height": 900})
    page.goto(server.base + "/")
    buttons = page.locator("a.button")
    assert buttons.all_inner_texts() == ["Add to Cursor", "Add to VS Code", "Add to VS Code Insiders"]
    for button in buttons.all():
        assert button.is_visible() and button.bounding_box()["height"] >= 30  # type: ignore[index]
    href = page.get_by_role("link", name="Add to Cursor").get_attribute("href") or ""
    assert cursor_config(href) == {"url": server.base + "/mcp"}  # the &amp; read back as &
    shot = page.screenshot(full_page=True)
    if os.environ.get("UPDATE_SCREENSHOT"):
        SCREENSHOT.write_bytes(shot)
    assert png_size(SCREENSHOT.read_bytes())[0] == 760
    page.close()


def test_on_a_phone_nothing_runs_off_the_page(chromium: Browser, server: LocalServer):
    """The long code lines (the Claude Code command, the API paths) wrap instead of widening the page."""
    page = chromium.new_page(viewport={"width": 360, "height": 800})
    page.goto(server.base + "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for button in page.locator("a.button").all():
        box = button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 360
    page.close()
