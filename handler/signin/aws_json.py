"""One AWS JSON API (DynamoDB's, KMS's) over one kept-alive HTTPS connection, signed with SigV4.

Standard library only, so no SDK joins the cold start; tests/test_sign_in_store.py checks the
signer against botocore's, and the store and the sealer against moto's server.
"""

from __future__ import annotations

import http.client
import json
import threading
from urllib.parse import urlsplit

from signin.sigv4 import Credentials, sign

TIMEOUT_SECONDS = 3.0
# What a kept-alive connection the peer has closed in the meantime raises on the next request.
STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class AwsError(Exception):
    """The API did not answer as it should (unreachable, throttled, refused)."""


class AwsJsonClient:
    def __init__(
        self,
        service: str,
        region: str,
        *,
        target: str,
        content_type: str,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        what: str = "",
    ) -> None:
        parts = urlsplit(endpoint or f"https://{service}.{region}.amazonaws.com")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the {service} endpoint must be an http(s) URL, got {endpoint!r}")
        self.service, self.region, self.target, self.content_type = service, region, target, content_type
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.credentials = credentials
        self.what = what or service  # how a message names it: "the sign-in table"
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self.calls = 0

    def call(self, operation: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, the JSON answer). Sent again once when a kept-alive connection turned out
        closed: the caller's operations must be safe to repeat."""
        body = json.dumps(payload).encode()
        host = self.host if self.port is None else f"{self.host}:{self.port}"
        headers = sign(
            host,
            "/",
            {"Content-Type": self.content_type, "X-Amz-Target": self.target + operation},
            body,
            region=self.region,
            service=self.service,
            credentials=self.credentials or Credentials.from_environment(),
        )
        with self._lock:  # one kept-alive connection; Lambda runs one request at a time
            self.calls += 1
            for attempt in (1, 2):
                reused = self._conn is not None
                conn = self._conn or self._connect()
                try:
                    conn.request("POST", "/", body=body, headers=headers)
                    reply = conn.getresponse()
                    data = reply.read()
                    break
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    self._conn = None
                    if attempt == 2 or not reused or not isinstance(exc, STALE_CONNECTION_ERRORS):
                        raise AwsError(f"{self.what} did not answer: {type(exc).__name__}") from None
            if reply.will_close:
                conn.close()
                self._conn = None
            else:
                self._conn = conn
        try:
            answer = json.loads(data or b"{}")
        except ValueError:
            raise AwsError(f"{self.what} answered HTTP {reply.status} with a body that is not JSON") from None
        return reply.status, answer

    @staticmethod
    def error_type(answer: dict[str, Any]) -> str:
        """AWS's error name without its namespace: ConditionalCheckFailedException."""
        return str(answer.get("__type", "")).rsplit("#", 1)[-1]

    def _connect(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)
