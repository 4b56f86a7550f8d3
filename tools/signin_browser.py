"""A person in a browser, headless: follows the sign-in's redirects, approves the consent page.

Used by the sign-in tests and by `make conformance` to drive the authorization-code scenario.
Keeps cookies as a browser does on a local origin (Secure cookies included: browsers treat
127.0.0.1 as a secure context), and stops at the redirect to the client's redirect URI: that
one carries the code (or the error) for the client.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urlsplit

import requests

HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
# The refusal page (handler/signin/pages.py): its title, and what it says.
TITLE, PARAGRAPH = re.compile(r"<h1>(.*?)</h1>", re.S), re.compile(r"<p>(.*?)</p>", re.S)
TAG = re.compile(r"<[^>]+>")
# The consent page names GitHub's host: the fake GitHub (make dev FAKE=1) listens on loopback.
GITHUB_HOST = re.compile(r"you sign in with GitHub \(([^)]*)\)")


def reason(body: str) -> str:
    """What a sign-in page or answer says, in a line: the page's title and first paragraph, or
    an OAuth error's description; else the start of the body."""
    title, paragraph = TITLE.search(body), PARAGRAPH.search(body)
    if title is not None:
        said = [unescape(TAG.sub("", m[1])).strip() for m in (title, paragraph) if m is not None]
        return ": ".join(s for s in said if s)
    if '"error_description"' in body:
        try:
            return str(json.loads(body)["error_description"])
        except (ValueError, KeyError, TypeError):
            pass
    return " ".join(body.split())[:200]


def signs_in_with_a_fake_github(consent_page: str) -> bool:
    """Whether the consent page sends the person to a GitHub on this machine (the built-in fake)."""
    found = GITHUB_HOST.search(consent_page)
    host = found[1].rsplit(":", 1)[0] if found else ""
    return host in ("127.0.0.1", "localhost", "[::1]")


class Stopped(AssertionError):
    """The sign-in stopped at a page that is not a step of it (a refusal, an error)."""

    def __init__(self, url: str, status: int, why: str) -> None:
        super().__init__(f"sign-in stopped at {url}: HTTP {status} {why}")
        self.url, self.status, self.why = url, status, why


@dataclass
class Visit:
    status: int
    url: str
    body: str
    headers: dict[str, str]


@dataclass
class Browser:
    redirect_uri: str  # the client's: where the person's part ends
    decision: str = "approve"
    cookies: dict[str, str] = field(default_factory=dict)
    visits: list[Visit] = field(default_factory=list)

    def _request(self, method: str, url: str, data: dict[str, str] | None = None) -> requests.Response:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if method == "POST":
            headers["Origin"] = origin
        reply = requests.request(method, url, data=data, headers=headers, allow_redirects=False, timeout=10)
        for cookie in reply.raw.headers.getlist("Set-Cookie"):
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        self.visits.append(Visit(reply.status_code, url, reply.text, dict(reply.headers)))
        return reply

    def sign_in(self, url: str) -> str:
        """From the authorization URL to where the client gets its answer; AssertionError if stuck."""
        reply = self._request("GET", url)
        for _ in range(10):
            if reply.status_code == 200 and 'action="/oauth/consent"' in reply.text:
                fields = {name: unescape(value) for name, value in HIDDEN.findall(reply.text)}
                base = "{0.scheme}://{0.netloc}".format(urlsplit(reply.url))
                reply = self._request("POST", f"{base}/oauth/consent", {**fields, "decision": self.decision})
                continue
            if reply.status_code not in (302, 303):
                raise Stopped(reply.url, reply.status_code, reason(reply.text))
            location = reply.headers["Location"]
            if location.startswith(self.redirect_uri):
                return location
            reply = self._request("GET", location)
        raise AssertionError("too many redirects")


def main(argv: list[str] | None = None) -> int:
    """`python -m tools.signin_browser <authorization URL>`: a person who approves the consent page,
    as a browser would, and arrives at the client's redirect URI. Made to stand in for a browser
    (BROWSER="python -m tools.signin_browser %s", which Python's webbrowser module obeys) when
    the stack signs in with the built-in fake GitHub."""
    import sys
    from urllib.parse import parse_qs

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.signin_browser <authorization URL>", file=sys.stderr)
        return 2
    redirect_uri = parse_qs(urlsplit(args[0]).query).get("redirect_uri", [""])[-1]
    try:
        landed = Browser(redirect_uri).sign_in(args[0])
    except Stopped as exc:
        print(f"sign-in stopped (HTTP {exc.status}): {exc.why}", file=sys.stderr)
        return 1
    requests.get(landed, timeout=10)  # the client's redirect URI, with the code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
