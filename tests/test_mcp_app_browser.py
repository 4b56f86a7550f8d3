"""The MCP App's view in headless Chromium, under the official host side.

`make dev`'s /app-preview is the host: AppBridge from @modelcontextprotocol/ext-apps (pinned in
apphost/package-lock.json, bundled by `make app-host`) mounts the view in a frame with
`sandbox="allow-scripts"` from the other local origin, under the specification's default CSP, and
feeds it a real tools/call on the local server (the fake GitHub behind it). What is asserted is what
a person sees and what reaches the host: the links it is asked to open, the tools it is asked to call.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Frame, Page

from tests.conftest import TOKEN
from tests.test_sign_in_browser import png_size
from tools.app_preview import BUNDLE, VIEW_CSP
from tools.background import LocalServer
from tools.fake_github import Answer, FakeGitHub, repository
from tools.synth import ROOT

SHOTS = {name: ROOT / "docs" / f"mcp-app-{name}.png" for name in ("repositories", "code", "dark")}
WIDTH = 760
FRAME_WIDTH = WIDTH - 2 * 12  # the preview page's padding


@pytest.fixture(scope="module")
def server(fake_server: FakeGitHub) -> Iterator[LocalServer]:
    assert BUNDLE.exists(), "build/apphost/preview.js is missing: `make app-host` builds it (part of `make test`)"
    running = LocalServer(fake_server.url, env={"GITHUB_TOKEN": TOKEN})  # code search needs one
    yield running
    running.stop()


class Shown:
    """The preview page with the view mounted, and every request the browser made."""

    def __init__(self, page: Page, requests: list[str]) -> None:
        self.page, self.requests = page, requests

    @property
    def view(self) -> Frame:
        [frame] = [f for f in self.page.frames if urlsplit(f.url).path == "/app-view"]
        return frame

    def text(self) -> str:
        return str(self.view.locator("#view").inner_text())

    def state(self, name: str) -> Any:
        return self.page.evaluate(f"window.preview.{name}")

    def host(self, script: str) -> Any:
        """Run `script` in the host page, with `bridge` the AppBridge the view is connected to."""
        return self.page.evaluate(f"async () => {{ const bridge = window.preview.bridge; {script} }}")


def show(chromium: Browser, server: LocalServer, tool: str, q: str, width: int = WIDTH, **extra: str) -> Shown:
    page = chromium.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{server.base}/app-preview?{urlencode({'tool': tool, 'q': q, **extra})}")
    page.wait_for_function("window.preview && window.preview.ready === true", timeout=15_000)
    shown = Shown(page, requests)
    until(shown.view, "!document.getElementById('view').textContent.includes('Waiting')")
    return shown


def until(frame: Frame, expression: str, timeout: float = 15) -> None:
    """Wait for `expression` to hold in the view. Not Playwright's wait_for_function: its polling
    compiles the expression inside the page, which the view's CSP (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout
    while not frame.evaluate(expression):
        assert time.monotonic() < deadline, f"the view never showed: {expression}"
        time.sleep(0.05)


def screenshot(shown: Shown, name: str, tmp_path: Path) -> None:
    """The view alone, as a chat shows it (the frame painted in full: the viewport taller than it), kept in docs/."""
    page, frame = shown.page, shown.page.locator("#view")
    box = frame.bounding_box()
    assert box is not None
    page.set_viewport_size({"width": WIDTH, "height": int(box["height"]) + 200})
    page.wait_for_timeout(200)  # the frame's repaint
    shot = frame.screenshot()
    assert png_size(shot)[0] == FRAME_WIDTH
    (tmp_path / f"mcp-app-{name}.png").write_bytes(shot)
    if os.environ.get("UPDATE_SCREENSHOT"):
        SHOTS[name].write_bytes(shot)
    assert png_size(SHOTS[name].read_bytes())[0] == FRAME_WIDTH  # the one in docs/ is this view's, at this width


def frame_height(shown: Shown) -> float:
    return float(shown.page.evaluate("document.getElementById('view').getBoundingClientRect().height"))


def links(frame: Frame) -> list[tuple[str, str]]:
    return [
        (str(a["text"]), str(a["href"]))
        for a in frame.eval_on_selector_all("a", "all => all.map(a => ({text: a.textContent, href: a.href}))")
    ]


# -- what a person sees, tool by tool --------------------------------------------------------------

REALISTIC = [
    (
        "acme-infra/terraform-aws-cloudfront",
        "Terraform module: CloudFront distributions with S3 and ALB origins, OAC and WAF",
        "HCL",
        1850,
        ["terraform", "aws", "cloudfront", "cdn"],
        False,
    ),
    (
        "edge-kit/cloudfront-functions",
        "CloudFront Functions and Lambda@Edge recipes: redirects, headers, auth",
        "JavaScript",
        912,
        ["cloudfront", "lambda-edge"],
        False,
    ),
    ("acme/private-cdn", "Our CloudFront setup for the docs site", "HCL", 3, ["terraform"], True),
    (
        "northwind/static-site-stack",
        "S3 + CloudFront static sites with one module call",
        "HCL",
        404,
        ["terraform", "static-site"],
        False,
    ),
]


def realistic_repositories() -> dict[str, Any]:
    items = []
    for n, (name, description, language, stars, topics, private) in enumerate(REALISTIC, 1):
        item = repository(n, "terraform cloudfront")
        item |= {"full_name": name, "html_url": f"https://github.com/{name}", "description": description}
        item |= {"language": language, "stargazers_count": stars, "topics": topics, "private": private}
        items.append(item)
    return {"total_count": 196, "incomplete_results": False, "items": items}


def test_repositories_show_name_description_stars_language_topics_and_private(
    chromium: Browser, server: LocalServer, fake_server: FakeGitHub, tmp_path: Path
):
    fake_server.answers.append(Answer(200, realistic_repositories()))
    shown = show(chromium, server, "search_repositories", "terraform cloudfront screenshot")
    view = shown.view
    cards = view.locator("li.card")
    assert cards.count() == 4
    first = cards.nth(0).inner_text()
    for expected in (
        "acme-infra/terraform-aws-cloudfront",
        "CloudFront distributions",
        "★ 1,850",
        "HCL",
        "cdn",
        "updated Nov 1, 2026",
    ):
        assert expected in first
    assert "Private" in cards.nth(2).inner_text() and "Private" not in first
    assert view.locator("h1").inner_text() == "Repositories · about 196 on GitHub"
    assert links(view)[0] == (
        "acme-infra/terraform-aws-cloudfront",
        "https://github.com/acme-infra/terraform-aws-cloudfront",
    )
    screenshot(shown, "repositories", tmp_path)
    shown.page.close()


def test_code_hits_show_the_matched_lines_marked_and_open_the_file_in_place(
    chromium: Browser, server: LocalServer, tmp_path: Path
):
    shown = show(chromium, server, "search_code", "WebAcl language:python", limit="3")
    view = shown.view
    assert view.locator("li.card").count() == 3
    first = view.locator("li.card").nth(0)
    assert first.locator("h2 a").inner_text() == "src/module_1/handler.py" and "octo-1/code-1" in first.inner_text()
    marks = first.locator("mark").all_inner_texts()
    assert marks and set(marks) == {"WebAcl"}  # the query's word, not its qualifier
    assert "language:python" not in marks
    # "Show the file": a tools/call through the host, shown in place; again: hidden. The host's frame
    # follows the view's size both ways.
    closed = frame_height(shown)
    first.get_by_role("button", name="Show the file").click()
    first.locator(".lines .n").first.wait_for()
    assert shown.state("calls")[-1] == {
        "name": "get_file",
        "arguments": {"owner": "octo-1", "repo": "code-1", "path": "src/module_1/handler.py"},
    }
    shown.page.wait_for_function(f"document.getElementById('view').getBoundingClientRect().height > {closed} + 200")
    numbers = first.locator(".lines .n").all_inner_texts()
    assert numbers[:3] == ["1", "2", "3"] and first.get_by_role("button", name="Hide the file").is_visible()
    first.get_by_role("button", name="Hide the file").click()
    assert first.locator(".lines").count() == 0
    shown.page.wait_for_function(f"document.getElementById('view').getBoundingClientRect().height === {closed}")
    screenshot(shown, "code", tmp_path)
    shown.page.close()


def test_issues_show_state_labels_comments_author_and_repository(
    chromium: Browser, server: LocalServer, tmp_path: Path
):
    shown = show(chromium, server, "search_issues", "repo:octo/tracker crash", limit="8")
    cards = shown.view.locator("li.card")
    assert cards.count() == 8
    states = [cards.nth(n).locator(".badge").first.inner_text() for n in range(8)]
    assert states == ["open", "closed", "open", "closed", "open", "merged", "open", "closed"]
    sixth = cards.nth(5).inner_text()
    for expected in ("octo/tracker#6", "pull request", "by user6", "12 comments", "bug", "area/tracker"):
        assert expected in sixth
    shown.page.check("#theme")  # the host's theme changes: host-context-changed, the view follows
    until(shown.view, "document.documentElement.dataset.theme === 'dark'")
    assert background(shown.view) == "rgb(13, 17, 23)"
    screenshot(shown, "dark", tmp_path)
    shown.page.close()


def test_a_repository_shows_its_facts_and_readme_as_text(chromium: Browser, server: LocalServer):
    shown = show(chromium, server, "get_repository", "pulumi/pulumi-aws")
    text = shown.text()
    for expected in (
        "pulumi/pulumi-aws",
        "The pulumi-aws project",
        "Stars\n1,234",
        "License\nApache-2.0",
        "Default branch\nmain",
    ):
        assert expected in text
    assert shown.view.get_by_label("README").inner_text().startswith("# pulumi-aws")
    shown.page.close()


def test_a_file_shows_its_lines_numbered_and_a_directory_its_entries(chromium: Browser, server: LocalServer):
    shown = show(chromium, server, "get_file", "pulumi/pulumi-aws/src/provider.py")
    numbers = shown.view.locator(".lines .n").all_inner_texts()
    lines = shown.view.locator(".lines .t").all_inner_texts()
    assert numbers == [str(n) for n in range(1, len(lines) + 1)] and len(lines) > 10
    assert lines[0] == "# src/provider.py in pulumi/pulumi-aws"
    shown.page.close()
    shown = show(chromium, server, "get_file", "pulumi/pulumi-aws/docs")
    assert "📄 docs/page-1.md" in shown.text()
    shown.page.close()


def test_the_connectors_tools_show_their_results_and_documents(chromium: Browser, server: LocalServer):
    shown = show(chromium, server, "search", "mcp server")
    assert shown.view.locator("li.card a").count() == 10
    shown.page.close()
    shown = show(chromium, server, "fetch", "pulumi/pulumi-aws")
    assert links(shown.view)[0] == ("pulumi/pulumi-aws", "https://github.com/pulumi/pulumi-aws")
    assert "Stars: 1234" in shown.text()
    shown.page.close()


def test_an_error_shows_its_message_not_a_blank_frame(chromium: Browser, server: LocalServer):
    shown = show(chromium, server, "get_repository", "octo/missing")
    alert = shown.view.get_by_role("alert")
    assert "octo/missing not found" in alert.inner_text()
    shown.page.close()


# -- what reaches the host, and what never leaves ---------------------------------------------------


def test_a_click_asks_the_host_to_open_the_page_and_the_frame_never_navigates(chromium: Browser, server: LocalServer):
    shown = show(chromium, server, "search_repositories", "click me")
    shown.view.locator("li.card h2 a").first.click()
    shown.page.wait_for_function("window.preview.opened.length === 1")
    shown.page.wait_for_timeout(300)  # time for a navigation the click should not have started
    assert shown.state("opened") == ["https://github.com/octo-1/click-me"]
    assert urlsplit(shown.view.url).path == "/app-view" and shown.view.locator("li.card").count() == 5
    assert {urlsplit(url).hostname for url in shown.requests} == {"127.0.0.1", "localhost"}
    assert shown.page.locator("#opened a").get_attribute("href") == "https://github.com/octo-1/click-me"
    shown.page.close()


def test_the_view_is_sandboxed_on_another_origin_under_the_default_csp_and_loads_nothing_else(
    chromium: Browser, server: LocalServer
):
    shown = show(chromium, server, "search_code", "WebAcl")
    frame = shown.page.locator("#view")
    assert frame.get_attribute("sandbox") == "allow-scripts"
    host, view = urlsplit(shown.page.url), urlsplit(shown.view.url)
    assert (host.hostname, view.hostname) == ("127.0.0.1", "localhost") and host.port == view.port
    assert shown.view.evaluate("origin") == "null"  # sandboxed: an opaque origin, no cookies, no storage
    answer = shown.page.request.get(shown.view.url)
    assert answer.headers["content-security-policy"] == VIEW_CSP
    local = {f"127.0.0.1:{server.port}", f"localhost:{server.port}"}
    assert {urlsplit(url).netloc for url in shown.requests} == local
    assert {urlsplit(url).path for url in shown.requests} == {
        "/app-preview",
        "/app-preview/preview.js",
        "/app-view",
        "/mcp",
    }
    shown.page.close()


def test_strangers_text_stays_text_and_only_github_links_are_links(
    chromium: Browser, server: LocalServer, fake_server: FakeGitHub
):
    hostile = "<img src=x onerror=alert(1)>"
    items = [repository(n, "hostile") for n in (1, 2)]
    items[0] |= {"description": hostile, "topics": ["<script>alert(2)</script>"]}
    items[1] |= {"full_name": "evil/site", "html_url": "https://evil.example/evil/site"}
    fake_server.answers.append(Answer(200, {"total_count": 2, "incomplete_results": False, "items": items}))
    shown = show(chromium, server, "search_repositories", "hostile strangers")
    view = shown.view
    assert hostile in shown.text() and "<script>alert(2)</script>" in shown.text()
    assert view.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert view.evaluate("document.scripts.length") == 1  # its own, inline
    assert [text for text, _ in links(view)] == ["octo-1/hostile"]  # evil.example is text, not a link
    # A server (or a page of GitHub) that sends what this one never maps: javascript: and data: links,
    # markup in a README. The host passes it on; the view still shows text.
    shown.host(
        """await bridge.sendToolResult({structuredContent: {full_name: "x/y", private: false,
        url: "javascript:alert(3)", description: "<b>bold</b>", star: 1, forks: 0, open_issues: 0,
        language: null, topics: [], license: null, default_branch: "main", archived: false,
        updated_at: null, pushed_at: null, readme: "<script>alert(4)</script>", readme_truncated: false},
        content: []});"""
    )
    until(view, "document.body.innerText.includes('<b>bold</b>')")
    assert links(view) == [] and "x/y" in shown.text() and "<script>alert(4)</script>" in shown.text()
    shown.host(
        """await bridge.sendToolResult({structuredContent: {results: [
        {id: "a/b", title: "a/b", url: "data:text/html,<script>alert(5)</script>"}]}, content: []});"""
    )
    until(view, "document.body.innerText.includes('a/b')")
    assert links(view) == [] and view.evaluate("document.querySelectorAll('img, b').length") == 0
    shown.page.close()


# -- following the host ------------------------------------------------------------------------------


def background(frame: Frame) -> str:
    return str(frame.evaluate("getComputedStyle(document.body).backgroundColor"))


def test_the_view_follows_the_hosts_theme_and_variables_and_reports_its_size(chromium: Browser, server: LocalServer):
    shown = show(chromium, server, "search_repositories", "themes")
    assert background(shown.view) == "rgb(255, 255, 255)"  # light, by the host's context
    shown.host(
        """bridge.setHostContext({...window.preview.context,
        styles: {variables: {"--color-text-info": "rgb(1, 2, 3)",
                             "--color-background-primary": "rgb(250, 249, 245)"}}});"""
    )
    until(shown.view, "getComputedStyle(document.querySelector('a')).color === 'rgb(1, 2, 3)'")
    assert background(shown.view) == "rgb(250, 249, 245)"
    # The host sizes the frame to what the view reports: the whole list, no scroll inside the frame.
    content = shown.view.evaluate("document.body.getBoundingClientRect().height")
    assert content > 400 and abs(frame_height(shown) - content) <= 1
    assert shown.view.evaluate("document.documentElement.scrollHeight - document.documentElement.clientHeight") <= 1
    shown.page.close()


@pytest.mark.parametrize(
    ("tool", "q"),
    [
        ("search_code", "WebAcl return_a_value_from_a_very_long_function_name_that_never_breaks_anywhere"),
        ("get_file", "pulumi/pulumi-aws/src/provider.py"),
        ("search_issues", "repo:octo/tracker a-very-long-query-word-that-does-not-break-anywhere-at-all"),
    ],
)
def test_no_horizontal_scroll_at_360_px(chromium: Browser, server: LocalServer, tool: str, q: str):
    shown = show(chromium, server, tool, q, width=360)
    overflow = shown.view.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0
    assert shown.page.evaluate("document.documentElement.scrollWidth") <= 360
    shown.page.close()


def test_the_preview_says_what_to_write_when_the_query_does_not_fit(chromium: Browser, server: LocalServer):
    page = chromium.new_page()
    answer = page.goto(f"{server.base}/app-preview?tool=get_file&q=just-a-name")
    assert answer is not None and answer.status == 400
    assert re.search(r"get_file takes q=owner/repo/path, e\.g\. q=\S+", page.get_by_role("alert").inner_text())
    page.close()
