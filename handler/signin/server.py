"""Sign-in with GitHub: the stack as an OAuth 2.1 authorization server for its own MCP and REST API.

    client --/authorize--> consent page --> github.com --/oauth/callback--> client?code&state&iss
    client --/token (code + PKCE verifier)--> access token (1 h) + refresh token (rotated)

The stack federates: the person signs in at GitHub with the owner's OAuth App, and the client
gets the stack's own tokens, bound to the MCP URL, never GitHub's. docs/architecture.md
("Sign-in") has the sequence and the threat model: what each check below stops.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

from proxy import response

from signin import github_oauth, grants, pages
from signin.clients import (
    ClientError,
    MetadataCache,
    checked_metadata,
    consented,
    is_metadata_url,
    matching_redirect,
)
from signin.sealing import SealError
from signin.store import ACCESS_PREFIX, REFRESH_PREFIX, SCOPE, StoreError, hashed, token_hash

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from search.github_api import GitHubClient

    from signin.sealing import KmsSealer, Unsealed
    from signin.store import DynamoStore, MemoryStore

    Response = dict[str, Any]
    Store = MemoryStore | DynamoStore
    Sealer = KmsSealer | Unsealed

ACCESS_TTL = 3600  # an hour: the longest a stolen access token is worth anything
REFRESH_TTL = 30 * 86_400  # a grant unused for 30 days ends; each refresh renews it
CODE_TTL = 300
PENDING_TTL = 600  # consent page plus GitHub's sign-in
CONSENT_TTL = 365 * 86_400
BROWSER_COOKIE = "__Host-github-search-browser"
SERVICE_NAME = "GitHub Search"
CALLBACK_PATH = "/oauth/callback"
CONSENT_PATH = "/oauth/consent"
PKCE = re.compile(r"[A-Za-z0-9._~-]{43,128}\Z")
BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{32}\Z")  # secrets.token_urlsafe(24)
CANNOT_SIGN_IN = "This app cannot sign in"
MAX_FORM_BYTES = 16 * 1024
MAX_REGISTRATION_BYTES = 32 * 1024  # ten redirect URIs of 2,000 characters and the rest
REGISTRATION_TTL = 86_400  # a registration that completes no sign-in within a day is deleted
CLIENT_IDLE_TTL = 90 * 86_400  # one that did, once unused this long (three times a grant's life)
UNUSED = "unused"  # a registered client's mark until its first sign-in completes
KEPT_UNTIL = "kept_until"  # when a used registration expires; pushed on at most once a day
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
GITHUB_APP_WITHOUT_PRIVATE = (
    "GitHub signed you in through a GitHub App, whose sign-ins read private repositories, but this service "
    "does not keep each person's answers apart. Its owner sets privateRepositories to true, or signs people "
    "in with an OAuth App. Your GitHub token was not kept."
)


class Settings:
    """What the owner configured (the function's environment), and the public origin."""

    __slots__ = ("allowed_orgs", "allowed_users", "client_id", "client_secret", "issuer", "web")

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        web: str,
        allowed_users: frozenset[str] = frozenset(),
        allowed_orgs: tuple[str, ...] = (),
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id, self.client_secret, self.web = client_id, client_secret, web.rstrip("/")
        self.allowed_users = frozenset(u.lower() for u in allowed_users)
        self.allowed_orgs = allowed_orgs

    @property
    def resource(self) -> str:
        return f"{self.issuer}/mcp"

    @property
    def upstream_scope(self) -> str:
        # Public search needs no scope at all; org membership needs read:org, and only then is it asked.
        return "read:org" if self.allowed_orgs else ""


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def json_answer(status: int, payload: object, headers: Mapping[str, str] | None = None) -> Response:
    return response(status, json.dumps(payload), {"Content-Type": "application/json", **NO_STORE, **(headers or {})})


def oauth_error(status: int, code: str, description: str, headers: Mapping[str, str] | None = None) -> Response:
    return json_answer(status, {"error": code, "error_description": description}, headers)


def page(status: int, html: str, headers: Mapping[str, str] | None = None) -> Response:
    return response(status, html, {**pages.PAGE_HEADERS, **(headers or {})})


def refused(status: int, title: str, message: str, back: str | None = None) -> Response:
    return page(status, pages.refusal(title, message, back))


def redirect(location: str, headers: Mapping[str, str] | None = None) -> Response:
    return response(302, "", {"Location": location, **NO_STORE, **(headers or {})})


def with_params(uri: str, params: Mapping[str, str]) -> str:
    return f"{uri}{'&' if urlsplit(uri).query else '?'}{urlencode(params)}"


def browser_id(headers: Mapping[str, str]) -> str | None:
    """The browser's sign-in cookie, if it is one this server could have set (it is sent back in
    Set-Cookie, so nothing else a request carries may be)."""
    value = cookies(headers).get(BROWSER_COOKIE, "")
    return value if BROWSER_ID.match(value) else None


def cookies(headers: Mapping[str, str]) -> dict[str, str]:
    jar: dict[str, str] = {}
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name and name not in jar:
            jar[name] = value
    return jar


def form(body: str | None) -> dict[str, str]:
    """A urlencoded body; a name sent twice is refused as ambiguous (RFC 6749 section 3.1)."""
    if body is None or len(body) > MAX_FORM_BYTES:
        return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        if name in fields:
            raise ValueError(f"{name} is sent more than once")
        fields[name] = value
    return fields


class AuthorizationServer:
    """The endpoints; one per warm instance, over the store and the GitHub client."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        github: GitHubClient,
        *,
        metadata: MetadataCache | None = None,
        clock: Callable[[], float] = time.time,
        forget: Callable[[str], None] = lambda grant: None,
        sealer: Sealer | None = None,
    ) -> None:
        self.settings, self.store, self.github, self.clock = settings, store, github, clock
        # With private repositories: seals the GitHub tokens a grant keeps (signin/sealing.py).
        self.sealer = sealer
        self.metadata = metadata or MetadataCache()
        self.forget = forget  # the gate's memory of tokens it checked: a revoked grant leaves it at once

    # ---- discovery -------------------------------------------------------------------------

    def server_metadata(self) -> dict[str, Any]:
        issuer = self.settings.issuer
        methods = ["none", "client_secret_post", "client_secret_basic"]
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "registration_endpoint": f"{issuer}/register",
            "revocation_endpoint": f"{issuer}/revoke",
            "scopes_supported": [SCOPE],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_methods_supported": methods,
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "client_id_metadata_document_supported": True,
            "service_documentation": f"{issuer}/",
        }

    def resource_metadata(self) -> dict[str, Any]:
        return {
            "resource": self.settings.resource,
            "authorization_servers": [self.settings.issuer],
            "scopes_supported": [SCOPE],
            "bearer_methods_supported": ["header"],
            "resource_name": SERVICE_NAME,
            "resource_documentation": f"{self.settings.issuer}/",
        }

    # ---- clients ---------------------------------------------------------------------------

    def client(self, client_id: str) -> dict[str, Any] | None:
        """A registered client or a metadata document's; None if unknown. ClientError if unusable."""
        if is_metadata_url(client_id):
            return self.metadata.client(client_id)
        if not client_id or len(client_id) > 100:
            return None
        return self.store.get(f"client#{client_id}")

    def register(self, body: str | None) -> Response:
        """RFC 7591. Open to anyone, so bounded: a small body, short lists, and a registration that
        never completes a sign-in expires after REGISTRATION_TTL, one that does after CLIENT_IDLE_TTL
        without a sign-in or a refresh: with open registration and no allow-list, the table would
        otherwise keep every client anyone ever signed in with."""
        if body is not None and len(body) > MAX_REGISTRATION_BYTES:
            return oauth_error(
                400, "invalid_client_metadata", f"the body must be at most {MAX_REGISTRATION_BYTES} bytes"
            )
        try:
            payload = json.loads(body or "")
        except (ValueError, RecursionError):
            return oauth_error(400, "invalid_client_metadata", "the body must be a JSON object")
        try:
            client = checked_metadata(payload, confidential_allowed=True)
        except ClientError as exc:
            return oauth_error(400, exc.code, exc.message)
        client_id = secrets.token_urlsafe(18)
        secret = None
        if client["token_endpoint_auth_method"] != "none":  # noqa: S105 - a method's name, not a secret
            secret = secrets.token_urlsafe(32)
            client["secret_hash"] = hashed(secret)
        now = int(self.clock())
        client["client_id"] = client_id
        client["client_id_issued_at"] = now
        self.store.put(f"client#{client_id}", {**client, UNUSED: True}, now + REGISTRATION_TTL)
        answer = {k: v for k, v in client.items() if k != "secret_hash"}
        if secret is not None:
            answer |= {"client_secret": secret, "client_secret_expires_at": 0}
        return json_answer(201, answer)

    def _keep(self, client: Mapping[str, Any]) -> None:
        """A registered client has been used (a sign-in, a refresh): it is kept CLIENT_IDLE_TTL more,
        written at most once a day. A metadata document's client is not kept here at all."""
        now = int(self.clock())
        if is_metadata_url(client["client_id"]) or client.get(KEPT_UNTIL, 0) - now > CLIENT_IDLE_TTL - 86_400:
            return
        kept = {k: v for k, v in client.items() if k != UNUSED} | {KEPT_UNTIL: now + CLIENT_IDLE_TTL}
        self.store.put(f"client#{client['client_id']}", kept, now + CLIENT_IDLE_TTL, new=False)

    def _authenticated_client(
        self, fields: dict[str, str], headers: Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, Response | None]:
        """The client a token or revocation request comes from, checked as it registered."""
        client_id, secret, basic = fields.get("client_id", ""), fields.get("client_secret"), False
        authorization = headers.get("authorization", "")
        if authorization[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
                user, _, password = decoded.partition(":")
            except ValueError:
                return None, oauth_error(401, "invalid_client", "the Basic credentials are malformed")
            client_id, secret, basic = unquote_plus(user), unquote_plus(password), True
        challenge = {"WWW-Authenticate": 'Basic realm="token"'} if basic else None
        try:
            client = self.client(client_id)
        except ClientError as exc:
            return None, oauth_error(401, "invalid_client", exc.message, challenge)
        if client is None:
            return None, oauth_error(401, "invalid_client", "unknown client_id; register again", challenge)
        expected = client.get("secret_hash")
        if expected is None:
            if secret:
                return None, oauth_error(401, "invalid_client", "this client is public: send no secret", challenge)
        elif not secret or not hmac.compare_digest(hashed(secret), expected):
            return None, oauth_error(401, "invalid_client", "the client secret is wrong", challenge)
        return client, None

    def end_grant(self, grant: str) -> None:
        """Revocation: the grant goes, and with it every token issued under it."""
        self.store.delete(f"grant#{grant}")
        self.forget(grant)

    # ---- the browser's part ----------------------------------------------------------------

    def authorize(self, params: Mapping[str, str], headers: Mapping[str, str]) -> Response:
        client_id = params.get("client_id", "")
        try:
            client = self.client(client_id)
        except ClientError as exc:
            return refused(400, CANNOT_SIGN_IN, exc.message)
        if client is None:
            return refused(400, CANNOT_SIGN_IN, "Its client_id is unknown here; it must register again.")
        given = params.get("redirect_uri")
        if given is None:
            if len(client["redirect_uris"]) != 1:
                return refused(400, CANNOT_SIGN_IN, "It registered several redirect URIs and named none of them.")
            redirect_uri: str | None = client["redirect_uris"][0]
        else:
            try:
                redirect_uri = matching_redirect(client["redirect_uris"], given)
            except ClientError as exc:
                return refused(400, CANNOT_SIGN_IN, f"Its redirect_uri cannot be used: {exc.message}.")
        if redirect_uri is None:
            # Never redirect to an unregistered URI: that is how codes are stolen.
            return refused(400, CANNOT_SIGN_IN, "Its redirect_uri is not one it registered.")
        state = params.get("state")
        browser = browser_id(headers)
        # An approval covers one client sending codes to one redirect URI: a URI the person was
        # never shown (registered beside it, or added to a metadata document later) asks again.
        consent = self._consent_key(browser, client_id, redirect_uri) if browser is not None else None
        approved = consent is not None and self.store.get(consent) is not None

        def back(code: str, description: str) -> Response:
            if not approved:
                # Registration is open: an error sent at once to a client this browser never approved
                # would be an open redirect to whatever URI a stranger registered (RFC 9700 4.11.2).
                return refused(400, CANNOT_SIGN_IN, f"{description} ({code}).")
            asked = {"redirect_uri": redirect_uri, "state": state}
            return self._back_to_client(asked, {"error": code, "error_description": description})

        if params.get("response_type") != "code":
            return back("unsupported_response_type", "response_type must be code")
        if params.get("code_challenge_method") != "S256" or not PKCE.match(params.get("code_challenge", "")):
            return back("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")
        resource = params.get("resource", self.settings.resource)
        if resource.rstrip("/") != self.settings.resource:
            return back("invalid_target", f"resource must be {self.settings.resource}")
        scope = params.get("scope", "").split() or [SCOPE]
        if set(scope) - {SCOPE}:
            return back("invalid_scope", f"the only scope is {SCOPE}")
        browser = browser or secrets.token_urlsafe(24)
        pending, csrf, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        request = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,  # the registered one, written from its own parts
            "redirect_given": given,  # what /token must be sent again (RFC 6749 section 4.1.3)
            "state": state,
            "challenge": params["code_challenge"],
            "resource": self.settings.resource,
            "scope": SCOPE,
            "browser": hashed(browser),
            "csrf": hashed(csrf),
            "verifier": verifier,  # for GitHub's own PKCE
        }
        self.store.put(token_hash("pending", pending), request, int(self.clock()) + PENDING_TTL)
        cookie = {
            "Set-Cookie": f"{BROWSER_COOKIE}={browser}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={CONSENT_TTL}"
        }
        if approved:
            return redirect(self._to_github(pending, verifier), cookie)
        html = pages.consent(
            service=SERVICE_NAME,
            client_name=client["client_name"],
            client_id=client_id,
            redirect_to=redirect_uri,
            pending=pending,
            csrf=csrf,
            github=urlsplit(self.settings.web).netloc,
            private=self.sealer is not None,
        )
        return page(200, html, cookie)

    def _consent_key(self, browser: str, client_id: str, redirect_uri: str) -> str:
        return token_hash("consent", f"{browser} {client_id} {consented(redirect_uri)}")

    def _to_github(self, pending: str, verifier: str) -> str:
        s = self.settings
        return github_oauth.authorize_url(
            s.web,
            s.client_id,
            redirect_uri=s.issuer + CALLBACK_PATH,
            state=pending,
            scope=s.upstream_scope,
            challenge=s256(verifier),
        )

    def _pending(self, pending: str, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """The pending request, if this browser started it."""
        request = self.store.get(token_hash("pending", pending)) if pending else None
        browser = browser_id(headers)
        if request is None or browser is None or not hmac.compare_digest(hashed(browser), request["browser"]):
            return None
        return request

    def consent(self, body: str | None, headers: Mapping[str, str]) -> Response:
        try:
            fields = form(body)
        except ValueError as exc:
            return refused(400, "This sign-in cannot go on", str(exc))
        origin = headers.get("origin")
        if origin is not None and origin != self.settings.issuer:
            return refused(403, "This sign-in cannot go on", "The form was sent from another site.")
        pending = fields.get("pending", "")
        request = self._pending(pending, headers)
        if request is None or not hmac.compare_digest(hashed(fields.get("csrf", "")), request["csrf"]):
            return refused(
                403, "This sign-in cannot go on", "This page expired or was not opened here. Start again from your app."
            )
        if fields.get("decision") != "approve":
            self.store.delete(token_hash("pending", pending))
            return self._back_to_client(request, {"error": "access_denied", "error_description": "you declined"})
        browser = browser_id(headers)
        assert browser is not None  # _pending found this browser's request
        consent = self._consent_key(browser, request["client_id"], request["redirect_uri"])
        self.store.put(consent, {}, int(self.clock()) + CONSENT_TTL, new=False)
        return redirect(self._to_github(pending, request["verifier"]))

    def _client_url(self, request: Mapping[str, Any], params: dict[str, str]) -> str:
        """The client's redirect URI with an answer, its `state` unchanged and our `iss` (RFC 9207)."""
        params = {**params, "iss": self.settings.issuer}
        if request.get("state") is not None:
            params["state"] = request["state"]
        return with_params(request["redirect_uri"], params)

    def _back_to_client(self, request: Mapping[str, Any], params: dict[str, str]) -> Response:
        return redirect(self._client_url(request, params))

    def callback(self, params: Mapping[str, str], headers: Mapping[str, str]) -> Response:
        """GitHub sends the person back here; the pending request is used up whatever happens."""
        pending = params.get("state", "")
        request = self._pending(pending, headers)
        if request is None:
            return refused(
                400,
                "This sign-in link is not valid",
                "Its state does not match a sign-in this browser started (or it expired). Start again from your app.",
            )
        _, first = self.store.claim(token_hash("pending", pending))
        if not first:
            return refused(400, "This sign-in link was already used", "Start again from your app.")
        if "error" in params or not params.get("code"):
            return self._back_to_client(
                request, {"error": "access_denied", "error_description": "GitHub sign-in was cancelled"}
            )
        s = self.settings
        try:
            github = github_oauth.exchange(
                s.web,
                s.client_id,
                s.client_secret,
                code=params["code"],
                redirect_uri=s.issuer + CALLBACK_PATH,
                verifier=request["verifier"],
                now=self.clock(),
            )
            github_token = github.token
            if github_token.startswith("ghu_") and self.sealer is None:
                # A GitHub App's token (on any host, whatever its client ID looks like) reads private
                # repositories; without privateRepositories nothing would keep its answers apart.
                return refused(500, "This service cannot sign you in", GITHUB_APP_WITHOUT_PRIVATE)
            login, user_id = github_oauth.user(self.github, github_token)
            allowed = self._allowed(login, user_id, github_token)
        except github_oauth.SignInFailed as exc:
            return refused(502, "GitHub did not finish the sign-in", str(exc))
        if not allowed:
            back = self._client_url(request, {"error": "access_denied", "error_description": "not allowed"})
            return refused(
                403,
                f"{login} may not use this service",
                "Its owner lets only the people and organizations they name sign in. Ask them to add you.",
                back,
            )
        grant = secrets.token_urlsafe(24)
        now = int(self.clock())
        try:
            person = {"login": login, "user_id": user_id, "client_id": request["client_id"]}
            kept = grants.record(person, github, self.sealer, grant)
        except SealError as exc:
            return refused(503, "Your sign-in could not be kept", f"{exc}. Start again from your app.")
        self.store.put(f"grant#{grant}", kept, now + REFRESH_TTL)
        code = secrets.token_urlsafe(32)
        self.store.put(
            token_hash("code", code),
            {
                "grant": grant,
                "client_id": request["client_id"],
                "redirect_uri": request["redirect_uri"],
                "redirect_given": request["redirect_given"],
                "challenge": request["challenge"],
                "resource": request["resource"],
                "scope": request["scope"],
            },
            now + CODE_TTL,
        )
        return self._back_to_client(request, {"code": code})

    def _allowed(self, login: str, user_id: int, github_token: str) -> bool:
        """Whether the owner lets this GitHub account in: a named user (by the account's id, which a
        login does not keep when it changes hands), or an active member of a named organization.
        SignInFailed when GitHub gives no definite answer."""
        s = self.settings
        if not s.allowed_users and not s.allowed_orgs:
            return True
        if self._allowed_user(login, user_id):
            return True
        return any(github_oauth.active_member(self.github, github_token, org) for org in s.allowed_orgs)

    def _allowed_user(self, login: str, user_id: int) -> bool:
        """An allowed login is bound to the account that first signs in with it (GitHub says which
        account holds a login at that moment); from then on only that account passes, under that
        login or a new one. The bindings are kept in the store, so a cold instance finds them."""
        if user_id <= 0:
            return False
        name = login.lower()
        if name in self.settings.allowed_users and self._bound(name) is None:
            # The first account seen with this login: at a sign-in, or in a grant older than bindings.
            self.store.put(f"allowed-user#{name}", {"login": login, "id": user_id}, 0)
        # The login itself first; then the others, for a person who renamed since their binding.
        names = sorted(self.settings.allowed_users, key=lambda n: n != name)
        return any((bound := self._bound(n)) is not None and bound["id"] == user_id for n in names)

    def _bound(self, name: str) -> dict[str, Any] | None:
        return self.store.get(f"allowed-user#{name}")

    # ---- the client's part -----------------------------------------------------------------

    def _client_request(
        self, body: str | None, headers: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]] | Response:
        """A token or revocation request's fields and the client it comes from; else the error."""
        try:
            fields = form(body)
        except ValueError as exc:
            return oauth_error(400, "invalid_request", str(exc))
        client, failure = self._authenticated_client(fields, headers)
        if client is None:
            assert failure is not None
            return failure
        return client, fields

    def token(self, body: str | None, headers: Mapping[str, str]) -> Response:
        request = self._client_request(body, headers)
        if isinstance(request, dict):
            return request
        client, fields = request
        grant_type = fields.get("grant_type")
        resource = fields.get("resource")
        if resource is not None and resource.rstrip("/") != self.settings.resource:
            return oauth_error(400, "invalid_target", f"resource must be {self.settings.resource}")
        if grant_type == "authorization_code":
            return self._redeem_code(client, fields)
        if grant_type == "refresh_token":
            return self._refresh(client, fields)
        return oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    def _redeem_code(self, client: Mapping[str, Any], fields: Mapping[str, str]) -> Response:
        """A code is checked (its client, its redirect URI, the PKCE verifier) before it is used up:
        one read from a log or a referrer, sent with any verifier, must not end the person's sign-in.
        Used up then, by one conditional write; a second use means it was copied (RFC 6749 section
        4.1.2), and the grant ends."""
        code = fields.get("code", "")
        key = token_hash("code", code) if code else ""
        item = self.store.get(key) if key else None
        if item is None:
            return oauth_error(400, "invalid_grant", "the code is unknown or expired")
        if item["client_id"] != client["client_id"]:
            return oauth_error(400, "invalid_grant", "the code was issued to another client")
        redirect_uri, given = fields.get("redirect_uri"), item["redirect_given"]
        if isinstance(given, bool):  # a code issued before the given URI was kept as it was sent
            given = item["redirect_uri"] if given else None
        if (redirect_uri is not None or given is not None) and redirect_uri != (given or item["redirect_uri"]):
            return oauth_error(400, "invalid_grant", "redirect_uri differs from the authorization request's")
        verifier = fields.get("code_verifier", "")
        if not PKCE.match(verifier) or not hmac.compare_digest(s256(verifier), item["challenge"]):
            return oauth_error(400, "invalid_grant", "the code_verifier does not match the code_challenge")
        claimed, first = self.store.claim(key)
        if claimed is None:  # expired since it was read
            return oauth_error(400, "invalid_grant", "the code is unknown or expired")
        if not first:
            self.end_grant(item["grant"])
            return oauth_error(400, "invalid_grant", "the code was already used; the sign-in is revoked")
        issued = self._issue(item["grant"], client, item["scope"])
        if issued["statusCode"] == 200:
            self._keep(client)
        return issued

    def _refresh(self, client: Mapping[str, Any], fields: Mapping[str, str]) -> Response:
        """Everything that can fail for a while (GitHub, the store) is done before the refresh token
        is used up: a client that retries after a 503 still holds a good refresh token, and only a
        true second use of one token revokes the grant."""
        token = fields.get("refresh_token", "")
        key = token_hash("refresh", token) if token else ""
        item = self.store.get(key) if key else None
        if item is None:
            return oauth_error(400, "invalid_grant", "the refresh token is unknown or expired")
        if item["client_id"] != client["client_id"]:
            return oauth_error(400, "invalid_grant", "the refresh token was issued to another client")
        if set(fields.get("scope", item["scope"]).split()) - {SCOPE}:
            return oauth_error(400, "invalid_scope", f"the only scope is {SCOPE}")
        grant = item["grant"]
        record = self.store.get(f"grant#{grant}")
        if record is None:
            return oauth_error(400, "invalid_grant", "the sign-in was revoked; sign in again")
        try:
            github = self._github(grant, record)
            still_allowed = self._allowed(record["login"], int(record.get("user_id") or 0), github.token)
        except (github_oauth.TokenRefused, grants.Ended) as exc:
            self.end_grant(grant)
            return oauth_error(400, "invalid_grant", str(exc))
        except (github_oauth.SignInFailed, grants.Busy, SealError) as exc:
            unavailable = f"GitHub could not be asked ({exc}); retry with the same refresh token"
            return oauth_error(503, "temporarily_unavailable", unavailable, {"Retry-After": "30"})
        if not still_allowed:
            # Someone taken off an allow-list keeps access for an hour at most, not a grant's 30 days.
            self.end_grant(grant)
            return oauth_error(400, "invalid_grant", f"{record['login']} may no longer use this service")
        tokens = self._tokens(grant, record, client, item["scope"])
        _, first = self.store.claim(key)  # the refresh token is used up last: the one write that decides
        if not first:
            self.end_grant(grant)
            return oauth_error(400, "invalid_grant", "the refresh token was already used; the sign-in is revoked")
        self._keep(client)
        return json_answer(200, tokens)

    def _github(self, grant: str, record: dict[str, Any]) -> github_oauth.Tokens:
        """The grant's GitHub token, renewed first if it is about to expire."""
        tokens = grants.github(record, self.sealer, grant)
        if self.sealer is not None and grants.due(tokens, self.clock()):
            s = self.settings
            app = grants.App(s.web, s.client_id, s.client_secret)
            renewal = grants.Renewal(self.store, self.sealer, app, clock=self.clock)
            _, tokens = renewal.renew(grant, refused=None)
        return tokens

    def _issue(self, grant: str, client: Mapping[str, Any], scope: str) -> Response:
        """Tokens under `grant`, for a code just redeemed."""
        record = self.store.get(f"grant#{grant}")
        if record is None:
            return oauth_error(400, "invalid_grant", "the sign-in was revoked; sign in again")
        return json_answer(200, self._tokens(grant, record, client, scope))

    def _tokens(self, grant: str, record: Mapping[str, Any], client: Mapping[str, Any], scope: str) -> dict[str, Any]:
        """A new access token and refresh token under `grant` (stored as hashes), the grant renewed."""
        now = int(self.clock())
        grants.extend(self.store, grant, now)  # a conditional write: a renewal made meanwhile stands
        access, refresh = ACCESS_PREFIX + secrets.token_urlsafe(32), REFRESH_PREFIX + secrets.token_urlsafe(32)
        claims = {"grant": grant, "client_id": client["client_id"], "scope": scope, "resource": self.settings.resource}
        # Who the call came through, for the audit record: the client as it registered.
        audited = {"login": record["login"], "client_name": str(client.get("client_name") or "")[:200]}
        self.store.put(
            token_hash("access", access), {**claims, **audited, "expires": now + ACCESS_TTL}, now + ACCESS_TTL
        )
        self.store.put(token_hash("refresh", refresh), claims, now + REFRESH_TTL)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL,
            "refresh_token": refresh,
            "scope": scope,
        }

    def revoke(self, body: str | None, headers: Mapping[str, str]) -> Response:
        """RFC 7009: either token ends the whole grant; an unknown token is not an error."""
        request = self._client_request(body, headers)
        if isinstance(request, dict):
            return request
        client, fields = request
        token = fields.get("token", "")
        kind = "refresh" if token.startswith(REFRESH_PREFIX) else "access"
        item = self.store.get(token_hash(kind, token)) if token else None
        if item is not None and item["client_id"] == client["client_id"]:
            self.end_grant(item["grant"])
            self.store.delete(token_hash(kind, token))
        return response(200, "", NO_STORE)

    # ---- routing ---------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str], body: str | None
    ) -> Response:
        routes: dict[str, tuple[str, Callable[[], Response]]] = {
            "/.well-known/oauth-authorization-server": (
                "GET",
                lambda: json_answer(200, self.server_metadata(), PUBLIC),
            ),
            "/.well-known/oauth-protected-resource": (
                "GET",
                lambda: json_answer(200, self.resource_metadata(), PUBLIC),
            ),
            "/.well-known/oauth-protected-resource/mcp": (
                "GET",
                lambda: json_answer(200, self.resource_metadata(), PUBLIC),
            ),
            "/authorize": ("GET", lambda: self.authorize(params, headers)),
            CONSENT_PATH: ("POST", lambda: self.consent(body, headers)),
            CALLBACK_PATH: ("GET", lambda: self.callback(params, headers)),
            "/token": ("POST", lambda: self.token(body, headers)),
            "/register": ("POST", lambda: self.register(body)),
            "/revoke": ("POST", lambda: self.revoke(body, headers)),
        }
        found = routes.get(path)
        if found is None:
            return oauth_error(404, "not_found", f"no sign-in endpoint at {path[:80]!r}")
        verb, answer = found
        if method == "OPTIONS":
            return response(204, "", {"Allow": f"{verb}, OPTIONS", **CORS})
        if method != verb and not (verb == "GET" and method == "HEAD"):
            return oauth_error(405, "method_not_allowed", f"{path} takes {verb}", {"Allow": verb})
        try:
            answered = answer()
        except StoreError as exc:
            return oauth_error(503, "temporarily_unavailable", f"sign-in is unavailable for a moment ({exc}); retry")
        if path.startswith("/.well-known/") or path in ("/token", "/register", "/revoke"):
            answered["headers"].update(CORS)  # browser-based clients read these across origins
        return answered


PUBLIC = {"Cache-Control": "public, max-age=300"}
# The discovery documents and the token endpoints may be called from a web client's page; they
# carry no cookie and no ambient authority, so any origin may read them.
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, MCP-Protocol-Version",
}
