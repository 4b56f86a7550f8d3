"""Who may ask for a sign-in: registered clients (RFC 7591) and Client ID Metadata Documents.

A client is a plain dict: `client_id`, `client_name`, `redirect_uris`,
`token_endpoint_auth_method` ("none" for public clients; "client_secret_post" or
"client_secret_basic" for a confidential one, such as a GPT Action) and, for those, the
SHA-256 of the secret.

Redirect URIs (one rule for both kinds of client): `https` with a host; `http` only on a
loopback host (127.0.0.1, [::1], localhost), where any port matches, as RFC 8252 says native
apps need; or a private-use scheme a desktop app claims (`cursor://...`, `vscode://...`), never
one a browser would run or fetch (javascript:, data:, file:, http(s) elsewhere...). The consent
page shows the whole redirect target for those. No fragment, no user info. Matching is exact.

A metadata document is fetched with the care a server fetching a URL a stranger chose needs:
https only, every resolved address must be a global one (no loopback, private, link-local, ULA,
shared or reserved range; IPv4-mapped IPv6 unwrapped), the connection goes to the address that
was checked (no second lookup for DNS rebinding), no redirects, at most 5 KB within 3 s, cached
per its Cache-Control (at most a day).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import re
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

METADATA_MAX_BYTES = 5 * 1024
METADATA_TIMEOUT_SECONDS = 3.0
METADATA_DEFAULT_MAX_AGE = 300
METADATA_MAX_AGE = 86_400
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\Z")
# Schemes a browser runs, fetches or hands to a web page: never a place to send a code.
REFUSED_SCHEMES = frozenset(
    ("http", "https", "javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss", "filesystem")
)
AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic")
MAX_REDIRECT_URIS = 10
MAX_URI_CHARS = 2000
MAX_NAME_CHARS = 100
# Test-only: origin=replacement pairs ("https://client.test=http://127.0.0.1:8123") that let the
# tests serve a metadata document from loopback. The deployed function's environment never has it.
TEST_ORIGINS_ENV = "CLIENT_METADATA_TEST_ORIGINS"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Client = dict[str, Any]
    Resolver = Callable[[str, int], list[str]]


class ClientError(Exception):
    """The client cannot be accepted: an OAuth error code and a message a developer can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def is_loopback_http(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def redirect_uri_problem(uri: object) -> str | None:
    """Why `uri` may not be a redirect URI, or None."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_CHARS:
        return f"a redirect URI must be a string of 1 to {MAX_URI_CHARS} characters"
    if any(c.isspace() or not c.isprintable() for c in uri):
        return "a redirect URI may not contain spaces or control characters"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return f"{uri[:80]!r} is not a URI"
    if parts.fragment or "#" in uri:
        return "a redirect URI may not have a fragment"
    if "@" in parts.netloc:
        return "a redirect URI may not carry a user name or password"
    if parts.scheme == "https":
        return None if parts.hostname else "an https redirect URI needs a host"
    if parts.scheme == "http":
        if (parts.hostname or "") in LOOPBACK_HOSTS:
            return None
        return "http redirect URIs are only for loopback (127.0.0.1, [::1], localhost); use https"
    if not SCHEME.match(parts.scheme) or parts.scheme in REFUSED_SCHEMES:
        return f"the scheme {parts.scheme!r} cannot receive a code; use https, loopback http or an app's own scheme"
    return None


def redirect_matches(registered: list[str], given: str) -> bool:
    """Exact match; on loopback http, any port (the app picks a free one each time)."""
    if given in registered:
        return True
    if not is_loopback_http(given):
        return False
    want = urlsplit(given)
    for uri in registered:
        have = urlsplit(uri)
        if is_loopback_http(uri) and (have.hostname, have.path, have.query) == (want.hostname, want.path, want.query):
            return True
    return False


def _string(payload: dict[str, Any], name: str, limit: int) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ClientError("invalid_client_metadata", f"{name} must be a string of at most {limit} characters")
    return value


def checked_metadata(payload: object, *, confidential_allowed: bool) -> Client:
    """The client fields of a registration request or a metadata document, validated."""
    if not isinstance(payload, dict):
        raise ClientError("invalid_client_metadata", "client metadata must be a JSON object")
    uris = payload.get("redirect_uris")
    if not isinstance(uris, list) or not 1 <= len(uris) <= MAX_REDIRECT_URIS:
        raise ClientError("invalid_redirect_uri", f"redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise ClientError("invalid_redirect_uri", problem)
    # Omitted: a public client (RFC 7591 would say client_secret_basic, but MCP clients are apps and
    # browsers that cannot keep a secret; a GPT Action asks for client_secret_post by name).
    method = payload.get("token_endpoint_auth_method", "none")
    allowed = AUTH_METHODS if confidential_allowed else ("none",)
    if method not in allowed:
        raise ClientError("invalid_client_metadata", f"token_endpoint_auth_method must be one of {', '.join(allowed)}")
    for field, supported in (("grant_types", ("authorization_code", "refresh_token")), ("response_types", ("code",))):
        values = payload.get(field, list(supported[:1]))
        if not isinstance(values, list) or not set(values) <= set(supported) or not values:
            raise ClientError("invalid_client_metadata", f"{field} may only list {', '.join(supported)}")
    client = {
        "client_name": _string(payload, "client_name", MAX_NAME_CHARS) or "",
        "redirect_uris": list(uris),
        "token_endpoint_auth_method": method,
        "grant_types": payload.get("grant_types", ["authorization_code", "refresh_token"]),
        "response_types": ["code"],
    }
    client_uri = _string(payload, "client_uri", MAX_URI_CHARS)
    if client_uri and client_uri.startswith("https://"):
        client["client_uri"] = client_uri
    return client


def is_metadata_url(client_id: str) -> bool:
    return client_id.startswith("https://")


def metadata_url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return "a client_id URL must be https with a host"
    if parts.path in ("", "/"):
        return "a client_id URL must have a path"
    if parts.fragment or "@" in parts.netloc or "/./" in parts.path or "/../" in parts.path:
        return "a client_id URL may not have a fragment, user info or dot segments"
    return None


def address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        return f"{address} is not a public address"
    return None


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ClientError("invalid_client", f"the client_id host {host!r} does not resolve") from None
    return [str(info[4][0]) for info in infos]


class MetadataCache:
    """Fetched documents per URL until their max-age; a warm instance fetches each once."""

    def __init__(self, resolver: Resolver = resolve, clock: Callable[[], float] = time.monotonic) -> None:
        self.resolver, self.clock = resolver, clock
        self._documents: dict[str, tuple[float, Client]] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def client(self, url: str) -> Client:
        with self._lock:
            found = self._documents.get(url)
        if found is not None and found[0] > self.clock():
            return found[1]
        client, max_age = self._fetch(url)
        with self._lock:
            if len(self._documents) > 1000:
                self._documents.clear()
            self._documents[url] = (self.clock() + max_age, client)
        return client

    def _fetch(self, url: str) -> tuple[Client, int]:
        problem = metadata_url_problem(url)
        if problem:
            raise ClientError("invalid_client", problem)
        parts = urlsplit(url)
        scheme, host, port = "https", parts.hostname or "", parts.port or 443
        test_origin = _test_origins().get(f"{parts.scheme}://{parts.netloc}")
        if test_origin is not None:
            local = urlsplit(test_origin)
            scheme, host, port, address = local.scheme, local.hostname or "", local.port or 80, local.hostname or ""
        else:
            addresses = self.resolver(host, port)
            for candidate in addresses:
                refused = address_problem(candidate)
                if refused:
                    raise ClientError("invalid_client", f"the client_id URL's host {host!r} resolves to {refused}")
            if not addresses:
                raise ClientError("invalid_client", f"the client_id host {host!r} does not resolve")
            address = addresses[0]
        self.fetches += 1
        status, headers, body = _get(
            scheme, host, address, port, parts.path + (f"?{parts.query}" if parts.query else "")
        )
        if status in (301, 302, 303, 307, 308):
            raise ClientError("invalid_client", "the client_id URL redirects; it must serve the document itself")
        if status != 200:
            raise ClientError("invalid_client", f"the client_id URL answered HTTP {status}")
        try:
            document = json.loads(body)
        except ValueError:
            raise ClientError("invalid_client", "the client_id URL did not serve JSON") from None
        if not isinstance(document, dict) or document.get("client_id") != url:
            raise ClientError("invalid_client", "the document's client_id must equal the URL it was fetched from")
        client = checked_metadata(document, confidential_allowed=False)
        client["client_id"] = url
        client["client_name"] = client["client_name"] or (parts.hostname or "")
        return client, _max_age(headers.get("cache-control", ""))


def _max_age(cache_control: str) -> int:
    directives = [d.strip().lower() for d in cache_control.split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return 0
    for directive in directives:
        if directive.startswith("max-age="):
            value = directive[8:]
            if value.isdigit() and len(value) < 10:
                return min(int(value), METADATA_MAX_AGE)
    return METADATA_DEFAULT_MAX_AGE


def _test_origins() -> dict[str, str]:
    pairs = (p.split("=", 1) for p in os.environ.get(TEST_ORIGINS_ENV, "").split(",") if "=" in p)
    return {origin.strip(): target.strip() for origin, target in pairs}


def _get(scheme: str, host: str, address: str, port: int, target: str) -> tuple[int, dict[str, str], bytes]:
    """GET `target` from `address` (already checked), presenting `host` for TLS and Host."""
    deadline = time.monotonic() + METADATA_TIMEOUT_SECONDS
    try:
        sock = socket.create_connection((address, port), timeout=METADATA_TIMEOUT_SECONDS)
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn = http.client.HTTPConnection(host, port, timeout=METADATA_TIMEOUT_SECONDS)
        conn.sock = sock
        conn.request("GET", target, headers={"Accept": "application/json", "User-Agent": "github-search-sign-in"})
        reply = conn.getresponse()
        body = b""
        while len(body) <= METADATA_MAX_BYTES and time.monotonic() < deadline:
            chunk = reply.read1(4096)
            if not chunk:
                break
            body += chunk
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        raise ClientError("invalid_client", f"the client_id URL could not be fetched: {type(exc).__name__}") from None
    if len(body) > METADATA_MAX_BYTES:
        raise ClientError("invalid_client", f"the client metadata document is larger than {METADATA_MAX_BYTES} bytes")
    if time.monotonic() >= deadline:
        raise ClientError("invalid_client", "the client_id URL took too long to answer")
    return reply.status, {k.lower(): v for k, v in reply.getheaders()}, body
