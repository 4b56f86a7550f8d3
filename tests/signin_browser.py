"""A person in a browser, headless: follows the sign-in's redirects, approves the consent page.

Keeps cookies as a browser does on a local origin (Secure cookies included: browsers treat
127.0.0.1 as a secure context), and stops at the first redirect that leaves the origins it was
told about: that is the client's redirect URI with the code (or the error).
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
    origins: tuple[str, ...]  # the sign-in server's and GitHub's
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
            if not location.startswith(self.origins):
                return location
            reply = self._request("GET", location)
        raise AssertionError("too many redirects")
