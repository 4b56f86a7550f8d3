"""GitHub REST client over one kept-alive connection (standard library only)."""

from __future__ import annotations

import http.client
import ssl
import threading
import time
from urllib.parse import urlencode, urlsplit

VERSION = "0.1.0"
USER_AGENT = f"github-search-plugin/{VERSION} (+https://github.com/github-search-plugin)"
API_VERSION = "2022-11-28"
# Bounded so that a slow GitHub becomes a 504 long before the function's own timeout.
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 8.0
# Idle connections kept for reuse. Lambda runs one request at a time and needs one; the local
# server answers in parallel threads, each borrowing its own.
MAX_IDLE_CONNECTIONS = 8

# Errors that mean the peer closed a kept-alive connection between two invocations.
_STALE_CONNECTION_ERRORS = (
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


class UpstreamTimeout(Exception):
    """GitHub did not connect or answer within the bounds."""


class UpstreamUnreachable(Exception):
    """The connection to GitHub failed (DNS, refused, reset)."""


class Reply:
    __slots__ = ("body", "elapsed_ms", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, elapsed_ms: float) -> None:
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body
        self.elapsed_ms = elapsed_ms


class GitHubClient:
    """Thread-safe: each request borrows an idle kept-alive connection, or opens one."""

    def __init__(
        self,
        api_url: str,
        token: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        unreachable_hint: str = "",
    ) -> None:
        parts = urlsplit(api_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.base_path = parts.path  # GitHub Enterprise Server: /api/v3
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.unreachable_hint = f" ({unreachable_hint})" if unreachable_hint else ""  # what to try next
        self._headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self.connections_opened = 0

    @property
    def has_token(self) -> bool:
        return "Authorization" in self._headers

    def __repr__(self) -> str:  # never show the token, even in a traceback
        return f"GitHubClient({self.scheme}://{self.host}{self.base_path})"

    def _connect(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.connect_timeout, context=_tls_context()
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.connect_timeout)
        conn.connect()
        if conn.sock is not None:
            conn.sock.settimeout(self.read_timeout)
        with self._lock:
            self.connections_opened += 1
        return conn

    def _borrow(self) -> http.client.HTTPConnection | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def get(self, path: str, params: list[tuple[str, str]], headers: dict[str, str] | None = None) -> Reply:
        target = f"{self.base_path}{path}?{urlencode(params)}" if params else f"{self.base_path}{path}"
        all_headers = {**self._headers, **(headers or {})}
        started = time.perf_counter()
        conn = self._borrow()
        reused = conn is not None
        try:
            try:
                if conn is None:
                    conn = self._connect()
                status, reply_headers, body, keep = _exchange(conn, target, all_headers)
            except _STALE_CONNECTION_ERRORS:
                if conn is not None:
                    conn.close()
                if not reused:
                    raise
                # The peer closed the idle connection: a GET is safe to send once more.
                conn = self._connect()
                status, reply_headers, body, keep = _exchange(conn, target, all_headers)
        except TimeoutError as exc:
            if conn is not None:
                conn.close()
            raise UpstreamTimeout(f"GitHub at {self.host} did not answer within {self.read_timeout:g} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            if conn is not None:
                conn.close()
            reason = f"could not reach GitHub at {self.host}: {_reason(exc)}{self.unreachable_hint}"
            raise UpstreamUnreachable(reason) from exc
        if keep:
            self._give_back(conn)
        else:
            conn.close()
        return Reply(status, reply_headers, body, (time.perf_counter() - started) * 1000)


def web_url(api_url: str) -> str:
    """github.com for api.github.com; a GitHub Enterprise Server's host for its /api/v3."""
    parts = urlsplit(api_url.rstrip("/"))
    if parts.hostname == "api.github.com":
        return "https://github.com"
    base = parts.path.removesuffix("/api/v3")
    return f"{parts.scheme}://{parts.netloc}{base}"


def _exchange(
    conn: http.client.HTTPConnection, target: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes, bool]:
    conn.request("GET", target, headers=headers)
    response = conn.getresponse()
    body = response.read()  # drained, so the connection can carry the next request
    reply_headers = {name.lower(): value for name, value in response.getheaders()}
    return response.status, reply_headers, body, not response.will_close


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in words a person can act on (never request headers)."""
    if isinstance(exc, OSError) and type(exc).__name__ == "gaierror":
        return "the host name does not resolve (gaierror; offline or a wrong GITHUB_API_URL?)"
    detail = getattr(exc, "strerror", None) or str(exc)
    return f"{type(exc).__name__}: {detail}"[:160] if detail else type(exc).__name__


_context: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    # Built on first use: loading the CA store costs milliseconds a cold start need not pay.
    global _context
    if _context is None:
        _context = ssl.create_default_context()
    return _context
