"""Serve the plugin on a laptop: the same files and the same handler a deployed stack serves.

    make dev                        # http://127.0.0.1:3333, real GitHub (GITHUB_TOKEN optional)
    python -m tools.local_server --fake-github   # fully offline, answers from a fake GitHub
    make dev FAKE=1 AUTH=1          # and sign-in with (the fake) GitHub in front of /mcp and /api
    make dev FAKE=1 AUTH=1 LIKE_AWS=1   # headers as a deployed stack sends them (see --like-aws)

Environment: PORT, GITHUB_TOKEN, GITHUB_API_URL, UPSTREAM_CONNECT_TIMEOUT, UPSTREAM_READ_TIMEOUT,
IDLE_TIMEOUT (seconds a connection may send nothing, and a body may take, before it is closed: 10),
ALLOWED_ORIGINS (CORS for /api, comma-separated; default the ChatGPT origins),
MCP_ALLOWED_ORIGINS (Origins /mcp accepts; default any port on 127.0.0.1, localhost, [::1]),
CONTACT_EMAIL. Sign-in (--auth): GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET (an OAuth App
whose callback is http://127.0.0.1:<port>/oauth/callback; the fake GitHub takes any),
AUTH_ALLOWED_USERS, AUTH_ALLOWED_ORGS, FAKE_GITHUB_LOGIN (who the fake GitHub signs in: octocat),
DAILY_CALLS_PER_PERSON. Sign-in state lives in memory and ends with the server.

Each call's audit record is printed as the function writes it, one JSON object a line (the query
text only with AUDIT_QUERIES=true), and appended to AUDIT_LOG_FILE when set (`make dev` sets
build/audit.jsonl, which `make audit` reads).

Requests are answered in parallel threads over the function's one service, which is thread-safe
(a pool of kept-alive GitHub connections, a locked cache): each answer is what it would be alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import signal
import socket
import sys
import time
from fnmatch import fnmatchcase
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from edge.challenge import CARRIER, REMAPPED
from infra.edge_definition import CHALLENGING
from infra.function_code import HANDLER_DIR
from infra.install_links import claude_code_command
from infra.site import STATIC_DIR, SiteFile, site_files
from tools import app_preview

DEFAULT_ORIGINS = "https://chatgpt.com,https://chat.openai.com"
# DNS rebinding guard: a page on another site may not drive the laptop's MCP endpoint.
DEFAULT_MCP_ORIGINS = "http://127.0.0.1:*,http://localhost:*,http://[::1]:*"
LOGGED_TARGET_CHARS = 200
# The verbs answered through `_serve` (the function's 405 for those a path does not take); any
# other is http.server's 501, which `send_error` turns into the same JSON 405.
VERBS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE")
MAX_BODY_BYTES = 1 << 20
# A connection that sends nothing for this long (idle between requests, or stalled halfway through
# one), or a body that takes longer in all, is closed: a slow client holds a thread no longer.
IDLE_TIMEOUT_SECONDS = 10.0
UNREACHABLE_HINT = "offline? `make dev FAKE=1` answers from a built-in fake GitHub"
FAKE_ORG = "acme"  # where --private --fake-github installs the fake GitHub App
# The names a browser or client on this machine may use for the server; each gets its own URLs.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
log = logging.getLogger("local_server")


class StartError(Exception):
    """The server cannot start as configured; the message is the one line to print."""


class BadBody(Exception):
    """The request's body cannot be read as sent: (status, message) for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def api_gateway_event(
    method: str, target: str, headers: dict[str, str], body: bytes = b"", app: Any = None
) -> dict[str, Any]:
    """The REST API proxy event API Gateway would hand the function for this request."""
    parts = urlsplit(target)
    multi = parse_qs(parts.query, keep_blank_values=True)
    text = body.decode("utf-8", errors="replace") if body else None
    resource, path_parameters = app.route(parts.path) if app is not None else (parts.path, None)
    return {
        "resource": resource,
        "path": parts.path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,  # API Gateway keeps the last
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "stage": "local",
            "httpMethod": method,
            "path": parts.path,
            "requestId": f"local-{time.time_ns()}",
        },
        "body": text,
        "isBase64Encoded": False,
    }


# Query parameters whose values sign someone in (GitHub's callback code, a client's state): never
# written to the log, which a developer pastes into an issue.
SECRET_PARAMETERS = frozenset(("code", "state", "code_verifier", "access_token", "refresh_token", "token"))


def redacted(target: str) -> str:
    """A request target with the values of SECRET_PARAMETERS left out."""
    path, question, query = target.partition("?")
    if not question:
        return target
    pairs = (pair.partition("=") for pair in query.split("&"))
    kept = "&".join(f"{name}{eq}{'...' if name in SECRET_PARAMETERS and eq else value}" for name, eq, value in pairs)
    return f"{path}?{kept}"


def printable(text: str, limit: int = LOGGED_TARGET_CHARS) -> str:
    """A request line fit for a log: control characters escaped, length capped."""
    escaped = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[: limit + 1])
    return escaped[:limit] + ("..." if len(text) > limit or len(escaped) > limit else "")


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def load_function() -> Any:
    """The function's own module, as Lambda imports it, with its settings checked once at start."""
    if str(HANDLER_DIR) not in sys.path:
        sys.path.insert(0, str(HANDLER_DIR))
    import app

    try:
        app.service()
    except ValueError as exc:  # a bad GITHUB_API_URL, UPSTREAM_*_TIMEOUT or SEARCH_SCOPE
        raise StartError(str(exc)) from None
    return app


# An origin as a browser sends it: scheme, host, and a port if not the scheme's own. MCP_ALLOWED_ORIGINS
# may also end in `:*`, for any port (a local client picks one).
ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?\Z")
ANY_PORT = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):\*\Z")


def check_origins() -> None:
    """StartError naming the first value of ALLOWED_ORIGINS or MCP_ALLOWED_ORIGINS that is no origin:
    a typo there would silently refuse every browser it was meant to let in."""
    for name, any_port in (("ALLOWED_ORIGINS", False), ("MCP_ALLOWED_ORIGINS", True)):
        for value in os.environ.get(name, "").split(","):
            origin = value.strip().rstrip("/")  # as the function reads them
            if origin and not (ORIGIN.match(origin) or (any_port and ANY_PORT.match(origin))):
                form = "scheme://host[:port]" + (" or scheme://host:*" if any_port else "")
                raise StartError(f"{name}: {json.dumps(origin[:60])} is not an origin ({form}, comma-separated)")


def idle_timeout() -> float:
    value = os.environ.get("IDLE_TIMEOUT", "").strip() or str(IDLE_TIMEOUT_SECONDS)
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise StartError(f"IDLE_TIMEOUT must be a number of seconds from 0 to 3600, got {json.dumps(value[:20])}")
    return seconds


def like_aws(path: str, headers: dict[str, str], *, repaired: bool) -> dict[str, str]:
    """The function's headers as a deployed stack's viewer gets them: API Gateway renames
    WWW-Authenticate (a REST API's Lambda proxy integration), then, on the behaviors that carry
    it, the Lambda@Edge origin-response function puts it back (the same code: edge/challenge.py),
    seeing none of the X-Amzn-* headers, as CloudFront's guide once said it would not."""
    renamed = {(REMAPPED if k.lower() == "www-authenticate" else k): v for k, v in headers.items()}
    if not repaired or not any(fnmatchcase(path.lstrip("/"), p.lstrip("/")) for p in CHALLENGING):
        return renamed
    from edge import challenge

    hidden = {k: v for k, v in renamed.items() if k.lower().startswith("x-amzn-")}
    cloudfront = {k.lower(): [{"key": k, "value": v}] for k, v in renamed.items() if k not in hidden}
    event = {"Records": [{"cf": {"response": {"status": "401", "headers": cloudfront}}}]}
    answered = challenge.handler(event)["headers"]
    return {**hidden, **{entries[0]["key"]: entries[0]["value"] for entries in answered.values()}}


def direct(headers: dict[str, str]) -> dict[str, str]:
    """The function's headers as the plain local server sends them: what a viewer of a deployed
    stack sees, so without the challenge's carrier (the edge function removes it there)."""
    return {k: v for k, v in headers.items() if k.lower() != CARRIER.lower()}


def make_server(
    port: int, static_dir: Path = STATIC_DIR, host: str = "127.0.0.1", edge: str | None = None
) -> ThreadingHTTPServer:
    """`edge`: None, or imitate a deployed stack's header handling: "repaired" (API Gateway's
    renaming and the edge function's repair) or "unrepaired" (the renaming alone)."""
    app = load_function()
    idle_seconds = idle_timeout()
    check_origins()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # many parallel clients connect at once; the default 5 drops SYNs

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client that hangs up early is not the server's failure: one line, not a traceback.
            error = sys.exc_info()[1]
            if isinstance(error, ConnectionError | TimeoutError):
                log.info("client %s: %s, connection closed", client_address[0], type(error).__name__)
            else:
                super().handle_error(request, client_address)

    try:
        server = Server((host, port), BaseHTTPRequestHandler)
    except OSError as exc:
        raise StartError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another with PORT=<n>") from None
    port = server.server_address[1]
    if os.environ.get("AUTH") == "github":
        from signin import door

        try:
            door.check()
        except door.Misconfigured as exc:
            server.server_close()
            raise StartError(str(exc)) from None
        os.environ.setdefault("PUBLIC_URL", f"http://{host}:{port}")
        function_paths = frozenset(door.ENDPOINTS)
    else:
        function_paths = frozenset()
    allowed = {o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip()}

    @cache
    def files_for(host_header: str) -> dict[str, SiteFile]:
        """The files rendered for the host the request named (local names only, else 127.0.0.1)."""
        name = host_header if host_header in {f"{h}:{port}" for h in LOCAL_HOSTS} else f"{host}:{port}"
        rendered = site_files(
            f"http://{name}",
            os.environ.get("CONTACT_EMAIL"),
            static_dir,
            sign_in=bool(function_paths),
            scope=tuple(os.environ.get("SEARCH_SCOPE", "").replace(",", " ").split()),
        )
        files = {f"/{f.key}": f for f in rendered}
        files["/"] = files["/index.html"]
        return files

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "github-search-local"
        # http.server sets it on the socket: every read and write; the body has it in all.
        timeout = idle_seconds

        def setup(self) -> None:
            super().setup()
            # Headers and body are two writes: without this, Nagle's algorithm holds the body back.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request, written by `_send`

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # `_send` has logged it

        def log_error(self, format: str, *args: Any) -> None:
            # http.server's own word on a connection it gave up on (a timeout): one line.
            log.info("client %s: %s", self.client_address[0], printable(format % args))

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """http.server's own refusals (a malformed request line, an unknown verb) in the API's shape,
            as a whole HTTP/1.1 answer: http.server would answer an unparsed line HTTP/0.9-style."""
            self._started = time.perf_counter()
            self.close_connection = True
            self.request_version = "HTTP/1.1"
            # 501: a verb http.server has no method for; 505: a version it does not speak (a client's error).
            status = {501: 405, 505: 400}.get(code, code)
            errors = {404: "not_found", 405: "method_not_allowed"}
            reason = errors.get(status, "invalid_request" if status < 500 else "internal_error")
            headers = {**self._json_headers(), **({"Allow": "GET, HEAD, OPTIONS"} if status == 405 else {})}
            body = _error(reason, message or "the request is malformed")
            # What arrived, not the previous request on this connection.
            self._send("-", status, headers, body, target=self.requestline or "-")

        def __getattr__(self, name: str) -> Any:
            # http.server dispatches on `do_<VERB>`; every verb goes through one method.
            if name.startswith("do_") and name[3:] in VERBS:
                return lambda: self._serve(name[3:])
            raise AttributeError(name)

        def _read_body(self) -> bytes:
            """The request's body, by Content-Length or chunked; BadBody when it cannot be taken."""
            deadline = time.monotonic() + idle_seconds
            encoding = self.headers.get("Transfer-Encoding")
            if encoding is not None:
                if encoding.strip().lower() != "chunked":
                    raise BadBody(
                        400, f"Transfer-Encoding {json.dumps(encoding.strip()[:40])} is not supported; use chunked"
                    )
                if "Content-Length" in self.headers:  # RFC 9112: chunked wins, and the connection closes
                    self.close_connection = True
                return self._read_chunked(deadline)
            length = self.headers.get("Content-Length", "0").strip()
            if not (length.isascii() and length.isdigit() and len(length) < 10):
                raise BadBody(400, f"Content-Length must be a whole number of bytes, got {json.dumps(length[:20])}")
            if int(length) > MAX_BODY_BYTES:
                raise BadBody(413, f"the request body must be at most {MAX_BODY_BYTES} bytes")
            return self._read_exactly(int(length), deadline)

        def _read_exactly(self, size: int, deadline: float) -> bytes:
            chunks, left = [], size
            while left:
                if time.monotonic() > deadline:
                    raise TimeoutError("the request body took too long")
                data = self.rfile.read1(min(left, 65536))
                if not data:
                    raise BadBody(400, f"the connection closed {left} bytes before the end of the body")
                chunks.append(data)
                left -= len(data)
            return b"".join(chunks)

        def _read_chunked(self, deadline: float) -> bytes:
            """RFC 9112 section 7.1: size lines in hex (extensions ignored), data, CRLF; trailers dropped."""
            body = bytearray()
            while True:
                line = self.rfile.readline(1024)
                size_text = line.split(b";", 1)[0].strip()
                if not line.endswith(b"\n") or not size_text or len(size_text) > 8:
                    raise BadBody(400, "a chunk size line is malformed")
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise BadBody(400, "a chunk size is not hexadecimal") from None
                if size == 0:
                    break
                if len(body) + size > MAX_BODY_BYTES:
                    raise BadBody(413, f"the request body must be at most {MAX_BODY_BYTES} bytes")
                body += self._read_exactly(size, deadline)
                if self._read_exactly(2, deadline) != b"\r\n":
                    raise BadBody(400, "a chunk does not end with CRLF")
            while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):  # trailer fields
                if time.monotonic() > deadline:
                    raise TimeoutError("the request body took too long")
            return bytes(body)

        def _serve(self, method: str) -> None:
            self._started = time.perf_counter()
            path = urlsplit(self.path).path
            try:
                body = self._read_body()
            except BadBody as bad:
                self.close_connection = True  # what is left of the body would read as a next request
                self._send(method, bad.status, self._json_headers(), _error("invalid_request", bad.message))
                return
            files = files_for(self.headers.get("Host", ""))
            if path in ("/api", "/mcp") or path.startswith("/api/") or path in function_paths:
                headers = {k: v for k, v in self.headers.items()}
                response = app.handler(api_gateway_event(method, self.path, headers, body, app), None)
                status, out_headers = response["statusCode"], dict(response.get("headers") or {})
                if edge is not None:
                    out_headers = like_aws(path, out_headers, repaired=edge == "repaired")
                else:
                    out_headers = direct(out_headers)
                self._send(method, status, out_headers, response["body"].encode())
            elif path in app_preview.PATHS and method in ("GET", "HEAD"):
                query = parse_qs(urlsplit(self.path).query)
                shown = app_preview.answer(
                    path, query, self.headers.get("Host", ""), port, sign_in=bool(function_paths)
                )
                self._send(method, shown.status, shown.headers, shown.body)
            elif path not in files:
                self._send(method, 404, {"Content-Type": "text/plain; charset=utf-8"}, b"Not Found\n")
            elif method in ("GET", "HEAD"):
                f = files[path]
                headers = {"Content-Type": f.content_type, "Cache-Control": f.cache_control, **self._cors()}
                self._send(method, 200, headers, f.body)
            elif method == "OPTIONS":
                allow = {"Allow": "GET, HEAD, OPTIONS"}
                if self._cors():
                    allow |= {**self._cors(), "Access-Control-Allow-Methods": allow["Allow"]}
                    allow["Access-Control-Max-Age"] = "600"
                self._send(method, 204, allow, b"")
            else:
                headers = {**self._json_headers(), "Allow": "GET, HEAD, OPTIONS"}
                self._send(method, 405, headers, _error("method_not_allowed", f"{path} answers GET and HEAD"))

        def _cors(self) -> dict[str, str]:
            origin = self.headers.get("Origin") if hasattr(self, "headers") else None
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin in allowed else {}

        def _json_headers(self) -> dict[str, str]:
            return {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", **self._cors()}

        def _send(
            self, method: str, status: int, headers: dict[str, str], body: bytes, target: str | None = None
        ) -> None:
            # Logged before the client can see the answer: request threads are daemons, so a line
            # written after it could be lost to a Ctrl-C or SIGTERM that follows the last response.
            ms = (time.perf_counter() - self._started) * 1000
            cache_outcome = headers.get("X-Search-Cache", "-")
            logged = printable(redacted(target if target is not None else self.path))
            log.info("%s %s %d %s %.1f ms", printable(method), logged, status, cache_outcome, ms)
            self.send_response(status)
            headers.setdefault("Cache-Control", "no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(body)

    server.RequestHandlerClass = Handler
    return server


# What a LogRecord carries of its own; everything else on an audit record is the function's field.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {"message", "asctime"}


class AuditFormat(logging.Formatter):
    """The function's audit record as one JSON object on one line, the fields Lambda's JSON log
    format writes (time, then each field; None left out); its other lines as the server's."""

    def format(self, record: logging.LogRecord) -> str:
        if record.msg != "audit":
            return super().format(record)
        fields = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES and v is not None}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        return json.dumps({"timestamp": stamp, "message": "audit", **fields}, default=str, ensure_ascii=False)


def audit_to(path: str | None) -> None:
    """Print the function's audit records (and append them to `path`, for `make audit`)."""
    function_log = logging.getLogger("github_search")
    function_log.setLevel(logging.INFO)
    function_log.propagate = False
    printed = logging.StreamHandler(sys.stdout)
    printed.setFormatter(AuditFormat("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    function_log.addHandler(printed)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        kept = logging.FileHandler(path, encoding="utf-8")
        kept.setFormatter(AuditFormat())
        kept.addFilter(lambda record: record.msg == "audit")
        function_log.addHandler(kept)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit() and 0 <= int(value) <= 65535):
        raise StartError(f"PORT must be a number from 0 to 65535, got {value!r}")
    return int(value)


def banner(base: str, args: argparse.Namespace) -> str:
    """What the server says when it starts: its URLs, where it asks GitHub, sign-in, the fence."""
    github = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    if args.fake_github:
        upstream = f"a built-in fake GitHub at {github}, offline; no token needed"
    else:
        token = "with a token" if os.environ.get("GITHUB_TOKEN") else "without a token: 10 searches/min"
        upstream = f"GitHub at {github}, {token}"
    from tools.smoke import smoke_command

    signing_in, smoke = "", f"make smoke URL={base}"
    if args.auth:
        smoke = smoke_command(base)
        who = (
            f"as {os.environ.get('FAKE_GITHUB_LOGIN') or 'octocat'}, by the fake GitHub"
            if args.fake_github
            else "at GitHub"
        )
        signing_in = f"  sign-in       {base}/.well-known/oauth-authorization-server ({who}; state in memory)\n"
    if getattr(args, "private", False):
        readable = f"{FAKE_ORG}/private-plans, by the fake GitHub App" if args.fake_github else "where your app is"
        signing_in += f"  private       your private repositories, read-only ({readable})\n"
    scope = " ".join(os.environ.get("SEARCH_SCOPE", "").replace(",", " ").split())
    fenced = f"  fence         {scope} (every search and read stays within it)\n" if scope else ""
    # The MCP App's view as an assistant shows it (without sign-in: the page calls /mcp tokenless).
    preview = "" if args.auth else f"  MCP App view  {base}/app-preview?tool=search_code&q=WebAcl\n"
    return (
        f"GitHub search plugin, local: {base}  ({upstream})\n"
        f"  landing page  {base}/  (adds it to Cursor or VS Code in one click)\n"
        f"  search        {base}/api/search?q=pulumi&limit=3\n"
        f"  manifest      {base}/.well-known/ai-plugin.json\n"
        f"  OpenAPI       {base}/openapi.yaml\n"
        f"  MCP           {base}/mcp\n"
        f"{preview}"
        f"{signing_in}"
        f"{fenced}"
        f"  Claude Code   {claude_code_command(base + '/mcp')}\n"
        f"  smoke test    {smoke}\n"
        "Ctrl-C stops."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", help="default: $PORT, else 3333")
    parser.add_argument("--static-dir", type=Path, default=STATIC_DIR, help="serve other static files (templates)")
    parser.add_argument("--fake-github", action="store_true", help="answer from a built-in fake GitHub (offline)")
    parser.add_argument("--auth", action="store_true", help="sign-in with GitHub in front of /mcp and /api")
    parser.add_argument(
        "--private",
        action="store_true",
        help="with --auth: people read their private repositories through a GitHub App (its id and secret "
        "in GITHUB_OAUTH_CLIENT_ID and _SECRET; with --fake-github, the fake's)",
    )
    parser.add_argument(
        "--like-aws",
        nargs="?",
        const="repaired",
        choices=("repaired", "unrepaired"),
        help="headers as a deployed stack sends them: API Gateway renames WWW-Authenticate and the edge "
        "function puts it back (unrepaired: the renaming alone)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stdout)
    audit_to(os.environ.get("AUDIT_LOG_FILE", "").strip() or None)
    os.environ.setdefault("ALLOWED_ORIGINS", DEFAULT_ORIGINS)
    os.environ.setdefault("MCP_ALLOWED_ORIGINS", DEFAULT_MCP_ORIGINS)
    os.environ.setdefault("UPSTREAM_UNREACHABLE_HINT", UNREACHABLE_HINT)
    if args.fake_github:
        from tools.fake_github import FakeGitHub

        fake = FakeGitHub()
        fake.oauth.login = os.environ.get("FAKE_GITHUB_LOGIN") or fake.oauth.login
        if args.private:  # a GitHub App installed on acme, with a private repository you may read
            fake.oauth.expiring = True
            fake.oauth.installed = {FAKE_ORG}
            fake.oauth.private = {f"{FAKE_ORG}/private-plans": {fake.oauth.login}, f"{FAKE_ORG}/payroll": set()}
        os.environ["GITHUB_API_URL"] = fake.start().url
        # The fake takes any token; one is set so that code search (token-only on GitHub) works offline.
        os.environ.setdefault("GITHUB_TOKEN", "fake-github-accepts-any-token")
        os.environ.setdefault("GITHUB_OAUTH_CLIENT_ID", "fake-oauth-app")
        os.environ.setdefault("GITHUB_OAUTH_CLIENT_SECRET", "fake-oauth-app-secret")
    if args.private and not args.auth:
        print("local server not started: --private (PRIVATE=1) needs --auth (AUTH=1)", file=sys.stderr, flush=True)
        return 2
    if args.private:
        os.environ["PRIVATE_REPOSITORIES"] = "true"
    if args.auth:
        os.environ["AUTH"] = "github"
        missing = [k for k in ("GITHUB_OAUTH_CLIENT_ID", "GITHUB_OAUTH_CLIENT_SECRET") if not os.environ.get(k)]
        if missing:
            print(
                f"local server not started: sign-in needs {' and '.join(missing)} (a GitHub OAuth App whose "
                "callback URL is http://127.0.0.1:<port>/oauth/callback), or FAKE=1",
                file=sys.stderr,
                flush=True,
            )
            return 2

    # `kill` (and CI's process teardown) ends the server as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server = make_server(_port(args.port or os.environ.get("PORT") or "3333"), args.static_dir, edge=args.like_aws)
    except StartError as exc:
        print(f"local server not started: {exc}", file=sys.stderr, flush=True)
        return 2
    print(banner(f"http://127.0.0.1:{server.server_address[1]}", args), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        with contextlib.suppress(BrokenPipeError):  # whoever read the output may have gone first
            print("\nstopped", flush=True)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
