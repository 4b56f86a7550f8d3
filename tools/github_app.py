"""Create the stack's GitHub App in one step, with GitHub's manifest flow, and put its client ID
and secret in the stack's config.

    make github-app URL=$(pulumi stack output url) [ORG=my-org]
    make github-app FAKE=1          # the whole flow offline, against the built-in fake GitHub

Serves a page on 127.0.0.1 that posts the app's manifest to GitHub (read-only permissions:
Metadata, Contents, Issues, Pull requests, and Members with `authAllowedOrgs`; no webhook; the
stack's sign-in callback). You confirm on GitHub; GitHub sends a code back to this page, which
trades it at `POST /app-manifests/{code}/conversions` for the app's credentials and runs
`pulumi config set` for them (the secret with `--secret`). The app's private key, which GitHub
also sends, is not kept: the stack signs people in and never acts as the app itself.
Then install the app on the organization (all or selected repositories) at the URL printed.

The Pulumi CLI and a selected stack are checked before anything is created on GitHub; if the
config cannot be set once the app exists, the command says how to finish by hand, the secret
kept in a file only you can read.
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import shutil
import subprocess
import sys
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
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


def config_commands(app: dict[str, Any]) -> list[list[str]]:
    """The stack's config for sign-in through this app, private repositories on (the secret apart)."""
    return [
        ["config", "set", "auth", "github"],
        ["config", "set", "githubOAuthClientId", str(app["client_id"])],
        ["config", "set", "privateRepositories", "true"],
    ]


def preflight(pulumi: str, stack: str | None) -> str | None:
    """Why the app's config could not be set, found before the app is created on GitHub (an app
    whose secret was never written down must be given a new one by hand); None when it could."""
    if shutil.which(pulumi) is None:
        return (
            f"the Pulumi CLI ({pulumi}) is not on PATH: install it (https://www.pulumi.com/docs/iac/download-install/)"
        )
    where = ["--stack", stack] if stack else []
    try:
        command = [pulumi, "stack", "--show-name", *where]
        shown = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the Pulumi CLI did not answer ({type(exc).__name__})"
    if shown.returncode != 0:
        return "no Pulumi stack is selected here: run it where Pulumi.yaml is, after pulumi stack select <stack>"
    return None


def configure(app: dict[str, Any], pulumi: str, stack: str | None) -> None:
    """Set the stack's config; CalledProcessError or OSError when the Pulumi CLI refuses."""
    where = ["--stack", stack] if stack else []
    for command in config_commands(app):
        subprocess.run([pulumi, *command, *where], check=True, timeout=120, capture_output=True, text=True)
    # The secret goes in on standard input: never on a command line another process can read.
    subprocess.run(
        [pulumi, "config", "set", "--secret", "githubOAuthClientSecret", *where],
        input=str(app["client_secret"]),
        text=True,
        check=True,
        timeout=120,
        capture_output=True,
    )


def finish_by_hand(app: dict[str, Any], stack: str | None, why: str, directory: Path) -> str:
    """What to run when the config could not be set after the app exists: its secret in a file
    only this user may read (never printed, never on a command line), and the exact commands."""
    secret_file = directory / f"github-app-{app.get('slug') or app['client_id']}.secret"
    secret_file.touch(mode=0o600)
    secret_file.chmod(0o600)
    secret_file.write_text(str(app["client_secret"]))
    where = f" --stack {stack}" if stack else ""
    lines = [f"pulumi {' '.join(command)}{where}" for command in config_commands(app)]
    lines.append(
        f"pulumi config set --secret githubOAuthClientSecret{where} < {secret_file.name} && rm {secret_file.name}"
    )
    return (
        f"github-app: the GitHub App {app.get('slug')} exists (client ID {app['client_id']}), but its config "
        f"could not be set ({why}). Its secret is in {secret_file} (readable by you alone). Finish with:\n"
        + "\n".join(f"  {line}" for line in lines)
    )


def drive(flow: Flow) -> None:
    """Play the person's part against the built-in fake GitHub: submit the page's form, follow
    GitHub's answer back to this command (the fake approves at once)."""
    page = requests.get(f"{flow.base}/", timeout=TIMEOUT).text
    document = html.unescape(page.split('name="manifest" value="', 1)[1].split('"', 1)[0])
    created = requests.post(flow.action, data={"manifest": document}, allow_redirects=False, timeout=TIMEOUT)
    requests.get(created.headers["Location"], timeout=TIMEOUT)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the stack's URL: pulumi stack output url")
    parser.add_argument("--org", help="create the app owned by this organization (else by you)")
    parser.add_argument("--orgs", action="store_true", help="the stack sets authAllowedOrgs: ask for Members read")
    parser.add_argument("--github", default="https://github.com", help="GitHub's web host (GitHub Enterprise Server)")
    parser.add_argument("--api", help="GitHub's API (default: from --github)")
    parser.add_argument("--stack", help="the Pulumi stack to configure (default: the selected one)")
    parser.add_argument("--pulumi", default="pulumi", help="the Pulumi CLI")
    parser.add_argument("--no-browser", action="store_true", help="print the URL to open instead")
    parser.add_argument(
        "--fake-github",
        action="store_true",
        help="the whole flow offline against the built-in fake GitHub; prints the config it would set",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if not args.url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        print("github-app: URL is the stack's https URL (pulumi stack output url)", file=sys.stderr)
        return 2
    fake = None
    if args.fake_github:
        from tools.fake_github import FakeGitHub

        fake = FakeGitHub().start()
        args.github = args.api = fake.url
    else:
        problem = preflight(args.pulumi, args.stack)
        if problem:
            print(f"github-app: nothing created: {problem}", file=sys.stderr)
            return 2
    flow = Flow(args.url, args.github, args.api or api_url(args.github), args.org, args.orgs)
    threading.Thread(target=flow.server.serve_forever, daemon=True).start()
    try:
        if fake is not None:
            drive(flow)
        else:
            print(f"Open {flow.base}/ to create the GitHub App (GitHub shows its read-only permissions).", flush=True)
            if not args.no_browser:
                webbrowser.open(f"{flow.base}/")
        flow.done.wait()
    finally:
        flow.server.shutdown()
        if fake is not None:
            fake.stop()
    if flow.app is None:
        print(f"github-app: {flow.error}", file=sys.stderr)
        return 1
    if fake is not None:
        commands = [f"pulumi {' '.join(c)}" for c in config_commands(flow.app)]
        commands.append("pulumi config set --secret githubOAuthClientSecret   (the secret on standard input)")
        print(f"Created {flow.app.get('slug')} on the fake GitHub. Against a stack this would run:", flush=True)
        print("\n".join(f"  {c}" for c in commands), flush=True)
        return 0
    try:
        configure(flow.app, args.pulumi, args.stack)
    except (OSError, subprocess.SubprocessError) as exc:
        stderr = getattr(exc, "stderr", None)
        why = " ".join(str(stderr or exc).split())[:200]
        print(finish_by_hand(flow.app, args.stack, why, Path.cwd()), file=sys.stderr)
        return 1
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
