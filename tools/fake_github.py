"""A fake GitHub REST API: a real HTTP/1.1 server on 127.0.0.1 answering in GitHub's shapes.

Used by the tests, the benchmarks and `make dev FAKE=1`. By default it answers
`GET /search/repositories`, `GET /repos/{owner}/{repo}` and `GET /repos/{owner}/{repo}/readme`
(raw Markdown) with deterministic content and an ETag (and 304 to a matching `If-None-Match`).

Failures can be asked for from outside, by anything that can send a query or a name: a search
query word, an owner or a repository named after a trigger (`missing` -> 404, `rate-limited` ->
403 with the primary rate limit spent, `broken` -> 500, `slow` -> an answer after 5 s; a
repository named `no-readme` has no README). Tests can also queue `Answer`s, which override
everything, one request each.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECONDARY_LIMIT_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
SLOW_SECONDS = 5.0
README_PARAGRAPHS = 3


@dataclass
class Answer:
    status: int
    body: Any = None  # dict/list -> JSON; bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    drop_connection: bool = False  # close the socket after answering, without saying so


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


def repository(n: int, q: str) -> dict[str, Any]:
    # GitHub repository names are ASCII letters, digits, ".", "-" and "_"
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in q.lower())[:30].strip("-") or "repo"
    return {
        "id": 1000 + n,
        "full_name": f"octo-{n}/{slug}",
        "html_url": f"https://github.com/octo-{n}/{slug}",
        "url": f"https://api.github.com/repos/octo-{n}/{slug}",
        "stargazers_count": 5000 - n,
        "forks_count": 10 * n,
        "description": f"Repository {n} about {q}",
        "language": "Python",
        "topics": ["search", slug],
        "updated_at": "2026-11-01T12:00:00Z",
    }


def repository_page(owner: str, repo: str) -> dict[str, Any]:
    """`GET /repos/{owner}/{repo}`: the fields the function reads, and a few it does not."""
    return {
        "id": 4242,
        "name": repo,
        "full_name": f"{owner}/{repo}",
        "html_url": f"https://github.com/{owner}/{repo}",
        "url": f"https://api.github.com/repos/{owner}/{repo}",
        "description": f"The {repo} project",
        "stargazers_count": 1234,
        "watchers_count": 1234,
        "forks_count": 56,
        "open_issues_count": 7,
        "language": "Python",
        "topics": ["search", "mcp"],
        "license": {"key": "apache-2.0", "name": "Apache License 2.0", "spdx_id": "Apache-2.0"},
        "default_branch": "main",
        "archived": False,
        "visibility": "public",
        "updated_at": "2026-11-01T12:00:00Z",
        "pushed_at": "2026-11-02T08:30:00Z",
    }


def readme(owner: str, repo: str) -> str:
    paragraphs = [f"{repo} is a project by {owner}. Paragraph {n}." for n in range(1, README_PARAGRAPHS + 1)]
    return f"# {repo}\n\n" + "\n\n".join(paragraphs) + "\n"


def trigger(words: list[str]) -> Answer | None:
    """The failure a query word or a name asks for, if any."""
    for word in words:
        if word == "missing":
            return Answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        if word == "rate-limited":
            return Answer(403, {"message": "API rate limit exceeded for user ID 1."}, rate_limit_headers(0))
        if word == "broken":
            return Answer(500, {"message": "Server Error"})
        if word == "slow":
            return Answer(200, {"total_count": 0, "incomplete_results": False, "items": []}, delay=SLOW_SECONDS)
    return None


def search_answer(params: dict[str, str]) -> dict[str, Any]:
    q = params.get("q", "")
    per_page = int(params.get("per_page", "30"))
    return {
        "total_count": 4242,
        "incomplete_results": False,
        "items": [repository(n, q) for n in range(1, per_page + 1)],
    }


def rate_limit_headers(remaining: int = 29) -> dict[str, str]:
    return {
        "x-ratelimit-limit": "30",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(time.time()) + 42),
        "x-ratelimit-resource": "search",
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # parallel clients connect at once; the default 5 drops SYNs


class FakeGitHub:
    def __init__(self, port: int = 0) -> None:
        self.answers: deque[Answer] = deque()
        self.seen: list[Seen] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.answers.clear()
            self.seen.clear()
            self.connections = 0

    def queue(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def next_answer(self, seen: Seen) -> Answer:
        with self._lock:
            self.seen.append(seen)
            if self.answers:
                return self.answers.popleft()
        parts = seen.path.strip("/").split("/")
        body: Any
        if seen.path == "/search/repositories":
            if not seen.params.get("q"):
                return Answer(422, validation_failed("q", "missing"))
            triggered = trigger(seen.params["q"].split())
            body = search_answer(seen.params)
        elif len(parts) in (3, 4) and parts[0] == "repos" and parts[3:] in ([], ["readme"]):
            owner, repo = parts[1:3]
            triggered = trigger([owner, repo]) or (trigger(["missing"]) if parts[3:] and repo == "no-readme" else None)
            body = repository_page(owner, repo) if len(parts) == 3 else readme(owner, repo).encode()
        else:
            return Answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        if triggered is not None:
            return triggered
        tag = json.dumps([seen.path, seen.params], sort_keys=True).encode()
        etag = 'W/"' + hashlib.sha256(tag).hexdigest()[:32] + '"'
        if seen.headers.get("if-none-match") == etag:
            return Answer(304, b"", {"etag": etag, **rate_limit_headers()})
        return Answer(200, body, {"etag": etag, **rate_limit_headers()})


def validation_failed(field_name: str, code: str) -> dict[str, Any]:
    return {
        "message": "Validation Failed",
        "errors": [
            {"resource": "Search", "field": field_name, "code": code, "message": f"The search {field_name} is {code}."}
        ],
        "documentation_url": "https://docs.github.com/v3/search",
        "status": "422",
    }


def _handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as GitHub

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK hold the body back ~40 ms, as no real server would.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with fake._lock:
                fake.connections += 1

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = fake.next_answer(Seen(parts.path, params, headers))
            if answer.delay:
                time.sleep(answer.delay)
            if isinstance(answer.body, bytes):
                body = answer.body
            elif answer.body is None:
                body = b""
            else:
                body = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                if answer.status != 304:
                    raw = isinstance(answer.body, bytes) and self.path.split("?")[0].endswith("/readme")
                    media = "application/vnd.github.raw+json" if raw else "application/json; charset=utf-8"
                    self.send_header("Content-Type", media)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                self.close_connection = True
                return
            if answer.drop_connection:
                self.close_connection = True

    return Handler


def main() -> None:
    """Serve the fake on a port for manual use: `python -m tools.fake_github 8765`."""
    import sys

    fake = FakeGitHub(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(f"fake GitHub at {fake.url}", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        fake._server.server_close()


if __name__ == "__main__":
    main()
