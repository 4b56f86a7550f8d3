"""A person in a browser, headless: follows the sign-in's redirects, approves the consent page.

Used by the sign-in tests and by `make conformance` to drive the authorization-code scenario.
Keeps cookies as a browser does on a local origin (Secure cookies included: browsers treat
127.0.0.1 as a secure context), and stops at the redirect to the client's redirect URI: that
one carries the code (or the error) for the client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urlsplit

import requests

HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


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
                raise AssertionError(f"sign-in stopped at {reply.url}: HTTP {reply.status_code} {reply.text[:300]}")
            location = reply.headers["Location"]
            if location.startswith(self.redirect_uri):
                return location
            reply = self._request("GET", location)
        raise AssertionError("too many redirects")
