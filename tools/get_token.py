"""Sign in to a stack with sign-in on, the way an MCP client does, and print an access token.

    python -m tools.get_token https://search.example.com        # then: make smoke URL=... TOKEN=...
    python -m tools.get_token http://127.0.0.1:3333 --no-browser
    python -m tools.get_token http://127.0.0.1:3333 --fake-github   # make dev FAKE=1 AUTH=1: no browser

Registers a public client whose redirect URI is a port on 127.0.0.1, opens the authorization URL
in your browser (or prints it), waits for the redirect with the code, checks `state` and `iss`,
and trades the code and its PKCE verifier for tokens. Prints the access token (an hour's) on
stdout, everything else on stderr; when no token could be had, prints why and exits 1.

A local server that signs in with the built-in fake GitHub (make dev FAKE=1: nobody's real
account) is recognised by its consent page, which names a GitHub on this machine; there is no
person to ask then: it goes through the same pages a person would, approves the consent page,
and the fake GitHub approves at once, in a second or two (--fake-github insists on it). A
refusal (a login the owner did not allow) is printed as the page says it, in one line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
import sys
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tools.signin_browser import Browser, Stopped, signs_in_with_a_fake_github

WAIT_SECONDS = 300


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the stack's url (pulumi stack output url)")
    parser.add_argument("--no-browser", action="store_true", help="print the URL to open instead of opening it")
    parser.add_argument(
        "--fake-github",
        action="store_true",
        help="the server signs in with the built-in fake GitHub (make dev FAKE=1): approve its pages here, no browser",
    )
    parser.add_argument(
        "--person", action="store_true", help="always leave the pages to a person, even with the fake GitHub"
    )
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    received: dict[str, str] = {}
    done = threading.Event()

    class Callback(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            received.update({k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()})
            body = b"Signed in; you can close this tab.\n" if "code" in received else b"Sign-in did not finish.\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            done.set()

    server = HTTPServer(("127.0.0.1", 0), Callback)
    callback = f"http://127.0.0.1:{server.server_address[1]}/callback"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return sign_in(base, args, callback, received, done)
    except requests.RequestException as exc:
        print(f"no token: {base} could not be reached ({type(exc).__name__})", file=sys.stderr)
        return 1
    finally:
        server.shutdown()
        server.server_close()


def fake_github_behind(url: str) -> bool:
    """Whether the stack signs people in with the built-in fake GitHub (make dev FAKE=1): its
    consent page names a GitHub on this machine. Then there is nobody's real account to ask for,
    and the pages are approved here, as with --fake-github."""
    page = requests.get(url, allow_redirects=False, timeout=30)
    return page.status_code == 200 and signs_in_with_a_fake_github(page.text)


def sign_in(base: str, args: argparse.Namespace, callback: str, received: dict[str, str], done: threading.Event) -> int:
    """The sign-in itself, as a public client: 0 and the token on stdout, or 1 and why not."""
    metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=30)
    if metadata.status_code != 200:
        print(f"no token: {base} has no sign-in (HTTP {metadata.status_code} for its metadata)", file=sys.stderr)
        return 2
    issuer = metadata.json()["issuer"]
    client = {
        "client_name": "github-search get_token",
        "redirect_uris": [callback],
        "token_endpoint_auth_method": "none",
    }
    client_id = requests.post(metadata.json()["registration_endpoint"], json=client, timeout=30).json()["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "resource": f"{base}/mcp",
        "scope": "search",
    }
    url = f"{metadata.json()['authorization_endpoint']}?{urlencode(params)}"
    if args.fake_github or (not args.person and fake_github_behind(url)):
        try:
            landed = Browser(callback).sign_in(url)  # the consent page approved, as a person would
        except Stopped as exc:
            print(f"no token: the sign-in was refused (HTTP {exc.status}): {exc.why}", file=sys.stderr)
            return 1
        received.update({k: v[-1] for k, v in parse_qs(urlsplit(landed).query).items()})
    else:
        print(f"Open this URL to sign in (waiting {WAIT_SECONDS} s):\n{url}", file=sys.stderr, flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        if not done.wait(WAIT_SECONDS):
            print(f"no token: no sign-in arrived within {WAIT_SECONDS} s", file=sys.stderr)
            return 1
    if received.get("state") != state or received.get("iss") != issuer or "code" not in received:
        print(f"no token: sign-in refused or tampered with: {received.get('error') or received}", file=sys.stderr)
        return 1
    fields = {
        "grant_type": "authorization_code",
        "code": received["code"],
        "client_id": client_id,
        "redirect_uri": callback,
        "code_verifier": verifier,
        "resource": f"{base}/mcp",
    }
    answer = requests.post(metadata.json()["token_endpoint"], data=fields, timeout=30)
    if answer.status_code != 200:
        print(f"no token: the token endpoint answered {answer.status_code}: {answer.text[:300]}", file=sys.stderr)
        return 1
    print(f"access token for {answer.json()['expires_in']} s (refresh token not shown)", file=sys.stderr)
    print(answer.json()["access_token"], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
