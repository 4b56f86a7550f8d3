"""Sign-in holds against a hostile browser, a slow stranger and a GitHub outage: each attack the
security review found, over HTTP through the local server and the fake GitHub, each test failing
when its check is taken out (the browser's own reading of the backslash redirect is in
test_sign_in_browser.py, in Chromium)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import app
import pytest
import requests
from proxy import sealed, unsafe_header
from signin.clients import METADATA_TIMEOUT_SECONDS, ClientError, MetadataCache, address_problem
from signin.server import CLIENT_IDLE_TTL, MAX_REGISTRATION_BYTES, REGISTRATION_TTL, form

from tests.conftest import event
from tests.signin_helpers import (
    CALLBACK,
    MetadataHost,
    authorize_url,
    pkce,
    query,
    redeem,
    register,
    search,
    sign_in,
    signin_server,
    token,
    tokens,
)
from tools.background import LocalServer
from tools.fake_github import Answer, FakeGitHub
from tools.signin_browser import HIDDEN, Browser

REGISTERED = "http://127.0.0.1/callback"


@pytest.fixture
def base(signin: LocalServer, fake: FakeGitHub) -> str:
    return signin.base


def _authorize(base: str, client_id: str, redirect_uri: str, cookie: str | None = None, **extra: str) -> Any:
    _, challenge = pkce()
    return requests.get(
        authorize_url(base, client_id, challenge, redirect_uri=redirect_uri, **extra),
        headers={"Cookie": cookie} if cookie else {},
        allow_redirects=False,
        timeout=10,
    )


# -- a redirect URI that browsers and Python read differently ------------------------------------

# (what an attacker sends as redirect_uri for a client that registered http://127.0.0.1/callback,
# and what the refusal says). The first is the reported theft: host 127.0.0.1 to urlsplit, host
# attacker.example to every browser (WHATWG reads `\` as `/` in an http URL).
DISAGREEING = [
    ("http://attacker.example\\@127.0.0.1/callback", "backslash"),
    ("http:\\\\attacker.example\\@127.0.0.1/callback", "backslash"),
    ("http://127.0.0.1\\@attacker.example/callback", "backslash"),
    ("http://attacker.example%5C@127.0.0.1/callback", "user name or password"),
    ("http://attacker.example@127.0.0.1/callback", "user name or password"),
    ("http://127.0.0.1:9@attacker.example/callback", "user name or password"),
    ("http://127.0.0.1/call\tback", "spaces or control characters"),  # urlsplit drops the tab: /callback
    ("http://127.0.0.1/callback\n", "spaces or control characters"),
    ("http://127.0.0.1\r\n/callback", "spaces or control characters"),
    ("http://127.0.0.1:9a/callback", "port must be a number"),
    ("http://127.0.0.1:99999/callback", "port must be a number"),
    ("HTTP://127.0.0.1/callback", "lower-case scheme"),
    ("http://127.0.0.1/callback#@attacker.example", "fragment"),
]


@pytest.mark.parametrize(("uri", "says"), DISAGREEING, ids=[f"{n}-{says}" for n, (_, says) in enumerate(DISAGREEING)])
def test_a_redirect_uri_browsers_and_python_read_differently_is_refused(base: str, uri: str, says: str):
    client_id = register(base, redirect_uris=[REGISTERED])["client_id"]
    reply = _authorize(base, client_id, uri)
    assert reply.status_code == 400 and "Location" not in reply.headers
    assert "cannot be used" in reply.text and says in reply.text
    # The same check as at registration, where the same string is refused the same way.
    registered = requests.post(f"{base}/register", json={"redirect_uris": [uri]}, timeout=10)
    assert registered.status_code == 400 and says in registered.json()["error_description"]


def test_the_person_is_sent_to_the_registered_uri_with_only_the_port_put_in(base: str, fake: FakeGitHub):
    """RFC 8252: any port on loopback. The Location is written from the registered URI, so even
    a port spelled with leading zeros comes back as the number, never as the string sent."""
    client_id = register(base, redirect_uris=[REGISTERED])["client_id"]
    given = "http://127.0.0.1:0009876/callback"
    verifier, challenge = pkce()
    landed = Browser("http://127.0.0.1:9876/callback").sign_in(
        authorize_url(base, client_id, challenge, redirect_uri=given)
    )
    assert landed.startswith("http://127.0.0.1:9876/callback?code=")
    # RFC 6749 section 4.1.3: /token is sent the redirect_uri as the authorization request gave it.
    fields = {"code": query(landed)["code"], "code_verifier": verifier, "redirect_uri": given}
    fields |= {"grant_type": "authorization_code", "client_id": client_id}
    assert token(base, **fields).status_code == 200


def test_a_crlf_in_the_redirect_uri_writes_no_header(base: str):
    """The reported injection: a registered URI that ends where the attacker's header begins, and
    the same URI with CR LF in between, to fix the browser-binding cookie."""
    fixed = "__Host-github-search-browser=FIXEDBYTHEATTACKER0123456789abcdef"
    client_id = register(base, redirect_uris=[f"http://127.0.0.1/cbSet-Cookie:{fixed}"])["client_id"]
    for response_type in ("code", "x"):  # x: what went straight to an error redirect
        reply = _authorize(base, client_id, f"http://127.0.0.1/cb\r\nSet-Cookie:{fixed}", response_type=response_type)
        assert reply.status_code == 400 and "spaces or control characters" in reply.text
        assert "FIXEDBYTHEATTACKER" not in json.dumps(dict(reply.headers))


def test_a_browser_cookie_this_server_could_not_have_set_is_never_sent_back(base: str):
    client_id = register(base, redirect_uris=[REGISTERED])["client_id"]
    for forged in ("attacker-chosen", "a" * 33, "x" * 31 + ".", "x" * 31 + "\\"):
        reply = _authorize(base, client_id, REGISTERED, cookie=f"__Host-github-search-browser={forged}")
        assert reply.status_code == 200
        value = reply.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
        assert value != forged and len(value) == 32  # a new one, of the server's own making


def test_every_answer_is_sealed_a_header_with_a_control_character_is_never_sent(
    function_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """Whatever reaches a header, the function's one exit refuses CR, LF and other control bytes."""
    for name, value in (("Location", "https://a.example/\r\nSet-Cookie: x=y"), ("X-Evil", "a\nb"), ("X", "a\x00b")):
        assert unsafe_header({name: value}) == name
    assert unsafe_header({"Bad Name": "v"}) is not None and unsafe_header({"Ok": "tab\tis fine"}) is None
    assert sealed({"statusCode": 200, "headers": {"A": "b"}, "body": "{}"})["statusCode"] == 200

    def injected(request: Any, outcome: Any) -> Any:
        return {"statusCode": 302, "headers": {"Location": "https://a.example/\r\nSet-Cookie: x=y"}, "body": ""}, None

    monkeypatch.setattr(app, "_rest", injected)
    caplog.set_level(logging.ERROR)
    answer = app.handler(event({"q": "x"}))
    assert answer["statusCode"] == 500 and "Location" not in answer["headers"]
    assert json.loads(answer["body"])["error"]["code"] == "internal_error"
    assert "refused to send header Location" in caplog.text


# -- error redirects before a browser approved the client (RFC 9700 section 4.11.2) -------------


@pytest.mark.parametrize(
    "change",
    [{"response_type": "x"}, {"code_challenge_method": "plain"}, {"resource": "https://elsewhere.example/mcp"}],
)
def test_an_error_is_shown_not_redirected_until_this_browser_approved_the_client(
    base: str, fake: FakeGitHub, change: dict[str, str]
):
    """Registration is open: anyone can register https://evil.example/ and then send a link that
    would redirect straight there with an error. Shown as a page instead, until this browser has
    approved the client; then the error goes back to the client (test_sign_in.py)."""
    client_id = register(base, redirect_uris=["https://evil.example/landing"])["client_id"]
    reply = _authorize(base, client_id, "https://evil.example/landing", **change)
    assert reply.status_code == 400 and "Location" not in reply.headers
    assert "This app cannot sign in" in reply.text


# -- consent names what it covers (the second review) --------------------------------------------

STEAL = "https://attacker.example/steal"


def _consent_pages(browser: Browser) -> list[str]:
    return [v.body for v in browser.visits if 'action="/oauth/consent"' in v.body]


def test_an_approval_covers_only_the_redirect_uri_the_page_showed(base: str, fake: FakeGitHub):
    """A client registers a loopback URI and an attacker's. The person approves the loopback one,
    which is all the page showed. A link later sends the same browser to /authorize with the other
    URI and the attacker's PKCE challenge: GitHub re-approves its app silently, so the consent
    page is the only check there is, and it must ask again, naming the attacker's address."""
    client_id = register(base, client_name="Claude Code", redirect_uris=[CALLBACK, STEAL])["client_id"]
    approved = sign_in(base, fake, client_id)
    [page] = _consent_pages(approved.browser)
    assert CALLBACK in page and STEAL not in page
    # The same address on another port (RFC 8252) is the same app on this computer: not asked again.
    again = Browser("http://127.0.0.1:8765/callback", cookies=dict(approved.browser.cookies))
    landed = again.sign_in(authorize_url(base, client_id, pkce()[1], redirect_uri="http://127.0.0.1:8765/callback"))
    assert query(landed)["code"] and not _consent_pages(again)

    stranger = Browser(STEAL, decision="deny", cookies=dict(approved.browser.cookies))
    asked_github = len([s for s in fake.seen if s.path == "/login/oauth/authorize"])
    answer = stranger.sign_in(authorize_url(base, client_id, pkce()[1], redirect_uri=STEAL, state="stolen"))
    [asked] = _consent_pages(stranger)
    assert "<strong>attacker.example</strong>" in asked and f'<code class="to">{STEAL}</code>' in asked
    assert "code" not in query(answer) and query(answer)["error"] == "access_denied"  # the person said no
    assert len([s for s in fake.seen if s.path == "/login/oauth/authorize"]) == asked_github  # GitHub never asked


def test_a_metadata_document_that_adds_a_redirect_uri_later_asks_again(
    base: str, fake: FakeGitHub, signin_host: MetadataHost
):
    """The same through a Client ID Metadata Document: the loopback URI alone when the person
    approved, an https URI beside it later (the document says no-store, so it is fetched anew)."""
    no_store = {"Cache-Control": "no-store"}
    document = {"client_name": "Claude Code", "token_endpoint_auth_method": "none"}
    client_id = signin_host.serve("/grows.json", {}, headers=no_store)
    first = {**document, "client_id": client_id, "redirect_uris": [CALLBACK]}
    signin_host.serve("/grows.json", first, headers=no_store)
    approved = sign_in(base, fake, client_id)
    assert len(_consent_pages(approved.browser)) == 1
    grown = {**document, "client_id": client_id, "redirect_uris": [CALLBACK, STEAL]}
    signin_host.serve("/grows.json", grown, headers=no_store)
    stranger = Browser(STEAL, decision="deny", cookies=dict(approved.browser.cookies))
    stranger.sign_in(authorize_url(base, client_id, pkce()[1], redirect_uri=STEAL))
    [asked] = _consent_pages(stranger)
    assert f'<code class="to">{STEAL}</code>' in asked


SCHEMES_THAT_OPEN_THINGS = [
    "search-ms:query=invoice&crumb=location:\\\\evil.example\\share",
    "search-ms:query=invoice",
    "search:query=invoice",
    "ms-msdt:/id PCWDiagnostic",
    "ms-msdt:/id",
    "ms-officecmd:open",
    "ms-settings:privacy",
    "ms-appinstaller:?source=https://evil.example/app.msix",
    "file:///c:/windows/system32/calc.exe",
    "shell:startup",
    "view-source:https://evil.example/",
    "intent://evil.example/x",
    "chrome://settings",
    "jar:https://evil.example/a.jar!/",
]


@pytest.mark.parametrize("uri", SCHEMES_THAT_OPEN_THINGS)
def test_registration_refuses_schemes_that_open_local_programs_or_searches(base: str, uri: str):
    reply = requests.post(f"{base}/register", json={"redirect_uris": [uri]}, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_redirect_uri"
    assert reply.json()["error_description"].split(" ")[0] in ("the", "a")  # a sentence that says why


# -- a slow stranger -------------------------------------------------------------------------------


class Dripper:
    """A web host that answers one byte every `every` seconds, for as long as it is let."""

    def __init__(self, every: float = 0.5) -> None:
        self.every, self.connections = every, 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                # About 25 s of bytes: far past the deadline, short enough if the deadline were gone.
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"." * 25:
                    conn.sendall(bytes([byte]))
                    time.sleep(self.every)
            except OSError:
                return

    def stop(self) -> None:
        self._sock.close()


@pytest.fixture
def dripper(monkeypatch: pytest.MonkeyPatch) -> Iterator[Dripper]:
    host = Dripper()
    monkeypatch.setenv("CLIENT_METADATA_TEST_ORIGINS", f"https://slow.example={host.url}")
    yield host
    host.stop()


def test_a_metadata_server_that_drips_holds_the_function_no_longer_than_the_deadline(dripper: Dripper):
    """Every socket operation gets only what is left of one deadline: a byte every half second
    (each read well inside a per-read timeout) still ends the fetch at the deadline."""
    cache = MetadataCache()
    started = time.monotonic()
    with pytest.raises(ClientError, match="took too long"):
        cache.client("https://slow.example/app.json")
    elapsed = time.monotonic() - started
    assert METADATA_TIMEOUT_SECONDS - 0.1 <= elapsed < METADATA_TIMEOUT_SECONDS + 1.0
    # Remembered: the next request naming that URL is refused at once, without a second fetch.
    again = time.monotonic()
    with pytest.raises(ClientError, match="took too long"):
        cache.client("https://slow.example/app.json")
    assert time.monotonic() - again < 0.1 and cache.fetches == 1 and dripper.connections == 1


def test_a_host_that_resolves_slowly_holds_the_function_no_longer_than_the_deadline():
    """The second review: the lookup ran before the deadline started, and getaddrinfo takes no
    timeout. It counts against the one deadline now."""
    release = threading.Event()

    def slow(host: str, port: int) -> list[str]:
        release.wait(10)
        return ["93.184.215.14"]

    started = time.monotonic()
    with pytest.raises(ClientError, match="took too long"):
        MetadataCache(resolver=slow).client("https://slow-dns.example/app.json")
    elapsed = time.monotonic() - started
    release.set()
    assert METADATA_TIMEOUT_SECONDS - 0.1 <= elapsed < METADATA_TIMEOUT_SECONDS + 1.0


@pytest.mark.parametrize(
    "address",
    [
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a9fe:a9fe",  # ... 169.254.169.254, the instance metadata service
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:0:a9fe:a9fe",  # IPv4-translated (SIIT)
        "64:ff9b::a9fe:a9fe",  # NAT64's well-known prefix (RFC 6052)
        "64:ff9b::7f00:1",
        "64:ff9b::a00:1",  # 10.0.0.1
        "64:ff9b:1::808:808",  # NAT64's local-use prefix (RFC 8215)
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    ],
)
def test_a_private_ipv4_address_inside_an_ipv6_one_is_refused(address: str):
    assert address_problem(address) is not None
    with pytest.raises(ClientError, match="not a public address"):
        MetadataCache(resolver=lambda host, port: [address]).client("https://inside.example/app.json")


def test_public_addresses_in_either_family_pass():
    for address in ("93.184.215.14", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"):
        assert address_problem(address) is None, address


def test_a_metadata_url_on_another_port_is_refused_before_any_fetch(base: str):
    _, challenge = pkce()
    reply = requests.get(
        authorize_url(base, "https://client.example:8443/app.json", challenge), allow_redirects=False, timeout=10
    )
    assert reply.status_code == 400 and "port, 443" in reply.text


# -- a GitHub outage --------------------------------------------------------------------------------


@pytest.fixture
def org_server(fake: FakeGitHub, signin_host: MetadataHost) -> Iterator[str]:
    """Sign-in for members of acme only: every refresh asks GitHub about the membership."""
    running = signin_server(fake, signin_host.url, AUTH_ALLOWED_ORGS="acme")
    fake.oauth.login, fake.oauth.orgs = "mona", {"acme": {"mona"}}
    yield running.base
    running.stop()


@pytest.mark.parametrize(
    "hiccup",
    [
        Answer(503, {"message": "Service Unavailable"}),
        Answer(502, b"<html>bad gateway</html>"),
        Answer(403, {"message": "API rate limit exceeded"}, {"x-ratelimit-remaining": "0"}),
        Answer(429, {"message": "secondary rate limit"}, {"retry-after": "30"}),
    ],
    ids=["503", "502", "403-rate-limit", "429"],
)
def test_a_github_hiccup_during_refresh_leaves_the_refresh_token_usable(
    org_server: str, fake: FakeGitHub, hiccup: Answer
):
    issued = tokens(org_server, fake)
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": issued["refresh_token"],
        "client_id": issued["client_id"],
    }
    fake.queue(hiccup)  # GitHub's answer to the membership check
    unavailable = token(org_server, **refresh)
    assert unavailable.status_code == 503 and unavailable.json()["error"] == "temporarily_unavailable"
    assert "Retry-After" in unavailable.headers
    assert search(org_server, issued["access_token"]).status_code == 200  # nothing was revoked
    # The client retries as told, with the same refresh token: no reuse is detected.
    retried = token(org_server, **refresh)
    assert retried.status_code == 200, retried.text
    assert search(org_server, retried.json()["access_token"]).status_code == 200


def test_only_githubs_definite_answers_decide_membership(org_server: str, fake: FakeGitHub):
    client_id = register(org_server)["client_id"]
    # At sign-in: GitHub failing is "try again", not "you may not use this service". The person
    # goes through consent and GitHub; then GitHub answers /user, and fails the membership check.
    _, challenge = pkce()
    browser = Browser(CALLBACK)
    consent = browser._request("GET", authorize_url(org_server, client_id, challenge))
    fields = dict(HIDDEN.findall(consent.text))
    to_github = browser._request("POST", f"{org_server}/oauth/consent", {**fields, "decision": "approve"})
    back = browser._request("GET", to_github.headers["Location"]).headers["Location"]
    fake.queue(Answer(200, {"login": "mona", "id": fake.oauth.id_of("mona")}), Answer(503, {"message": "down"}))
    page = browser._request("GET", back)
    assert page.status_code == 502 and "may not use" not in page.text and "GitHub did not finish" in page.text
    # At refresh: a 404 is GitHub's definite "not a member" (she left acme): the grant ends.
    issued = tokens(org_server, fake, client_id)
    fake.oauth.orgs = {"acme": set()}
    refresh = {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"], "client_id": client_id}
    ended = token(org_server, **refresh)
    assert ended.status_code == 400 and "no longer" in ended.json()["error_description"]
    # A person who revoked the app on GitHub: 401 is definite too.
    fake.oauth.orgs = {"acme": {"mona"}}
    issued = tokens(org_server, fake, client_id)
    fake.oauth.revoke("mona")
    refresh["refresh_token"] = issued["refresh_token"]
    revoked = token(org_server, **refresh)
    assert revoked.status_code == 400 and "no longer accepts" in revoked.json()["error_description"]


# -- a code seen by someone else (the second review) -----------------------------------------------


def test_a_code_someone_else_saw_cannot_be_burned_without_its_verifier(base: str, fake: FakeGitHub):
    """A code read from a log or a referrer, sent with any verifier or by another client, used to be
    used up first and its reuse then revoked the sign-in. It is checked first now: the refusal
    spends nothing, and the client that holds the verifier still gets its tokens."""
    signed = sign_in(base, fake, register(base)["client_id"])
    stranger = register(base)["client_id"]
    for attempt in ({"code_verifier": pkce()[0]}, {"client_id": stranger}, {"redirect_uri": "http://127.0.0.1:9/x"}):
        refused = redeem(base, signed, **attempt)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", attempt
        assert "already used" not in refused.json()["error_description"]
    own = redeem(base, signed)
    assert own.status_code == 200, own.text
    assert search(base, own.json()["access_token"]).status_code == 200


def test_the_local_servers_log_keeps_no_code_or_state(signin: LocalServer, fake: FakeGitHub):
    """GitHub's callback carries the code that signs the person in, and the pending request's id."""
    signed = sign_in(signin.base, fake, register(signin.base)["client_id"])
    [callback] = [v.url for v in signed.browser.visits if "/oauth/callback?" in v.url]
    secrets_seen = [query(callback)["code"], query(callback)["state"], signed.code]
    written = signin.written("GET /oauth/callback?code=...&state=... 302")
    assert not any(value in written for value in secrets_seen)


# -- registration, bounded -------------------------------------------------------------------------


def test_registration_lists_are_bounded_and_kept_without_repeats(base: str):
    for repeats, says in ((40_000, f"at most {MAX_REGISTRATION_BYTES} bytes"), (1_000, "at most 10 items")):
        body = {"redirect_uris": [CALLBACK], "grant_types": ["authorization_code"] * repeats}
        many = requests.post(f"{base}/register", json=body, timeout=10)
        assert many.status_code == 400 and says in many.json()["error_description"]
    repeated = register(
        base,
        redirect_uris=[CALLBACK, CALLBACK, CALLBACK],
        grant_types=["refresh_token", "authorization_code", "refresh_token"],
    )
    assert repeated["redirect_uris"] == [CALLBACK]
    assert repeated["grant_types"] == ["authorization_code", "refresh_token"]
    big = requests.post(
        f"{base}/register",
        data=json.dumps({"redirect_uris": [CALLBACK], "client_name": "x" * MAX_REGISTRATION_BYTES}),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert big.status_code == 400 and f"at most {MAX_REGISTRATION_BYTES} bytes" in big.json()["error_description"]
    odd = requests.post(f"{base}/register", json={"redirect_uris": [CALLBACK], "grant_types": [{}]}, timeout=10)
    assert odd.status_code == 400 and odd.json()["error"] == "invalid_client_metadata"


def test_a_lone_surrogate_in_a_client_name_is_refused_at_registration(base: str, fake: FakeGitHub):
    """JSON's `\\ud800` parses to a string no page can be written with: the local server dropped the
    consent request. Refused where it comes in, as 400."""
    body = json.dumps({"redirect_uris": [CALLBACK]})[:-1] + ', "client_name": "Claude \\ud800"}'
    reply = requests.post(f"{base}/register", data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_client_metadata"
    assert "client_name must be Unicode text" in reply.json()["error_description"]
    assert sign_in(base, fake, register(base, client_name="Claude \u00e9\U0001f600")["client_id"]).code


def test_a_body_nested_thousands_deep_is_400_not_500(base: str, signin_host: MetadataHost):
    deep = "[" * 5000 + "]" * 5000
    reply = requests.post(f"{base}/register", data=deep, headers={"Content-Type": "application/json"}, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_client_metadata"
    client_id = signin_host.serve("/deep.json", ("[" * 2400 + "]" * 2400).encode())  # under the 5 KB cap
    _, challenge = pkce()
    page = requests.get(authorize_url(base, client_id, challenge), allow_redirects=False, timeout=10)
    assert page.status_code == 400 and "did not serve a JSON document" in page.text


def test_a_registration_that_never_signs_in_expires_and_one_that_does_is_kept(fake: FakeGitHub):
    from search.github_api import GitHubClient
    from signin.server import AuthorizationServer, Settings
    from signin.store import MemoryStore

    now = [1_000_000.0]
    store = MemoryStore(clock=lambda: now[0])
    settings = Settings("https://s.example", "app", "secret", web=fake.url)
    server = AuthorizationServer(settings, store, GitHubClient(fake.url), clock=lambda: now[0])
    idle = json.loads(server.register(json.dumps({"redirect_uris": [CALLBACK]}))["body"])["client_id"]
    used = json.loads(server.register(json.dumps({"redirect_uris": [CALLBACK]}))["body"])["client_id"]
    store.put("grant#g", {"login": "octocat", "user_id": 1, "github_token": "gho_x", "client_id": used}, 0)
    verifier, challenge = pkce()
    code_item = {
        "grant": "g",
        "client_id": used,
        "redirect_uri": CALLBACK,
        "redirect_given": None,
        "challenge": challenge,
        "resource": settings.resource,
        "scope": "search",
    }
    from signin.store import token_hash

    store.put(token_hash("code", "the-code"), code_item, int(now[0]) + 300)
    redeemed = server.token(
        f"grant_type=authorization_code&code=the-code&client_id={used}&code_verifier={verifier}", {}
    )
    assert redeemed["statusCode"] == 200
    now[0] += REGISTRATION_TTL + 1
    assert server.client(idle) is None  # expired: a day without a completed sign-in
    assert server.client(used) is not None
    # Used, it stays while it is used (each refresh keeps it), and goes once unused that long: with
    # open registration and no allow-list, the table would otherwise keep every client ever used.
    refresh = json.loads(redeemed["body"])["refresh_token"]
    for _ in range(5):  # 125 days in all, more than one idle period, never idle that long
        now[0] += 25 * 86_400
        store.put("grant#g", {"login": "octocat", "user_id": 1, "github_token": "gho_x", "client_id": used}, 0)
        refreshed = server.token(f"grant_type=refresh_token&refresh_token={refresh}&client_id={used}", {})
        assert refreshed["statusCode"] == 200, refreshed
        refresh = json.loads(refreshed["body"])["refresh_token"]
    assert CLIENT_IDLE_TTL < 125 * 86_400 and server.client(used) is not None
    now[0] += CLIENT_IDLE_TTL + 1
    assert server.client(used) is None


def test_repeated_form_fields_are_found_in_one_pass():
    body = "&".join(f"f{n}=v" for n in range(1500)) + "&f7=again"
    with pytest.raises(ValueError, match="f7 is sent more than once"):
        form(body)
    assert form("a=1&b=2") == {"a": "1", "b": "2"}


# -- who is allowed: the account, not its login ----------------------------------------------------


def test_an_allowed_login_that_changes_hands_lets_only_its_first_account_in(
    fake: FakeGitHub, signin_host: MetadataHost
):
    """GitHub frees a login after a rename, and anyone may claim it. The allow-list binds each
    login to the account that first signs in with it (its numeric id)."""
    running = signin_server(fake, signin_host.url, AUTH_ALLOWED_USERS="hubot")
    try:
        base = running.base
        client_id = register(base)["client_id"]
        fake.oauth.login = "hubot"
        first = tokens(base, fake, client_id)
        assert search(base, first["access_token"]).status_code == 200
        # hubot renames to hubot-old; a stranger claims "hubot" and signs in.
        fake.oauth.rename("hubot", "hubot-old")
        _, challenge = pkce()
        stranger = Browser(CALLBACK)
        with pytest.raises(AssertionError, match="HTTP 403"):
            stranger.sign_in(authorize_url(base, client_id, challenge))
        assert "hubot may not use this service" in stranger.visits[-1].body
        # The first account keeps its grant, and may sign in again under its new login.
        refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": client_id}
        assert token(base, **refresh).status_code == 200
        fake.oauth.login = "hubot-old"
        assert search(base, tokens(base, fake, client_id)["access_token"]).status_code == 200
    finally:
        running.stop()


def test_sign_in_refresh_and_search_still_work_end_to_end(base: str, fake: FakeGitHub):
    """The holds change nothing for a well-behaved client."""
    signed = sign_in(base, fake, register(base)["client_id"])
    issued = redeem(base, signed)
    assert issued.status_code == 200
    assert search(base, issued.json()["access_token"]).status_code == 200


# -- a newcomer's first smoke test -------------------------------------------------------------------


def test_the_banners_smoke_line_signs_in_by_itself_with_the_fake_github():
    """`make dev FAKE=1 AUTH=1` prints a smoke line; run as printed, it signs in through the same
    pages a person would (the consent page approved, the fake GitHub approving at once) and runs
    every check with the token, in seconds, not after a 300 s wait for a browser."""
    import subprocess

    from tools.synth import ROOT

    running = LocalServer(None, None, "--fake-github", "--auth")
    try:
        banner = running.written("Ctrl-C stops.\n").splitlines()
        [line] = [b for b in banner if b.strip().startswith("smoke test")]
        command = line.split("smoke test", 1)[1].strip()
        assert command == f"make smoke URL={running.base} TOKEN=$(make -s token URL={running.base})"

        def bash(line: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["bash", "-c", line], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
            )

        done = bash(command)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "PASS sign-in" in done.stdout and "SKIP" not in done.stdout and "0 failed" in done.stdout
        # A token that cannot be had stops the line with the reason, instead of a smoke test without one.
        nowhere = f"make smoke URL={running.base} TOKEN=$(make -s token URL=http://127.0.0.1:9 FAKE=1)"
        stopped = bash(nowhere)
        assert stopped.returncode != 0 and "PASS" not in stopped.stdout
        assert "no token:" in stopped.stderr and "smoke test not run: TOKEN= is empty" in stopped.stderr
    finally:
        running.stop()
