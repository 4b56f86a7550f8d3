"""A fake GitHub REST API: a real HTTP/1.1 server on 127.0.0.1 answering in GitHub's shapes.

Used by the tests, the benchmarks and `make dev` without a token. By default it answers
`GET /search/repositories` with deterministic repositories and an ETag (and 304 to a matching
`If-None-Match`); queued `Answer`s override that, one request each, to script failures.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECONDARY_LIMIT_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


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


class FakeGitHub:
    def __init__(self, port: int = 0) -> None:
        self.answers: deque[Answer] = deque()
        self.seen: list[Seen] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
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
        if seen.path != "/search/repositories":
            return Answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        if not seen.params.get("q"):
            return Answer(422, validation_failed("q", "missing"))
        body = search_answer(seen.params)
        etag = 'W/"' + hashlib.sha256(json.dumps(seen.params, sort_keys=True).encode()).hexdigest()[:32] + '"'
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
                    self.send_header("Content-Type", "application/json; charset=utf-8")
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
