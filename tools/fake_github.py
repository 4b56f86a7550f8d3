"""A fake GitHub REST API: a real HTTP/1.1 server on 127.0.0.1 answering in GitHub's shapes.

Used by the tests, the benchmarks and `make dev FAKE=1`. By default it answers
`GET /search/repositories`, `/search/code` (with text matches), `/search/issues`,
`/repos/{owner}/{repo}`, `/repos/{owner}/{repo}/readme` (raw Markdown),
`/repos/{owner}/{repo}/issues/{number}` and `/repos/{owner}/{repo}/contents/{path}` with
deterministic content of realistic size and an ETag (and 304 to a matching `If-None-Match`).
Contents: any path is a text file of a few KB, except `big.py` (60 KB), `logo.png` (binary),
`huge.bin` (over 1 MB: no content, as GitHub), `link` (a symlink), `vendor` (a submodule), a
path ending in `/` or `docs` (a directory of 150 entries) and `missing` (404). Code search
answers 401 without a token, as GitHub does.

Sign-in (tools/fake_github_oauth.py): `/login/oauth/authorize`, `/login/oauth/access_token`,
`/user` and `/user/memberships/orgs/{org}`, as github.com serves them for an OAuth App.

Search answers come from the owners and repositories the query's `repo:`, `org:` and `user:`
qualifiers name (their union), and a query word `outsider` puts `outsider/leak` first, as a
GitHub that misread a query would.

Failures can be asked for from outside, by anything that can send a query or a name: a search
query word, an owner or a repository named after a trigger (`missing` -> 404, `rate-limited` ->
403 with the primary rate limit spent, `broken` -> 500, `slow` -> an answer after 5 s; a
repository named `no-readme` has no README). Tests can also queue `Answer`s, which override
everything, one request each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tools.fake_github_oauth import FakeOAuth

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


SCOPE = re.compile(r'(?:^|[\s(])(repo|org|user):"?([A-Za-z0-9._/-]+)', re.IGNORECASE)
OUTSIDER = "outsider/leak"  # the repository a query word `outsider` slips into an answer


def scope(q: str) -> list[str]:
    """The owners and repositories the positive repo:, org: and user: qualifiers of `q` name: where
    the fake's answers come from, as GitHub's would (their union: the engines agree on that)."""
    return [value for _, value in SCOPE.findall(q)]


def full_name(n: int, q: str, slug: str, default: str) -> str:
    """The nth item's repository: within the query's scope if it has one, else `default`; with
    the word `outsider` in the query, the first is outside anything asked for."""
    if n == 1 and "outsider" in q.split():
        return OUTSIDER
    named = scope(q)
    if not named:
        return default
    where = named[(n - 1) % len(named)]
    return where if "/" in where else f"{where}/{slug}-{n}"


def owner_repo(name: str) -> tuple[str, str]:
    owner, _, repo = name.partition("/")
    return owner, repo


def repository(n: int, q: str) -> dict[str, Any]:
    # GitHub repository names are ASCII letters, digits, ".", "-" and "_"
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in q.lower())[:30].strip("-") or "repo"
    name = full_name(n, q, slug, f"octo-{n}/{slug}")
    return {
        "id": 1000 + n,
        "full_name": name,
        "private": False,
        "html_url": f"https://github.com/{name}",
        "url": f"https://api.github.com/repos/{name}",
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
        "private": False,
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


LINES = [f"    line {n}: value = compute(record, {n})  # a line of realistic length\n" for n in range(1, 2000)]


def code_hit(n: int, q: str) -> dict[str, Any]:
    repo = full_name(n, q, "code", f"octo-{n}/code-{n}")
    path = f"src/module_{n}/handler.py"
    fragment = f"def handler(event):\n    # {q}\n    return respond({q!r}, event)\n"
    return {
        "name": "handler.py",
        "path": path,
        "sha": hashlib.sha1(f"{repo}/{path}".encode(), usedforsecurity=False).hexdigest(),  # git names blobs so
        "url": f"https://api.github.com/repositories/{n}/contents/{path}",
        "git_url": f"https://api.github.com/repositories/{n}/git/blobs/abc",
        "html_url": f"https://github.com/{repo}/blob/main/{path}",
        "repository": {**repository(n, q), "full_name": repo, "html_url": f"https://github.com/{repo}"},
        "score": 1.0,
        "text_matches": [
            {
                "object_url": f"https://api.github.com/repositories/{n}/contents/{path}",
                "object_type": "FileContent",
                "property": "content",
                "fragment": fragment * (1 + n % 3) + "".join(LINES[: n % 5]),
                "matches": [{"text": q, "indices": [20, 20 + len(q)]}],
            }
            for _ in range(1 + n % 4)
        ],
    }


def private_page(full_name: str) -> dict[str, Any]:
    """What makes a repository answer private, on top of a public one's fields."""
    return {
        "full_name": full_name,
        "html_url": f"https://github.com/{full_name}",
        "url": f"https://api.github.com/repos/{full_name}",
        "private": True,
        "visibility": "private",
        "description": f"The private {full_name.split('/')[1]} project",
    }


def private_hit(n: int, q: str, full_name: str) -> dict[str, Any]:
    hit = code_hit(n, q)
    return {
        **hit,
        "html_url": f"https://github.com/{full_name}/blob/main/{hit['path']}",
        "repository": {**hit["repository"], **private_page(full_name)},
    }


def issue(owner: str, repo: str, number: int, q: str = "") -> dict[str, Any]:
    pull = number % 3 == 0
    return {
        "url": f"https://api.github.com/repos/{owner}/{repo}/issues/{number}",
        "repository_url": f"https://api.github.com/repos/{owner}/{repo}",
        "html_url": f"https://github.com/{owner}/{repo}/{'pull' if pull else 'issues'}/{number}",
        "id": 90000 + number,
        "number": number,
        "title": f"Issue {number} about {q or repo}",
        "user": {"login": f"user{number}", "id": number, "type": "User"},
        "labels": [{"id": 1, "name": "bug", "color": "d73a4a"}, {"id": 2, "name": f"area/{repo}", "color": "fff"}],
        "state": "open" if number % 2 else "closed",
        "locked": False,
        "comments": number * 2,
        "created_at": "2026-10-01T10:00:00Z",
        "updated_at": "2026-11-01T10:00:00Z",
        "closed_at": None,
        "author_association": "CONTRIBUTOR",
        "body": f"When I search for {q or repo} the answer is wrong.\n\n" + "Steps to reproduce: ... " * 60,
        "reactions": {"total_count": number, "+1": number},
        **({"pull_request": pull_request(owner, repo, number)} if pull else {}),
    }


def pull_request(owner: str, repo: str, number: int) -> dict[str, Any]:
    """An issue's `pull_request` link: of the closed ones (even numbers), 6, 18, 30... were merged."""
    merged = number % 12 == 6
    return {
        "url": f"https://api.github.com/repos/{owner}/{repo}/pulls/{number}",
        "html_url": f"https://github.com/{owner}/{repo}/pull/{number}",
        "merged_at": "2026-10-20T09:00:00Z" if merged else None,
    }


def contents(owner: str, repo: str, path: str) -> Answer | dict[str, Any] | list[dict[str, Any]]:
    """`/repos/{owner}/{repo}/contents/{path}` in GitHub's shapes: a file, a directory, a link..."""
    name = path.rstrip("/").rsplit("/", 1)[-1] or repo
    base = f"https://github.com/{owner}/{repo}"
    web = quote(path, safe="/")  # GitHub's html_url is percent-encoded
    sha = hashlib.sha1(f"{owner}/{repo}/{path}".encode(), usedforsecurity=False).hexdigest()  # git names blobs so
    if name == "missing":
        return Answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
    if path == "" or path.endswith("/") or name == "docs":
        directory = path.rstrip("/")
        prefix = f"{directory}/" if directory else ""
        return [
            {
                "name": f"page-{n}.md",
                "path": f"{prefix}page-{n}.md",
                "type": "dir" if n % 10 == 0 else "file",
                "size": 0 if n % 10 == 0 else 100 * n,
                "sha": sha,
                "html_url": f"{base}/blob/main/{prefix}page-{n}.md",
            }
            for n in range(150)
        ]
    entry = {"name": name, "path": path, "sha": sha, "html_url": f"{base}/blob/main/{web}", "type": "file"}
    if name == "link":
        return {**entry, "type": "symlink", "target": "docs/page-1.md", "size": 13}
    if name == "vendor":
        return {**entry, "type": "submodule", "submodule_git_url": "https://github.com/octo/vendor.git", "size": 0}
    if name == "huge.bin":
        return {**entry, "size": 3_000_000, "encoding": "none", "content": ""}
    if name == "logo.png":
        raw = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    elif name == "big.py":
        raw = "".join(LINES[:800]).encode()
    else:
        raw = f"# {path} in {owner}/{repo}\n\n".encode() + "".join(LINES[:40]).encode()
    encoded = base64.encodebytes(raw).decode()  # GitHub wraps its base64 at 60 columns, with newlines
    return {**entry, "size": len(raw), "encoding": "base64", "content": encoded}


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


class FakeApps:
    """GitHub's manifest flow: the confirmation page's POST (which redirects with a code at once,
    as if the person clicked Create) and `POST /app-manifests/{code}/conversions`, once per code."""

    def __init__(self) -> None:
        self.pending: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []

    def new(self, text: str, state: str) -> Answer:
        try:
            document = json.loads(text)
        except ValueError:
            return Answer(422, {"message": "Invalid manifest"})
        if not isinstance(document, dict) or not str(document.get("redirect_url", "")).startswith("http"):
            return Answer(422, {"message": "Invalid manifest: redirect_url"})
        code = secrets.token_hex(10)
        self.pending[code] = document
        return Answer(302, b"", {"Location": f"{document['redirect_url']}?code={code}&state={state}"})

    def convert(self, code: str) -> Answer:
        document = self.pending.pop(code, None)
        if document is None:
            return Answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        slug = "".join(c if c.isalnum() else "-" for c in str(document["name"]).lower()).strip("-")
        app = {
            "id": 4000 + len(self.created),
            "slug": slug,
            "name": document["name"],
            "client_id": "Iv23li" + secrets.token_hex(7),
            "client_secret": secrets.token_hex(20),
            "webhook_secret": None,
            "pem": "-----BEGIN RSA PRIVATE KEY-----\nfake\n-----END RSA PRIVATE KEY-----\n",
            "html_url": f"https://github.com/apps/{slug}",
            "permissions": document.get("default_permissions", {}),
            "manifest": document,
        }
        self.created.append(app)
        return Answer(201, {k: v for k, v in app.items() if k != "manifest"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # parallel clients connect at once; the default 5 drops SYNs


class FakeGitHub:
    def __init__(self, port: int = 0) -> None:
        self.answers: deque[Answer] = deque()
        self.seen: list[Seen] = []
        self.connections = 0
        self.oauth = FakeOAuth()
        self.apps = FakeApps()
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
            self.oauth = FakeOAuth()
            self.apps = FakeApps()

    def queue(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def _sign_in(self, seen: Seen) -> Answer | None:
        if seen.path == "/login/oauth/authorize":
            status, headers = self.oauth.authorize(seen.params)
            return Answer(status, b"", headers)
        signed_in = self.oauth.api(seen.path, seen.headers)
        return Answer(signed_in[0], signed_in[1], rate_limit_headers()) if signed_in is not None else None

    def _hidden(self, owner: str, repo: str) -> bool:
        return self.oauth.is_private(f"{owner}/{repo}")

    def _marked(self, hit: dict[str, Any]) -> dict[str, Any]:
        """A code hit in a repository that is private (one a `repo:` qualifier named) says so."""
        name = hit["repository"]["full_name"]
        return (
            {**hit, "repository": {**hit["repository"], **private_page(name)}}
            if self._hidden(*owner_repo(name))
            else hit
        )

    def _may_read(self, owner: str, repo: str, seen: Seen) -> bool:
        """A private repository is there only for a token that may read it (404 otherwise, as GitHub)."""
        return not self._hidden(owner, repo) or f"{owner}/{repo}".lower() in self.oauth.visible(seen.headers)

    def _private(self, seen: Seen) -> list[str]:
        """The private repositories a search shows this token first: those it may read, within
        the query's repo:, org: and user: qualifiers if it has any."""
        named = {value.lower() for value in scope(seen.params.get("q", ""))}
        return sorted(
            name for name in self.oauth.visible(seen.headers) if not named or {name, name.split("/")[0]} & named
        )

    def next_answer(self, seen: Seen) -> Answer:  # noqa: PLR0912 - one branch per GitHub endpoint
        with self._lock:
            self.seen.append(seen)
            if self.answers:
                return self.answers.popleft()
        parts = seen.path.strip("/").split("/")
        body: Any
        signed_in = self._sign_in(seen)
        if signed_in is not None:
            return signed_in
        if seen.path == "/search/repositories":
            if not seen.params.get("q"):
                return Answer(422, validation_failed("q", "missing"))
            triggered = trigger(seen.params["q"].split())
            body = search_answer(seen.params)
            q = seen.params["q"]
            body["items"] = [
                {**repository(n, q), **private_page(name)} for n, name in enumerate(self._private(seen), 1)
            ] + body["items"]
        elif seen.path == "/search/code":
            if "authorization" not in seen.headers:
                return Answer(
                    401, {"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest"}
                )
            triggered = trigger(seen.params.get("q", "").split())
            per_page = int(seen.params.get("per_page", "30"))
            q = seen.params.get("q", "")
            hidden = [private_hit(n, q, name) for n, name in enumerate(self._private(seen), 1)]
            body = {
                "total_count": 777,
                "incomplete_results": False,
                "items": hidden + [self._marked(code_hit(n, q)) for n in range(1, per_page + 1)],
            }
        elif seen.path == "/search/issues":
            q = seen.params.get("q", "")
            triggered = trigger(q.split())
            per_page = int(seen.params.get("per_page", "30"))
            body = {
                "total_count": 321,
                "incomplete_results": False,
                "items": [issue(*owner_repo(name), n, q) for n, name in enumerate(self._private(seen), 1)]
                + [
                    issue(*owner_repo(full_name(n, q, "tracker", "octo/tracker")), n, q) for n in range(1, per_page + 1)
                ],
            }
        elif parts[0] == "repos" and len(parts) >= 3 and not self._may_read(parts[1], parts[2], seen):
            return Answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        elif len(parts) == 5 and parts[0] == "repos" and parts[3] == "issues" and parts[4].isdigit():
            triggered = trigger(parts[1:3]) or (trigger(["missing"]) if int(parts[4]) > 10_000 else None)
            body = issue(parts[1], parts[2], int(parts[4]))
        elif len(parts) >= 4 and parts[0] == "repos" and parts[3] == "contents":
            found = contents(
                parts[1],
                parts[2],
                unquote("/".join(parts[4:])) + ("/" if seen.path.endswith("/") and len(parts) > 4 else ""),
            )
            triggered = trigger(parts[1:3]) or (found if isinstance(found, Answer) else None)
            body = found
        elif len(parts) in (3, 4) and parts[0] == "repos" and parts[3:] in ([], ["readme"]):
            owner, repo = parts[1:3]
            triggered = trigger([owner, repo]) or (trigger(["missing"]) if parts[3:] and repo == "no-readme" else None)
            page = {
                **repository_page(owner, repo),
                **(private_page(f"{owner}/{repo}") if self._hidden(owner, repo) else {}),
            }
            body = page if len(parts) == 3 else readme(owner, repo).encode()
        else:
            return Answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        if triggered is not None:
            return triggered
        # From what is answered, as GitHub's: two people who see different things get different tags.
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        tag = json.dumps([seen.path, seen.params, text], sort_keys=True, default=str).encode()
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

        def do_POST(self) -> None:
            """GitHub's token exchange (a form in, JSON out), and a GitHub App's manifest flow."""
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            parts = urlsplit(self.path)
            if parts.path == "/login/oauth/access_token":
                slow = fake.oauth.refresh_delay if form.get("grant_type") == "refresh_token" else 0.0
                self._answer(Answer(200, fake.oauth.access_token(form), delay=slow))
            elif parts.path.endswith("/settings/apps/new"):
                state = parse_qs(parts.query).get("state", [""])[-1]
                self._answer(fake.apps.new(form.get("manifest", ""), state))
            elif parts.path.startswith("/app-manifests/") and parts.path.endswith("/conversions"):
                self._answer(fake.apps.convert(parts.path.split("/")[2]))
            else:
                self._answer(Answer(404, {"message": "Not Found"}))

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._answer(fake.next_answer(Seen(parts.path, params, headers)))

        def _answer(self, answer: Answer) -> None:
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
