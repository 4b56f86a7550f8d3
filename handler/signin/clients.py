"""Who may ask for a sign-in: registered clients (RFC 7591) and Client ID Metadata Documents.

A client is a plain dict: `client_id`, `client_name`, `redirect_uris`,
`token_endpoint_auth_method` ("none" for public clients; "client_secret_post" or
"client_secret_basic" for a confidential one, such as a GPT Action) and, for those, the
SHA-256 of the secret.

Redirect URIs (one rule for registration, metadata documents and every authorization request):
`https` with a host; `http` only on a loopback host (127.0.0.1, [::1], localhost), where any port
matches, as RFC 8252 says native apps need; or a private-use scheme a desktop app claims
(`cursor://...`, `com.example.app:/cb`), never one a browser runs or fetches, or hands to a local
program or search (javascript:, data:, file:, search-ms:, ms-*:...). Only RFC 3986's characters
(no backslash, space or control character, which browsers and Python read differently), no
user info, no fragment, a numeric port. Matching is exact but for a loopback port, and the
person is sent to the registered URI, written from its own parts: never to the string a request
carried. The consent page shows the whole redirect target for non-https ones.

A metadata document is fetched with the care a server fetching a URL a stranger chose needs:
https on port 443 only, every resolved address must be a global one (no loopback, private,
link-local, ULA, shared or reserved range, nor any IPv4 address an IPv6 one carries), the
connection goes to the address that was checked (no second lookup for DNS rebinding), no
redirects, at most 5 KB, all of it (the lookup, connect, TLS, every read) within 3 s. It is
cached per its Cache-Control (at most a day), and a failure for a minute.
"""

from __future__ import annotations

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
METADATA_TIMEOUT_SECONDS = 3.0  # the whole fetch: connect, TLS, request and answer
METADATA_MAX_HEAD_BYTES = 8 * 1024
FAILURE_MEMORY_SECONDS = 60.0  # a URL that failed is not fetched again for this long
METADATA_DEFAULT_MAX_AGE = 300
METADATA_MAX_AGE = 86_400
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")
# RFC 3986's characters and nothing else.
URI_CHARACTERS = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+\Z")
REDIRECT = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*):(?://(?P<authority>[^/?#]*))?(?P<rest>[^#]*)\Z")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*\Z")
PORT = re.compile(r"[0-9]{1,10}\Z")  # leading zeros are a port too (RFC 3986); the range is checked
# Schemes a browser runs or fetches itself, or hands to a local program, a search or a page of its
# own (Windows' search-ms: and ms-*: open Explorer searches and installers; file:, shell: and the
# like open local things): never a place to send a code. An app's own scheme is anything else.
REFUSED_SCHEMES = frozenset(
    (
        *("javascript", "vbscript", "data", "blob", "about", "file", "filesystem", "view-source", "jar", "resource"),
        *("ftp", "ws", "wss", "gopher", "ldap", "ldaps", "smb", "nfs", "afp", "telnet", "ssh", "rdp", "vnc"),
        *("mailto", "tel", "sms", "news", "nntp", "irc", "ircs", "intent", "android-app"),
        *("chrome", "chrome-extension", "edge", "microsoft-edge", "moz-extension", "opera", "safari"),
        *("shell", "mk", "its", "res", "hcp", "help", "search", "steam"),
    )
)
REFUSED_SCHEME_PREFIXES = ("ms-", "search-", "microsoft", "windows", "x-apple", "itms")
AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic")
GRANT_TYPES = ("authorization_code", "refresh_token")
MAX_REDIRECT_URIS = 10
MAX_LIST_ITEMS = 10  # grant_types, response_types: a few names, even with repeats
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


class Redirect:
    """A redirect URI as both a browser and this server read it: `scheme:` then `//host[:port]`
    (none for `app.scheme:/path`), then the rest (path and query)."""

    __slots__ = ("host", "port", "rest", "scheme")

    def __init__(self, scheme: str, host: str | None, port: str | None, rest: str) -> None:
        self.scheme, self.host, self.port, self.rest = scheme, host, port, rest

    @property
    def loopback(self) -> bool:
        return self.scheme == "http" and self.host in LOOPBACK_HOSTS

    def at_port(self, port: str | None) -> str:
        """This URI with `port` put in (the loopback rule of RFC 8252), written from its own parts."""
        host = self.host or ""
        return f"{self.scheme}://{host}:{int(port)}{self.rest}" if port else f"{self.scheme}://{host}{self.rest}"


def parse_redirect(uri: object) -> Redirect:
    """The redirect URI, or ClientError saying why it cannot be one. One reading for registration
    and for every authorization request, strict enough that browsers and Python cannot disagree
    on where it leads: only RFC 3986's characters (no backslash, which a browser reads as a slash
    in an http URL and Python does not; no tab, CR or LF, which Python's urlsplit drops), no user
    info (`@` before the host), no fragment, a numeric port or none."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_CHARS:
        raise _bad_redirect(f"a redirect URI must be a string of 1 to {MAX_URI_CHARS} characters")
    _check_characters(uri)
    found = REDIRECT.match(uri)
    if found is None:
        raise _bad_redirect(f"{uri[:80]!r} is not a URI with a lower-case scheme")
    scheme, authority, rest = found["scheme"], found["authority"], found["rest"]
    if authority is None:
        if scheme in ("http", "https"):
            raise _bad_redirect(f"an {scheme} redirect URI needs //host")
        return _own_scheme(Redirect(scheme, None, None, rest))
    if "@" in authority:
        raise _bad_redirect("a redirect URI may not carry a user name or password (an @ before the host)")
    host, port = _host_and_port(authority)
    redirect = Redirect(scheme, host, port, rest)
    if scheme in ("http", "https") and not host:
        raise _bad_redirect(f"an {scheme} redirect URI needs a host")
    if scheme == "https":
        if not (HOST_NAME.match(host) or _ip_literal(host)):
            raise _bad_redirect("an https redirect URI needs a host name or an IP address")
        return redirect
    if scheme == "http":
        if redirect.loopback:
            return redirect
        raise _bad_redirect("http redirect URIs are only for loopback (127.0.0.1, [::1], localhost); use https")
    return _own_scheme(redirect)


def _check_characters(uri: str) -> None:
    if "\\" in uri:
        raise _bad_redirect("a redirect URI may not contain a backslash (browsers read it as a slash)")
    if any(c.isspace() or not c.isprintable() for c in uri):
        raise _bad_redirect("a redirect URI may not contain spaces or control characters")
    if not URI_CHARACTERS.match(uri):
        raise _bad_redirect("a redirect URI may only contain the characters of RFC 3986 (ASCII; no quotes or braces)")
    if "#" in uri:
        raise _bad_redirect("a redirect URI may not have a fragment")


def _own_scheme(redirect: Redirect) -> Redirect:
    """An app's own scheme: anything but what a browser runs, fetches or opens elsewhere."""
    if redirect.scheme in REFUSED_SCHEMES or redirect.scheme.startswith(REFUSED_SCHEME_PREFIXES):
        raise _bad_redirect(
            f"the scheme {redirect.scheme!r} runs, fetches or opens something a browser should not hand a code "
            "to; use https, loopback http or an app's own scheme"
        )
    return redirect


def _bad_redirect(message: str) -> ClientError:
    return ClientError("invalid_redirect_uri", message)


def _host_and_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        host, _, after = authority.partition("]")
        host += "]"
        port = after[1:] if after.startswith(":") else None
        if after and port is None:
            raise _bad_redirect("a redirect URI's host is malformed")
    else:
        host, colon, port_text = authority.partition(":")
        port = port_text if colon else None
    if port is not None and not (PORT.match(port) and 0 < int(port) < 65536):
        raise _bad_redirect("a redirect URI's port must be a number from 1 to 65535")
    if "%" in host:
        raise _bad_redirect("a redirect URI's host may not be percent-encoded")
    return host, port


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host[1:-1] if host.startswith("[") and host.endswith("]") else host)
    except ValueError:
        return False
    return True


def matching_redirect(registered: list[str], given: str) -> str | None:
    """Where to send the person back: the registered URI that `given` names, written from the
    registered URI's own parts (on loopback http with `given`'s port put in: RFC 8252 lets a
    native app pick a free port each time), never from the string the request carried; None if
    `given` names none of them."""
    wanted = parse_redirect(given)  # ClientError if it could not even be registered
    for uri in registered:
        try:
            have = parse_redirect(uri)
        except ClientError:
            continue  # registered under older rules
        if uri == given:
            return uri
        if wanted.loopback and have.loopback and (have.host, have.rest) == (wanted.host, wanted.rest):
            return have.at_port(wanted.port)
    return None


def consented(redirect_uri: str) -> str:
    """What a person's approval covers of a redirect URI: all of it, but the port on loopback
    (RFC 8252: a native app picks a free one each time, and every port there is this computer)."""
    redirect = parse_redirect(redirect_uri)
    return redirect.at_port(None) if redirect.loopback else redirect_uri


def _string(payload: dict[str, Any], name: str, limit: int) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ClientError("invalid_client_metadata", f"{name} must be a string of at most {limit} characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: JSON's \ud800 parses to a string no page can carry
            raise ClientError("invalid_client_metadata", f"{name} must be Unicode text") from None
    return value


def checked_metadata(payload: object, *, confidential_allowed: bool) -> Client:
    """The client fields of a registration request or a metadata document, validated; every list
    bounded and without repeats, so what is kept is small whatever was sent."""
    if not isinstance(payload, dict):
        raise ClientError("invalid_client_metadata", "client metadata must be a JSON object")
    uris = payload.get("redirect_uris")
    if not isinstance(uris, list) or not 1 <= len(uris) <= MAX_REDIRECT_URIS:
        raise ClientError("invalid_redirect_uri", f"redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs")
    for uri in uris:
        parse_redirect(uri)  # ClientError saying why not
    # Omitted: a public client (RFC 7591 would say client_secret_basic, but MCP clients are apps and
    # browsers that cannot keep a secret; a GPT Action asks for client_secret_post by name).
    method = payload.get("token_endpoint_auth_method", "none")
    allowed = AUTH_METHODS if confidential_allowed else ("none",)
    if method not in allowed:
        raise ClientError("invalid_client_metadata", f"token_endpoint_auth_method must be one of {', '.join(allowed)}")
    client = {
        "client_name": _string(payload, "client_name", MAX_NAME_CHARS) or "",
        "redirect_uris": list(dict.fromkeys(uris)),
        "token_endpoint_auth_method": method,
        "grant_types": _names(payload, "grant_types", GRANT_TYPES, GRANT_TYPES),
        "response_types": _names(payload, "response_types", ("code",), ("code",)),
    }
    client_uri = _string(payload, "client_uri", MAX_URI_CHARS)
    if client_uri and client_uri.startswith("https://"):
        client["client_uri"] = client_uri
    return client


def _names(payload: dict[str, Any], field: str, supported: tuple[str, ...], default: tuple[str, ...]) -> list[str]:
    """A list field of names this server supports, in its own order, each once."""
    values = payload.get(field, list(default))
    if (
        not isinstance(values, list)
        or not 1 <= len(values) <= MAX_LIST_ITEMS
        or not all(isinstance(v, str) and v in supported for v in values)
    ):
        raise ClientError(
            "invalid_client_metadata", f"{field} may only list {', '.join(supported)} (at most {MAX_LIST_ITEMS} items)"
        )
    return [name for name in supported if name in values]


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
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port not in (None, 443):
        return "a client_id URL must be served on https's own port, 443"
    return None


# IPv6 ranges that carry an IPv4 address in their last 32 bits, which a translator or the host's
# own stack may reach: NAT64's well-known prefix (RFC 6052) and SIIT's IPv4-translated addresses.
_IPV4_INSIDE = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
# Never a public server's: IPv4-compatible addresses (deprecated, RFC 4291) and NAT64's local-use
# prefix (RFC 8215), which Python counts as global.
_NOT_PUBLIC = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def address_problem(address: str) -> str | None:
    """Why `address` is no public server's, or None: every IPv4 address it carries must be global too
    (`::ffff:127.0.0.1`, `64:ff9b::a9fe:a9fe` and `2002:7f00:1::` reach loopback or the metadata
    service through translation)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    inside: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NOT_PUBLIC):
            return f"{address} is not a public address"
        carried = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        carried += [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for network in _IPV4_INSIDE if ip in network]
        inside += [v4 for v4 in carried if v4 is not None]
    if any(not one.is_global or one.is_multicast for one in inside):
        return f"{address} is not a public address"
    return None


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ClientError("invalid_client", f"the client_id host {host!r} does not resolve") from None
    return [str(info[4][0]) for info in infos]


def resolved_within(resolver: Resolver, host: str, port: int, deadline: float) -> list[str]:
    """The resolver's answer by `deadline` (time.monotonic()). getaddrinfo takes no timeout, so it
    runs in a thread of its own, left behind if it is late: the lookup counts against the fetch's
    one deadline like every socket operation after it."""
    found: list[list[str] | ClientError] = []

    def look_up() -> None:
        try:
            found.append(resolver(host, port))
        except ClientError as exc:
            found.append(exc)

    lookup = threading.Thread(target=look_up, daemon=True)
    lookup.start()
    lookup.join(max(0.0, deadline - time.monotonic()))
    if not found:
        raise ClientError("invalid_client", "the client_id URL took too long to answer (its host did not resolve)")
    if isinstance(found[0], ClientError):
        raise found[0]
    return found[0]


class MetadataCache:
    """Fetched documents per URL until their max-age, and failures for FAILURE_MEMORY_SECONDS: a
    warm instance fetches each once, and a URL that failed (slow, refused, wrong) is not fetched
    again for every request that names it."""

    def __init__(self, resolver: Resolver = resolve, clock: Callable[[], float] = time.monotonic) -> None:
        self.resolver, self.clock = resolver, clock
        self._documents: dict[str, tuple[float, Client | ClientError]] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def client(self, url: str) -> Client:
        with self._lock:
            found = self._documents.get(url)
        if found is not None and found[0] > self.clock():
            if isinstance(found[1], ClientError):
                raise found[1]
            return found[1]
        try:
            client, max_age = self._fetch(url)
        except ClientError as failed:
            self._remember(url, failed, FAILURE_MEMORY_SECONDS)
            raise
        self._remember(url, client, max_age)
        return client

    def _remember(self, url: str, answer: Client | ClientError, seconds: float) -> None:
        with self._lock:
            if len(self._documents) > 1000:
                self._documents.clear()
            self._documents[url] = (self.clock() + seconds, answer)

    def _fetch(self, url: str) -> tuple[Client, int]:
        problem = metadata_url_problem(url)
        if problem:
            raise ClientError("invalid_client", problem)
        deadline = time.monotonic() + METADATA_TIMEOUT_SECONDS
        parts = urlsplit(url)
        scheme, host, port = "https", parts.hostname or "", 443
        test_origin = _test_origins().get(f"{parts.scheme}://{parts.netloc}")
        if test_origin is not None:
            local = urlsplit(test_origin)
            scheme, host, port, address = local.scheme, local.hostname or "", local.port or 80, local.hostname or ""
        else:
            addresses = resolved_within(self.resolver, host, port, deadline)
            for candidate in addresses:
                refused = address_problem(candidate)
                if refused:
                    raise ClientError("invalid_client", f"the client_id URL's host {host!r} resolves to {refused}")
            if not addresses:
                raise ClientError("invalid_client", f"the client_id host {host!r} does not resolve")
            address = addresses[0]
        self.fetches += 1
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        status, headers, body = fetch(scheme, host, address, port, target, deadline=deadline)
        if status in (301, 302, 303, 307, 308):
            raise ClientError("invalid_client", "the client_id URL redirects; it must serve the document itself")
        if status != 200:
            raise ClientError("invalid_client", f"the client_id URL answered HTTP {status}")
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise ClientError("invalid_client", "the client_id URL did not serve a JSON document") from None
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


def fetch(
    scheme: str, host: str, address: str, port: int, target: str, *, deadline: float
) -> tuple[int, dict[str, str], bytes]:
    """GET `target` from `address` (already checked), presenting `host` for TLS and Host, all of
    it (connect, TLS, request, every read) within `deadline` (time.monotonic()): each socket
    operation gets only the time that is left, so a server that drips a byte at a time holds the
    function no longer than the deadline. HTTP/1.0, so the answer is never chunked and ends when
    the server closes."""

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    request = (
        f"GET {target} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n"
        "User-Agent: github-search-sign-in\r\nConnection: close\r\n\r\n"
    ).encode()
    received = bytearray()
    try:
        sock = socket.create_connection((address, port), timeout=left())
        try:
            if scheme == "https":
                sock.settimeout(left())
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            sock.settimeout(left())
            sock.sendall(request)
            while len(received) <= METADATA_MAX_HEAD_BYTES + METADATA_MAX_BYTES:
                sock.settimeout(left())
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        finally:
            sock.close()
    except TimeoutError:
        raise ClientError("invalid_client", "the client_id URL took too long to answer") from None
    except OSError as exc:
        raise ClientError("invalid_client", f"the client_id URL could not be fetched: {type(exc).__name__}") from None
    return _http_answer(bytes(received))


def _http_answer(received: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of a whole HTTP/1.x answer."""
    head, blank, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if not blank or len(head) > METADATA_MAX_HEAD_BYTES or len(status_line) < 2 or not status_line[1].isdigit():
        raise ClientError("invalid_client", "the client_id URL did not answer HTTP")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ClientError("invalid_client", "the client_id URL answered an HTTP/1.0 request in chunks")
    length = headers.get("content-length", "")
    if length.isdigit() and len(length) < 10:
        body = body[: int(length)]
    if len(body) > METADATA_MAX_BYTES:
        raise ClientError("invalid_client", f"the client metadata document is larger than {METADATA_MAX_BYTES} bytes")
    return int(status_line[1]), headers, body
