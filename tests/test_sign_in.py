"""Sign-in with GitHub, end to end through the local server and the fake GitHub: what a client
and a person see, and every attack the authorization server must stop."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from tests.signin_helpers import (
    APP_ID,
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
from tools.fake_github import FakeGitHub
from tools.signin_browser import Browser
from tools.synth import ROOT


@pytest.fixture
def base(signin: LocalServer, fake: FakeGitHub) -> str:
    return signin.base


# -- discovery ----------------------------------------------------------------------------------


def test_metadata_names_one_issuer_and_the_mcp_url_as_the_resource(base: str):
    server_metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
    for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
        resource = requests.get(base + path, timeout=10).json()
        assert resource["resource"] == f"{base}/mcp"
        assert resource["authorization_servers"] == [server_metadata["issuer"]] == [base]
    assert server_metadata["code_challenge_methods_supported"] == ["S256"]
    assert server_metadata["authorization_response_iss_parameter_supported"] is True
    assert server_metadata["client_id_metadata_document_supported"] is True
    for endpoint in ("authorization", "token", "registration", "revocation"):
        assert server_metadata[f"{endpoint}_endpoint"].startswith(base + "/")
    oidc = requests.get(f"{base}/.well-known/openid-configuration", timeout=10)
    assert oidc.status_code == 404 and oidc.json()["error"] == "not_found"


@pytest.mark.parametrize("path", ["/mcp", "/api/search?q=x", "/api/repos/pulumi/pulumi"])
def test_no_search_path_answers_without_a_token(base: str, path: str):
    if path == "/mcp":
        body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        reply = requests.post(base + path, json=body, timeout=10)
        assert reply.json()["error"]["message"].startswith("unauthorized")
    else:
        reply = requests.get(base + path, timeout=10)
        assert reply.json()["error"]["code"] == "unauthorized"
    assert reply.status_code == 401
    challenge = reply.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in challenge
    assert 'scope="search"' in challenge and "error=" not in challenge  # no token: no error (RFC 6750)


# -- the whole flow -----------------------------------------------------------------------------


def test_a_registered_client_signs_in_searches_and_refreshes(base: str, fake: FakeGitHub):
    client = register(base)
    signed = sign_in(base, fake, client["client_id"])
    assert signed.answer["iss"] == base and signed.answer["state"].startswith("state-")
    consent = [v for v in signed.browser.visits if 'action="/oauth/consent"' in v.body]
    assert len(consent) == 1 and "Test Assistant" in consent[0].body and "127.0.0.1:9/callback" in consent[0].body
    authorize = next(s for s in fake.seen if s.path == "/login/oauth/authorize")
    assert authorize.params["client_id"] == APP_ID and authorize.params["code_challenge_method"] == "S256"
    assert authorize.params["scope"] == ""  # no allow-list of orgs: no scope at all, never a private repo's
    answer = redeem(base, signed)
    assert answer.status_code == 200, answer.text
    issued = answer.json()
    assert issued["token_type"] == "Bearer" and issued["expires_in"] <= 3600 and issued["scope"] == "search"
    assert answer.headers["Cache-Control"] == "no-store"
    found = search(base, issued["access_token"])
    assert found.status_code == 200 and found.json()["repos"]
    user_call = next(s for s in fake.seen if s.path == "/search/repositories")
    assert user_call.headers["authorization"].startswith("Bearer gho_")  # the user's own GitHub token, not the stack's
    refreshed = token(
        base, grant_type="refresh_token", refresh_token=issued["refresh_token"], client_id=client["client_id"]
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] != issued["refresh_token"]  # rotated
    assert search(base, refreshed.json()["access_token"], "again").status_code == 200


def test_an_approved_client_skips_the_consent_page_in_the_same_browser(base: str, fake: FakeGitHub):
    client_id = register(base)["client_id"]
    first = sign_in(base, fake, client_id)
    same_browser = dict(first.browser.cookies)
    again = sign_in(base, fake, client_id, browser=Browser(CALLBACK, cookies=dict(same_browser)))
    assert again.code and not any('action="/oauth/consent"' in v.body for v in again.browser.visits)
    other_client = sign_in(
        base, fake, register(base)["client_id"], browser=Browser(CALLBACK, cookies=dict(same_browser))
    )
    assert any('action="/oauth/consent"' in v.body for v in other_client.browser.visits)
    other_browser = sign_in(base, fake, client_id)
    assert any('action="/oauth/consent"' in v.body for v in other_browser.browser.visits)


def test_declining_sends_access_denied_back_with_state_and_iss(base: str, fake: FakeGitHub):
    client_id = register(base)["client_id"]
    _, challenge = pkce()
    landed = Browser(CALLBACK, decision="deny").sign_in(authorize_url(base, client_id, challenge, state="s-9"))
    assert query(landed) == {"error": "access_denied", "error_description": "you declined", "iss": base, "state": "s-9"}
    assert not any(s.path == "/login/oauth/authorize" for s in fake.seen)  # GitHub never asked


def test_the_consent_page_cannot_be_framed_and_its_cookie_is_host_only(base: str):
    client_id = register(base)["client_id"]
    _, challenge = pkce()
    page = requests.get(authorize_url(base, client_id, challenge), allow_redirects=False, timeout=10)
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-") and "Secure" in cookie and "HttpOnly" in cookie and "Path=/;" in cookie
    assert "Domain" not in cookie


# -- attacks on the browser's part --------------------------------------------------------------


def _consent_form(base: str, client_id: str) -> tuple[Browser, dict[str, str]]:
    from tools.signin_browser import HIDDEN

    browser = Browser(CALLBACK)
    _, challenge = pkce()
    visit = browser._request("GET", authorize_url(base, client_id, challenge))
    return browser, dict(HIDDEN.findall(visit.text))


def test_consent_needs_its_csrf_token_this_browser_and_this_origin(base: str, fake: FakeGitHub):
    client_id = register(base)["client_id"]
    browser, fields = _consent_form(base, client_id)
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    post = f"{base}/oauth/consent"
    attempts = {
        "wrong csrf": ({**fields, "csrf": "forged", "decision": "approve"}, {"Cookie": cookie}),
        "another browser": ({**fields, "decision": "approve"}, {"Cookie": "__Host-github-search-browser=attacker"}),
        "no cookie": ({**fields, "decision": "approve"}, {}),
        "another site": ({**fields, "decision": "approve"}, {"Cookie": cookie, "Origin": "https://evil.example"}),
    }
    for name, (data, headers) in attempts.items():
        reply = requests.post(post, data=data, headers=headers, allow_redirects=False, timeout=10)
        assert reply.status_code == 403, name
        assert "Location" not in reply.headers, name
    assert not any(s.path == "/login/oauth/authorize" for s in fake.seen)
    ok = requests.post(
        post, data={**fields, "decision": "approve"}, headers={"Cookie": cookie}, allow_redirects=False, timeout=10
    )
    assert ok.status_code == 302 and ok.headers["Location"].startswith(fake.url + "/login/oauth/authorize")


def test_an_unregistered_redirect_uri_is_never_redirected_to(base: str):
    client_id = register(base)["client_id"]
    _, challenge = pkce()
    for uri in (
        "https://evil.example/callback",
        "http://127.0.0.1:9/other",
        "http://127.0.0.2:9/callback",
        CALLBACK + "?x=1",
    ):
        reply = requests.get(
            authorize_url(base, client_id, challenge, redirect_uri=uri), allow_redirects=False, timeout=10
        )
        assert reply.status_code == 400, uri
        assert "Location" not in reply.headers
        assert "redirect_uri is not one it registered" in reply.text or "redirect_uri cannot be used" in reply.text
    # Loopback: any port (RFC 8252 section 7.3), same path.
    moved = requests.get(
        authorize_url(base, client_id, challenge, redirect_uri="http://127.0.0.1:50123/callback"),
        allow_redirects=False,
        timeout=10,
    )
    assert moved.status_code == 200


def test_a_state_that_this_browser_did_not_start_is_refused_at_the_github_callback(base: str, fake: FakeGitHub):
    forged = requests.get(
        f"{base}/oauth/callback", params={"code": "x", "state": "forged"}, allow_redirects=False, timeout=10
    )
    assert forged.status_code == 400 and "state does not match" in forged.text
    client_id = register(base)["client_id"]
    browser, fields = _consent_form(base, client_id)
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    to_github = requests.post(
        f"{base}/oauth/consent",
        data={**fields, "decision": "approve"},
        headers={"Cookie": cookie},
        allow_redirects=False,
        timeout=10,
    )
    back = requests.get(to_github.headers["Location"], allow_redirects=False, timeout=10).headers["Location"]
    # The victim's browser is sent the attacker's callback (login CSRF): it has another cookie.
    victim = requests.get(
        back, headers={"Cookie": "__Host-github-search-browser=victim"}, allow_redirects=False, timeout=10
    )
    assert victim.status_code == 400 and "Location" not in victim.headers
    mine = requests.get(back, headers={"Cookie": cookie}, allow_redirects=False, timeout=10)
    assert mine.status_code == 302 and query(mine.headers["Location"])["code"]
    replayed = requests.get(back, headers={"Cookie": cookie}, allow_redirects=False, timeout=10)
    assert replayed.status_code == 400  # the pending request is used up


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"resource": "https://evil.example/mcp"}, "invalid_target"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "repo"}, "invalid_scope"),
    ],
)
def test_bad_authorization_requests_go_back_with_an_error(
    base: str, fake: FakeGitHub, change: dict[str, str], error: str
):
    """Once this browser has approved the client (before, see test_sign_in_holds.py: an error page)."""
    client_id = register(base)["client_id"]
    approved = sign_in(base, fake, client_id).browser.cookies
    _, challenge = pkce()
    reply = requests.get(
        authorize_url(base, client_id, challenge, state="s-1", **change),
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in approved.items())},
        allow_redirects=False,
        timeout=10,
    )
    assert reply.status_code == 302
    answer = query(reply.headers["Location"])
    assert reply.headers["Location"].startswith(CALLBACK)
    assert answer["error"] == error and answer["state"] == "s-1" and answer["iss"] == base and "code" not in answer


# -- attacks on the client's part ---------------------------------------------------------------


def test_a_wrong_pkce_verifier_gets_no_token(base: str, fake: FakeGitHub):
    signed = sign_in(base, fake, register(base)["client_id"])
    wrong = redeem(base, signed, code_verifier=pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert "code_verifier" in wrong.json()["error_description"]


def test_a_code_used_twice_revokes_what_it_bought(base: str, fake: FakeGitHub):
    signed = sign_in(base, fake, register(base)["client_id"])
    first = redeem(base, signed)
    assert first.status_code == 200
    access = first.json()["access_token"]
    assert search(base, access).status_code == 200
    second = redeem(base, signed)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert search(base, access).status_code == 401
    assert (
        token(
            base, grant_type="refresh_token", refresh_token=first.json()["refresh_token"], client_id=signed.client_id
        ).status_code
        == 400
    )


def test_a_reused_refresh_token_revokes_the_whole_grant(base: str, fake: FakeGitHub):
    issued = tokens(base, fake)
    client_id = issued["client_id"]
    rotated = token(base, grant_type="refresh_token", refresh_token=issued["refresh_token"], client_id=client_id).json()
    assert search(base, rotated["access_token"]).status_code == 200
    stolen = token(base, grant_type="refresh_token", refresh_token=issued["refresh_token"], client_id=client_id)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert search(base, rotated["access_token"]).status_code == 401  # the family is revoked
    after = token(base, grant_type="refresh_token", refresh_token=rotated["refresh_token"], client_id=client_id)
    assert after.status_code == 400


def test_a_token_for_another_resource_or_client_is_refused(base: str, fake: FakeGitHub):
    signed = sign_in(base, fake, register(base)["client_id"])
    other = redeem(base, signed, resource="https://evil.example/mcp")
    assert other.status_code == 400 and other.json()["error"] == "invalid_target"
    stranger = register(base)["client_id"]
    stolen = redeem(base, signed, client_id=stranger)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    moved = redeem(base, sign_in(base, fake, signed.client_id), redirect_uri="http://127.0.0.1:9/elsewhere")
    assert moved.status_code == 400 and moved.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("bearer", "says"),
    [
        ("gho_16C7e42F292c6912E7710c838347Ae178B4a", "GitHub token is not accepted"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "GitHub token is not accepted"),
        ("gsa_not-a-token-this-service-issued-00000000000000000", "expired or was revoked"),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJtZSJ9.", "not issued by this service"),
    ],
)
def test_a_foreign_token_is_401_invalid_token(base: str, bearer: str, says: str):
    reply = search(base, bearer)
    assert reply.status_code == 401 and says in reply.json()["error"]["message"]
    assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]


def test_revoking_a_token_ends_the_grant_at_once(base: str, fake: FakeGitHub):
    issued = tokens(base, fake)
    assert search(base, issued["access_token"]).status_code == 200
    revoked = requests.post(
        f"{base}/revoke", data={"token": issued["refresh_token"], "client_id": issued["client_id"]}, timeout=10
    )
    assert revoked.status_code == 200
    assert search(base, issued["access_token"]).status_code == 401
    unknown = requests.post(
        f"{base}/revoke", data={"token": "gsr_whatever", "client_id": issued["client_id"]}, timeout=10
    )
    assert unknown.status_code == 200  # RFC 7009: nothing to say about tokens one does not have


def test_a_user_who_revokes_the_app_on_github_is_signed_out(base: str, fake: FakeGitHub):
    issued = tokens(base, fake)
    assert search(base, issued["access_token"], "before-revocation").status_code == 200
    fake.oauth.revoke()
    refused = search(base, issued["access_token"], "after-revocation")
    assert refused.status_code == 401 and "sign in again" in refused.json()["error"]["message"]
    # The grant is gone: even an answer the function has cached is not served to that token.
    assert search(base, issued["access_token"], "before-revocation").status_code == 401


# -- registration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "http://evil.example/callback",
        "https://client.example/cb#fragment",
        "https://user:pass@client.example/cb",
        "file:///etc/passwd",
        "",
    ],
)
def test_registration_refuses_redirect_uris_a_code_could_leak_through(base: str, uri: str):
    reply = requests.post(f"{base}/register", json={"redirect_uris": [uri]}, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:33418/callback",
        "http://[::1]:8080/cb",
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "https://chatgpt.com/aip/g-123/oauth/callback",
    ],
)
def test_registration_accepts_loopback_app_schemes_and_https(base: str, uri: str):
    assert register(base, redirect_uris=[uri])["redirect_uris"] == [uri]


def test_a_confidential_client_such_as_a_gpt_action_signs_in_with_its_secret(base: str, fake: FakeGitHub):
    client = register(base, token_endpoint_auth_method="client_secret_post")
    assert client["client_secret"] and "secret_hash" not in client
    signed = sign_in(base, fake, client["client_id"])
    without = redeem(base, signed)
    assert without.status_code == 401 and without.json()["error"] == "invalid_client"
    signed = sign_in(base, fake, client["client_id"], browser=signed.browser)
    wrong = redeem(base, signed, client_secret="wrong")
    assert wrong.status_code == 401
    signed = sign_in(base, fake, client["client_id"], browser=signed.browser)
    right = redeem(base, signed, client_secret=client["client_secret"])
    assert right.status_code == 200, right.text
    basic = register(base, token_endpoint_auth_method="client_secret_basic")
    signed = sign_in(base, fake, basic["client_id"], browser=signed.browser)
    fields = {
        "grant_type": "authorization_code",
        "code": signed.code,
        "redirect_uri": CALLBACK,
        "code_verifier": signed.verifier,
    }
    by_header = requests.post(
        f"{base}/token", data=fields, auth=(basic["client_id"], basic["client_secret"]), timeout=10
    )
    assert by_header.status_code == 200, by_header.text


# -- Client ID Metadata Documents ---------------------------------------------------------------


def test_a_metadata_document_client_signs_in(base: str, fake: FakeGitHub, signin_host: MetadataHost):
    client_id = signin_host.client("/oauth/client.json", name="Metadata Assistant")
    signed = sign_in(base, fake, client_id)
    consent = next(v for v in signed.browser.visits if 'action="/oauth/consent"' in v.body)
    assert "Metadata Assistant" in consent.body and client_id in consent.body
    issued = redeem(base, signed)
    assert issued.status_code == 200, issued.text
    assert search(base, issued.json()["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("client_id", "says"),
    [
        ("https://127.0.0.1/client.json", "not a public address"),
        ("https://169.254.169.254/latest/meta-data/", "not a public address"),
        ("https://10.1.2.3/client.json", "not a public address"),
        ("https://[::1]/client.json", "not a public address"),
        ("https://[::ffff:127.0.0.1]/client.json", "not a public address"),
        ("https://localhost/client.json", "not a public address"),
        ("https://client.example/", "must have a path"),
    ],
)
def test_metadata_urls_that_point_inside_are_never_fetched(base: str, client_id: str, says: str):
    _, challenge = pkce()
    reply = requests.get(authorize_url(base, client_id, challenge), allow_redirects=False, timeout=10)
    assert reply.status_code == 400 and says in reply.text and "Location" not in reply.headers


def test_metadata_documents_that_redirect_lie_or_overflow_are_refused(base: str, signin_host: MetadataHost):
    _, challenge = pkce()
    cases = {
        signin_host.serve(
            "/moved.json", {}, 302, {"Location": "http://169.254.169.254/latest/meta-data/"}
        ): "redirects",
        signin_host.serve(
            "/liar.json", {"client_id": "https://other.example/c.json", "redirect_uris": [CALLBACK]}
        ): "must equal the URL",
        signin_host.serve("/big.json", b"{" + b" " * 6000 + b"}"): "larger than",
        signin_host.serve(
            "/evil-redirect.json",
            {"client_id": "https://client.example/evil-redirect.json", "redirect_uris": ["javascript:alert(1)"]},
        ): "should not hand a code to",
    }
    for client_id, says in cases.items():
        reply = requests.get(authorize_url(base, client_id, challenge), allow_redirects=False, timeout=10)
        assert reply.status_code == 400 and says in reply.text, (client_id, reply.text[-300:])


# -- who may sign in ----------------------------------------------------------------------------


def test_allow_lists_let_named_users_and_org_members_in_and_nobody_else(fake: FakeGitHub, signin_host: MetadataHost):
    running = signin_server(fake, signin_host.url, AUTH_ALLOWED_USERS="Hubot", AUTH_ALLOWED_ORGS="acme")
    try:
        base = running.base
        client_id = register(base)["client_id"]
        _, challenge = pkce()
        browser = Browser(CALLBACK)
        with pytest.raises(AssertionError, match="HTTP 403"):
            browser.sign_in(authorize_url(base, client_id, challenge))
        page = browser.visits[-1]
        assert "octocat may not use this service" in page.body and "Return to the app" in page.body
        assert not any(
            "code=" in v.headers.get("Location", "") and v.headers["Location"].startswith(CALLBACK)
            for v in browser.visits
        )
        assert next(s for s in fake.seen if s.path == "/login/oauth/authorize").params["scope"] == "read:org"
        fake.oauth.login, fake.oauth.orgs = "mona", {"acme": {"mona"}}
        assert search(base, tokens(base, fake, client_id)["access_token"]).status_code == 200
        fake.oauth.login = "hubot"  # named, in any case
        assert search(base, tokens(base, fake, client_id)["access_token"]).status_code == 200
        # Taken off the list (mona leaves acme): the next refresh ends the grant.
        fake.oauth.login = "mona"
        issued = tokens(base, fake, client_id)
        fake.oauth.orgs = {"acme": set()}
        refreshed = token(base, grant_type="refresh_token", refresh_token=issued["refresh_token"], client_id=client_id)
        assert refreshed.status_code == 400 and "no longer" in refreshed.json()["error_description"]
        assert search(base, issued["access_token"]).status_code == 401
    finally:
        running.stop()


# -- the owner's tools --------------------------------------------------------------------------


def test_get_token_signs_in_and_smoke_passes_with_its_token_and_skips_without(base: str, fake: FakeGitHub):
    tool = subprocess.Popen(
        [sys.executable, "-m", "tools.get_token", base, "--no-browser", "--person"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert tool.stderr is not None
    tool.stderr.readline()  # "Open this URL ..."
    url = tool.stderr.readline().strip()
    callback = query(url)["redirect_uri"]
    requests.get(Browser(callback).sign_in(url), timeout=10)  # the browser lands on the tool's callback
    out, err = tool.communicate(timeout=30)
    assert tool.returncode == 0, err
    access_token = out.strip()
    assert access_token.startswith("gsa_") and search(base, access_token).status_code == 200

    def smoke(token: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SMOKE_TOKEN": token}
        return subprocess.run(
            [sys.executable, "-m", "tools.smoke", base],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    signed = smoke(access_token)
    assert signed.returncode == 0, signed.stdout
    assert "PASS sign-in" in signed.stdout and "SKIP" not in signed.stdout
    anonymous = smoke("")
    assert anonymous.returncode == 0, anonymous.stdout
    assert anonymous.stdout.count("SKIP ") == 4 and "4 skipped (no TOKEN)" in anonymous.stdout


def test_a_parameter_sent_twice_is_refused_not_guessed(base: str):
    client_id = register(base)["client_id"]
    _, challenge = pkce()
    url = authorize_url(base, client_id, challenge) + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
    reply = requests.get(url, allow_redirects=False, timeout=10)
    assert reply.status_code == 400 and "redirect_uri is sent more than once" in reply.text
    assert "Location" not in reply.headers
    doubled = requests.post(
        f"{base}/token",
        data="grant_type=authorization_code&code=a&code=b",
        timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert doubled.status_code == 400 and "code is sent more than once" in doubled.json()["error_description"]


def test_a_registration_that_names_no_method_is_a_public_client(base: str, fake: FakeGitHub):
    reply = requests.post(f"{base}/register", json={"redirect_uris": [CALLBACK]}, timeout=10)
    assert reply.status_code == 201
    client = reply.json()
    assert client["token_endpoint_auth_method"] == "none" and "client_secret" not in client
    assert redeem(base, sign_in(base, fake, client["client_id"])).status_code == 200
