"""Create the stack's GitHub App in one step, with GitHub's manifest flow, and put its client ID
and secret in the stack's config.

    make github-app URL=$(pulumi stack output url) [ORG=my-org]

Serves a page on 127.0.0.1 that posts the app's manifest to GitHub (read-only permissions:
Metadata, Contents, Issues, Pull requests, and Members with `authAllowedOrgs`; no webhook; the
stack's sign-in callback). You confirm on GitHub; GitHub sends a code back to this page, which
trades it at `POST /app-manifests/{code}/conversions` for the app's credentials and runs
`pulumi config set` for them (the secret with `--secret`). The app's private key, which GitHub
also sends, is not kept: the stack signs people in and never acts as the app itself.
Then install the app on the organization (all or selected repositories) at the URL printed.
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import subprocess
import sys
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

TIMEOUT = 30
# Read-only, and only what search and reading need (GitHub's "Permissions required for GitHub
# Apps": search, contents, issues and pulls). Members only when the stack checks org membership.
PERMISSIONS = {"metadata": "read", "contents": "read", "issues": "read", "pull_requests": "read"}
MEMBERS = {"members": "read"}  # GET /user/memberships/orgs/{org} with a user token


def manifest(url: str, redirect: str, *, orgs: bool, name: str | None = None) -> dict[str, Any]:
    """The GitHub App manifest for the stack at `url`; GitHub sends its code to `redirect`."""
    host = urlsplit(url).hostname or url
    return {
        "name": name or f"GitHub search ({host})"[:34],  # GitHub takes 34 characters
        "url": url,
        "redirect_url": redirect,
        "callback_urls": [f"{url}/oauth/callback"],
        "public": False,
        "request_oauth_on_install": False,
        "hook_attributes": {"url": f"{url}/no-webhooks", "active": False},
        "default_permissions": {**PERMISSIONS, **(MEMBERS if orgs else {})},
        "default_events": [],
    }


def api_url(web: str) -> str:
    """GitHub's API for its web host: api.github.com, or a GitHub Enterprise Server's /api/v3."""
    return "https://api.github.com" if urlsplit(web).hostname == "github.com" else f"{web.rstrip('/')}/api/v3"


def form_page(action: str, document: dict[str, Any]) -> bytes:
    return (
        "<!doctype html><meta charset=utf-8><title>Create the GitHub App</title>"
        "<body style='font:16px system-ui;max-width:40rem;margin:3rem auto'>"
        "<h1>Create the stack's GitHub App</h1><p>GitHub shows the app's read-only permissions next; "
        "confirm there, and come back here.</p>"
        f'<form method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="manifest" value="{html.escape(json.dumps(document))}">'
        '<button type="submit">Create on GitHub</button></form>'
        "<script>document.forms[0].submit()</script></body>"
    ).encode()


class Flow:
    """One run of the manifest flow: the page, the code GitHub sends back, its conversion."""

    def __init__(self, url: str, web: str, api: str, org: str | None, orgs: bool) -> None:
        self.url, self.web, self.api, self.org = url.rstrip("/"), web.rstrip("/"), api.rstrip("/"), org
        self.state = secrets.token_urlsafe(16)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.document = manifest(self.url, f"{self.base}/created", orgs=orgs)
        self.app: dict[str, Any] | None = None
        self.error: str | None = None
        self.done = threading.Event()

    @property
    def action(self) -> str:
        where = f"/organizations/{self.org}/settings/apps/new" if self.org else "/settings/apps/new"
        return f"{self.web}{where}?state={self.state}"

    def convert(self, code: str) -> dict[str, Any]:
        reply = requests.post(
            f"{self.api}/app-manifests/{code}/conversions",
            headers={"Accept": "application/vnd.github+json"},
            timeout=TIMEOUT,
        )
        if reply.status_code != 201:
            raise RuntimeError(f"GitHub did not convert the manifest: HTTP {reply.status_code} {reply.text[:200]}")
        answer: dict[str, Any] = reply.json()
        return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        flow = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/":
                    return self._send(200, form_page(flow.action, flow.document))
                if parts.path != "/created":
                    return self._send(404, b"not found")
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                if params.get("state") != flow.state or not params.get("code"):
                    return self._send(400, b"This is not the answer to the app this command asked for.")
                try:
                    flow.app = flow.convert(params["code"])
                    body = b"The GitHub App is created; go back to your terminal."
                    status = 200
                except (RuntimeError, requests.RequestException) as exc:
                    flow.error, body, status = str(exc), b"GitHub did not finish creating the app.", 502
                flow.done.set()
                return self._send(status, body)

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def configure(app: dict[str, Any], pulumi: str, stack: str | None) -> None:
    """The stack's config for sign-in through this app, private repositories on."""
    where = ["--stack", stack] if stack else []
    commands = [
        ["config", "set", "auth", "github"],
        ["config", "set", "githubOAuthClientId", str(app["client_id"])],
        ["config", "set", "privateRepositories", "true"],
    ]
    for command in commands:
        subprocess.run([pulumi, *command, *where], check=True, timeout=120)
    # The secret goes in on standard input: never on a command line another process can read.
    subprocess.run(
        [pulumi, "config", "set", "--secret", "githubOAuthClientSecret", *where],
        input=str(app["client_secret"]),
        text=True,
        check=True,
        timeout=120,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the stack's URL: pulumi stack output url")
    parser.add_argument("--org", help="create the app owned by this organization (else by you)")
    parser.add_argument("--orgs", action="store_true", help="the stack sets authAllowedOrgs: ask for Members read")
    parser.add_argument("--github", default="https://github.com", help="GitHub's web host (GitHub Enterprise Server)")
    parser.add_argument("--api", help="GitHub's API (default: from --github)")
    parser.add_argument("--stack", help="the Pulumi stack to configure (default: the selected one)")
    parser.add_argument("--pulumi", default="pulumi", help="the Pulumi CLI")
    parser.add_argument("--no-browser", action="store_true", help="print the URL to open instead")
    args = parser.parse_args(argv)
    if not args.url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        print("github-app: URL is the stack's https URL (pulumi stack output url)", file=sys.stderr)
        return 2
    flow = Flow(args.url, args.github, args.api or api_url(args.github), args.org, args.orgs)
    threading.Thread(target=flow.server.serve_forever, daemon=True).start()
    print(f"Open {flow.base}/ to create the GitHub App (GitHub shows its read-only permissions).", flush=True)
    if not args.no_browser:
        webbrowser.open(f"{flow.base}/")
    flow.done.wait()
    flow.server.shutdown()
    if flow.app is None:
        print(f"github-app: {flow.error}", file=sys.stderr)
        return 1
    configure(flow.app, args.pulumi, args.stack)
    print(
        f"Created {flow.app.get('slug')} and set auth, githubOAuthClientId, privateRepositories and the secret.\n"
        "Now install it on the organization, on all or selected repositories:\n"
        f"  {flow.app.get('html_url')}/installations/new\n"
        "then: pulumi up",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
