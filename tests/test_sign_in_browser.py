"""The consent page in a real browser: headless Chromium (Debian's package, which `make test`
installs), driven by Playwright. It renders, its cookie is kept, Allow leads through GitHub to
the app, an approved app skips it, and no other site can frame it."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import requests
from playwright.sync_api import Browser, Page, Playwright
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.signin_helpers import MetadataHost, authorize_url, pkce, query, redeem, register
from tests.signin_helpers import Signed as SignedIn
from tools.background import LocalServer, free_port
from tools.fake_github import FakeGitHub
from tools.synth import ROOT

SCREENSHOT = ROOT / "docs" / "consent-page.png"


def authorization(base: str, callback: str, client_id: str | None = None) -> tuple[str, str, str]:
    client_id = client_id or register(base, client_name="Claude", redirect_uris=[callback])["client_id"]
    verifier, challenge = pkce()
    return authorize_url(base, client_id, challenge, redirect_uri=callback, state="from-the-app"), client_id, verifier


def landed(page: Page, callback: str, action: object) -> str:
    """Where the browser is sent at the end: the app's callback, where nothing listens (so the
    request fails, and Chromium shows its error page once it has)."""
    with page.expect_event("requestfailed", lambda request: request.url.startswith(callback)) as failed:
        try:
            action()  # type: ignore[operator]
        except PlaywrightError as exc:  # a navigation that ends at the unreachable callback
            assert "chrome-error" in str(exc) or "ERR_CONNECTION_REFUSED" in str(exc), exc
    page.wait_for_load_state()
    url: str = failed.value.url
    return url


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a_person_allows_an_app_in_chromium_and_the_app_gets_its_code(
    chromium: Browser, signin: LocalServer, fake: FakeGitHub, tmp_path: Path
):
    callback = f"http://127.0.0.1:{free_port()}/callback"  # nothing listens: the app is not running
    url, client_id, verifier = authorization(signin.base, callback)
    context = chromium.new_context(viewport={"width": 760, "height": 560})
    page = context.new_page()
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert page.title() == "Allow Claude to use GitHub Search?"
    assert (
        page.get_by_role("button", name="Allow").is_visible() and page.get_by_role("button", name="Cancel").is_visible()
    )
    assert "search and read public GitHub as you" in page.inner_text("body")
    shot = page.screenshot(full_page=True)
    assert png_size(shot)[0] == 760
    (tmp_path / "consent-page.png").write_bytes(shot)
    if os.environ.get("UPDATE_SCREENSHOT"):
        SCREENSHOT.write_bytes(shot)
    assert png_size(SCREENSHOT.read_bytes())[0] == 760  # the one in docs/ is this page's, at this width
    [cookie] = context.cookies()
    assert (
        cookie["name"].startswith("__Host-") and cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    )

    answer = query(landed(page, callback, lambda: page.get_by_role("button", name="Allow").click()))
    assert answer["state"] == "from-the-app" and answer["iss"] == signin.base and answer["code"]
    tokens = redeem(signin.base, SignedIn(client_id, verifier, answer, None), redirect_uri=callback)  # type: ignore[arg-type]
    assert tokens.status_code == 200, tokens.text

    # The same browser, the same app: no consent page this time.
    # (Each step in a new tab of the same browser: the last one is still busy with its error page.)
    url, _, _ = authorization(signin.base, callback, client_id)
    tab = context.new_page()
    again = landed(tab, callback, lambda: tab.goto(url))
    assert query(again)["code"]
    # Another app in the same browser asks again.
    url, _, _ = authorization(signin.base, callback)
    tab = context.new_page()
    assert tab.goto(url) is not None and tab.title() == "Allow Claude to use GitHub Search?"
    context.close()


def test_cancel_sends_the_person_back_with_access_denied(chromium: Browser, signin: LocalServer, fake: FakeGitHub):
    callback = f"http://127.0.0.1:{free_port()}/callback"
    url, _, _ = authorization(signin.base, callback)
    page = chromium.new_page()
    page.goto(url)
    answer = query(landed(page, callback, lambda: page.get_by_role("button", name="Cancel").click()))
    assert answer["error"] == "access_denied" and "code" not in answer
    assert not any(s.path == "/login/oauth/authorize" for s in fake.seen)
    page.close()


def test_no_other_site_can_frame_the_consent_page(chromium: Browser, signin: LocalServer, fake: FakeGitHub):
    """Clickjacking: a page elsewhere puts the consent page in an invisible frame over its own button."""
    url, _, _ = authorization(signin.base, "http://127.0.0.1:1/callback")
    host = MetadataHost()  # another origin (another port)
    host.serve(
        "/trap.html",
        f'<!doctype html><iframe id="f" src="{url}" width="600" height="400"></iframe>'.encode(),
        headers={"Content-Type": "text/html"},
    )
    page = chromium.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    page.goto(f"{host.url}/trap.html")
    page.wait_for_timeout(500)
    frame = page.frames[1]
    assert "search GitHub as you" not in frame.content()  # nothing of the page was shown in the frame
    assert any("frame-ancestors" in text for text in refused), refused
    page.close()
    host.stop()
    assert requests.get(url, timeout=10).status_code == 200  # the page itself is fine, just not framed


def test_a_backslash_redirect_uri_cannot_send_a_code_to_another_host(
    playwright: Playwright, signin: LocalServer, fake: FakeGitHub
):
    """The reported theft, as Chromium follows it. A person approved an app whose redirect is
    http://127.0.0.1:<port>/callback once. A stranger sends them a link to /authorize with the
    same client_id (a public value), their own PKCE challenge and the redirect URI
    `http://attacker.example\\@127.0.0.1:<port>/callback`, which is host 127.0.0.1 to Python and
    host attacker.example to a browser. Before the fix the browser signed in silently and landed
    on the attacker's host with the code; now it stops at the refusal page, and the attacker's
    host (attacker.example, mapped to a server on loopback) never hears from it."""
    attacker = MetadataHost()
    attacker_port = attacker.url.rsplit(":", 1)[1]
    mapped = f"--host-resolver-rules=MAP attacker.example 127.0.0.1:{attacker_port}"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, mapped])
    try:
        context = browser.new_context()
        port = free_port()
        callback = f"http://127.0.0.1:{port}/callback"
        url, client_id, _ = authorization(signin.base, callback)
        page = context.new_page()
        page.goto(url)
        assert query(landed(page, callback, lambda: page.get_by_role("button", name="Allow").click()))["code"]

        # The mapping works: this browser reaches "attacker.example" on loopback.
        probe = context.new_page()
        probe.goto("http://attacker.example/probe")
        pages = lambda: [path for path in attacker.seen if path != "/favicon.ico"]  # noqa: E731
        assert pages() == ["/probe"]

        _, stranger_challenge = pkce()
        theft = authorize_url(
            signin.base,
            client_id,
            stranger_challenge,
            redirect_uri=f"http://attacker.example\\@127.0.0.1:{port}/callback",
            state="stolen",
        )
        tab = context.new_page()
        tab.goto(theft)
        tab.wait_for_load_state()
        assert tab.url.startswith(signin.base + "/authorize"), tab.url
        assert "This app cannot sign in" in tab.inner_text("body") and "backslash" in tab.inner_text("body")
        assert pages() == ["/probe"]  # no code, no visit
    finally:
        browser.close()
        attacker.stop()


def test_an_approval_for_one_redirect_uri_sends_no_code_to_another_in_chromium(
    chromium: Browser, signin: LocalServer, fake: FakeGitHub
):
    """The second review's theft, as Chromium follows it. "Claude Code" registers a loopback URI
    and https://attacker.example/steal; the person approves the loopback one. A link later opens
    /authorize with the attacker's URI and PKCE challenge in the same browser. Before the fix the
    browser went to GitHub (which re-approves a known app silently) and on to attacker.example
    with a code; now the consent page asks, naming the attacker's address, and nothing goes there."""
    port = free_port()
    callback = f"http://127.0.0.1:{port}/callback"
    steal = "https://attacker.example/steal"
    client_id = register(signin.base, client_name="Claude Code", redirect_uris=[callback, steal])["client_id"]
    url, _, _ = authorization(signin.base, callback, client_id)
    context = chromium.new_context()
    page = context.new_page()
    page.goto(url)
    assert steal not in page.content()
    assert query(landed(page, callback, lambda: page.get_by_role("button", name="Allow").click()))["code"]

    tab = context.new_page()
    requested: list[str] = []
    tab.on("request", lambda request: requested.append(request.url))
    _, stranger_challenge = pkce()
    tab.goto(authorize_url(signin.base, client_id, stranger_challenge, redirect_uri=steal, state="stolen"))
    tab.wait_for_load_state()
    assert tab.title() == "Allow Claude Code to use GitHub Search?"
    said = " ".join(tab.inner_text("body").split())
    assert "sent back to attacker.example with a code that lets it act as you, at: " + steal in said
    assert not any(u.startswith("https://attacker.example") or "/login/oauth/authorize" in u for u in requested)
    context.close()
