"""What the sign-in tests share: a server with sign-in on, a client that registers, a person who signs in."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.conftest import TOKEN
from tools.background import LocalServer
from tools.fake_github import FakeGitHub
from tools.signin_browser import Browser

APP_ID, APP_SECRET = "Ov23liTestOAuthApp00", "test-oauth-app-secret"  # an OAuth App: public data only
GITHUB_APP_ID = "Iv23liTestGitHubApp0"  # a GitHub App: private repositories (PRIVATE_REPOSITORIES)
# The client's loopback redirect: the browser stops there, so nothing need listen.
CALLBACK = "http://127.0.0.1:9/callback"
CLIENT_ORIGIN = "https://client.example"  # a CIMD client's host, served from loopback in the tests


def signin_server(fake: FakeGitHub, metadata_url: str, extra_flags: tuple[str, ...] = (), **env: str) -> LocalServer:
    return LocalServer(
        fake.url,
        None,
        "--auth",
        *extra_flags,
        env={
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_OAUTH_CLIENT_ID": GITHUB_APP_ID if "--private" in extra_flags else APP_ID,
            "GITHUB_OAUTH_CLIENT_SECRET": APP_SECRET,
            "CLIENT_METADATA_TEST_ORIGINS": f"{CLIENT_ORIGIN}={metadata_url}",
            **env,
        },
    )


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def register(base: str, **fields: Any) -> dict[str, Any]:
    body = {"client_name": "Test Assistant", "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"}
    reply = requests.post(f"{base}/register", json={**body, **fields}, timeout=10)
    assert reply.status_code == 201, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def authorize_url(base: str, client_id: str, challenge: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "state-" + secrets.token_hex(4),
        "resource": f"{base}/mcp",
        "scope": "search",
        **extra,
    }
    return f"{base}/authorize?{urlencode(params)}"


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class Signed:
    client_id: str
    verifier: str
    answer: dict[str, str]  # what the client's redirect URI received
    browser: Browser

    @property
    def code(self) -> str:
        return self.answer["code"]


def sign_in(base: str, fake: FakeGitHub, client_id: str, browser: Browser | None = None, **extra: str) -> Signed:
    verifier, challenge = pkce()
    browser = browser or Browser(CALLBACK)
    landed = browser.sign_in(authorize_url(base, client_id, challenge, **extra))
    assert landed.startswith(extra.get("redirect_uri", CALLBACK)), landed
    return Signed(client_id, verifier, query(landed), browser)


def token(base: str, **fields: str) -> requests.Response:
    return requests.post(f"{base}/token", data=fields, timeout=10)


def redeem(base: str, signed: Signed, **extra: str) -> requests.Response:
    fields = {
        "grant_type": "authorization_code",
        "code": signed.code,
        "client_id": signed.client_id,
        "redirect_uri": CALLBACK,
        "code_verifier": signed.verifier,
        "resource": f"{base}/mcp",
    }
    return token(base, **{**fields, **extra})


def tokens(base: str, fake: FakeGitHub, client_id: str | None = None) -> dict[str, Any]:
    """A fresh client's sign-in, all the way to its tokens."""
    client_id = client_id or register(base)["client_id"]
    reply = redeem(base, sign_in(base, fake, client_id))
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    answer["client_id"] = client_id
    return answer


def search(base: str, access_token: str | None, q: str = "pulumi") -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return requests.get(f"{base}/api/search", params={"q": q, "limit": "1"}, headers=headers, timeout=10)


class MetadataHost:
    """A client's web host: serves Client ID Metadata Documents (and the ways to get them wrong)."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.seen: list[str] = []  # every path (and query) asked for, in order
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                host.seen.append(self.path)
                status, headers, body = host.documents.get(self.path, (404, {}, b"{}"))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def serve(self, path: str, document: Any, status: int = 200, headers: dict[str, str] | None = None) -> str:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.documents[path] = (status, headers or {}, body)
        return f"{CLIENT_ORIGIN}{path}"

    def client(self, path: str, redirect_uris: list[str] | None = None, name: str = "Metadata Client") -> str:
        url = f"{CLIENT_ORIGIN}{path}"
        return self.serve(
            path,
            {
                "client_id": url,
                "client_name": name,
                "redirect_uris": redirect_uris or [CALLBACK],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            },
        )

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
