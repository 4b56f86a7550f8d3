"""The sign-in half of the fake GitHub: the OAuth web flow, `/user` and org membership.

`GET /login/oauth/authorize` approves at once as the fake user (as github.com does for an app
the user already authorized) and redirects with a code; `POST /login/oauth/access_token` trades
it (checking the app's secret, the redirect URI and PKCE) for a `gho_` token; `/user` and
`/user/memberships/orgs/{org}` answer for that token. A token revoked with `revoke` gets 401 on
every API call, as when a user revokes the app on github.com.

As a GitHub App with expiring user tokens (`expiring`), it answers what GitHub's docs describe
("Refreshing user access tokens"): a `ghu_` token for 8 hours with a `ghr_` refresh token for 6
months; `grant_type=refresh_token` trades a refresh token, once, for a new pair, and the old
user token stops working too; a used, expired or revoked refresh token is `bad_refresh_token`.
`skew` moves its clock. Private repositories (`private`: full name -> who may read it) are
visible to a user's token only where the app is installed (`installed`: owners); `uninstall`
takes an installation away.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

DEFAULT_LOGIN = "octocat"
USER_TOKEN_SECONDS = 8 * 3600  # GitHub's: a user access token lasts 8 hours
REFRESH_TOKEN_SECONDS = 15_897_600  # and its refresh token 6 months
USER_TOKEN_PREFIXES = ("gho_", "ghu_")
BAD_REFRESH = {
    "error": "bad_refresh_token",
    "error_description": "The refresh token passed is incorrect or expired.",
}
BAD_CREDENTIALS = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}


@dataclass
class FakeOAuth:
    login: str = DEFAULT_LOGIN
    # org -> logins that are active members
    orgs: dict[str, set[str]] = field(default_factory=dict)
    # client_id -> secret of the OAuth Apps it knows; empty: any app and secret
    apps: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # token -> login
    # login -> the account's numeric id, which stays with the account when its login changes
    ids: dict[str, int] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # A GitHub App's user tokens: they expire, and refresh once each.
    expiring: bool = False
    skew: float = 0.0  # seconds added to the fake's clock
    refresh_delay: float = 0.0  # seconds a refresh takes to answer, after the old pair is spent
    expires: dict[str, float] = field(default_factory=dict)  # user token -> when it stops working
    refresh_tokens: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # ghr_ -> (login, until, ghu_)
    refreshes: int = 0  # refresh tokens traded, for tests that count them
    private: dict[str, set[str]] = field(default_factory=dict)  # private repository -> logins who may read it
    installed: set[str] = field(default_factory=set)  # owners the app is installed on

    def now(self) -> float:
        return time.time() + self.skew

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str]]:
        redirect_uri = params.get("redirect_uri", "")
        if self.apps and params.get("client_id") not in self.apps:
            return 404, {}
        code = secrets.token_hex(10)
        with self.lock:
            self.codes[code] = {
                "client_id": params.get("client_id", ""),
                "redirect_uri": redirect_uri,
                "challenge": params.get("code_challenge", ""),
                "login": self.login,
            }
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {
            "Location": f"{redirect_uri}{separator}{urlencode({'code': code, 'state': params.get('state', '')})}"
        }

    def access_token(self, form: dict[str, str]) -> dict[str, Any]:
        """GitHub answers 200 with an `error` field for a bad code, as this does."""
        if self.apps and self.apps.get(form.get("client_id", "")) != form.get("client_secret"):
            return {
                "error": "incorrect_client_credentials",
                "error_description": "The client_id and/or client_secret passed are incorrect.",
            }
        if form.get("grant_type") == "refresh_token":
            return self._refresh(form.get("refresh_token", ""))
        with self.lock:
            found = self.codes.pop(form.get("code", ""), None)
        if (
            found is None
            or found["client_id"] != form.get("client_id")
            or found["redirect_uri"] != form.get("redirect_uri")
        ):
            return {"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}
        if found["challenge"]:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != found["challenge"]:
                return {"error": "bad_verification_code", "error_description": "The code_verifier does not match."}
        if self.expiring:
            return self.pair(found["login"])
        token = "gho_" + secrets.token_hex(18)
        with self.lock:
            self.tokens[token] = found["login"]
        return {"access_token": token, "token_type": "bearer", "scope": "read:org"}

    def pair(self, login: str) -> dict[str, Any]:
        """A GitHub App's expiring user token and its refresh token."""
        token, refresh = "ghu_" + secrets.token_hex(18), "ghr_" + secrets.token_hex(36)
        with self.lock:
            self.tokens[token] = login
            self.expires[token] = self.now() + USER_TOKEN_SECONDS
            self.refresh_tokens[refresh] = (login, self.now() + REFRESH_TOKEN_SECONDS, token)
        return {
            "access_token": token,
            "expires_in": USER_TOKEN_SECONDS,
            "refresh_token": refresh,
            "refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
            "token_type": "bearer",
            "scope": "",
        }

    def _refresh(self, refresh: str) -> dict[str, Any]:
        with self.lock:
            found = self.refresh_tokens.pop(refresh, None)
            if found is None or found[1] <= self.now() or found[2] in self.revoked:
                return BAD_REFRESH
            login, _, old = found
            self.revoked.add(old)  # the old user token stops working too
            self.refreshes += 1
        return self.pair(login)

    def user_of(self, headers: dict[str, str]) -> str | None:
        """The login a user token belongs to; None for no such token, a revoked or an expired one."""
        token = headers.get("authorization", "").partition(" ")[2]
        with self.lock:
            if token in self.revoked or self.expires.get(token, float("inf")) <= self.now():
                return None
            return self.tokens.get(token)

    def is_user_token(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization", "").partition(" ")[2].startswith(USER_TOKEN_PREFIXES)

    def visible(self, headers: dict[str, str]) -> set[str]:
        """The private repositories (lower-case full names) a request's token may read: those of
        the installation's owners that its user may read."""
        login = self.user_of(headers) if self.is_user_token(headers) else None
        with self.lock:
            return {
                name.lower()
                for name, readers in self.private.items()
                if login in readers and name.split("/")[0].lower() in {o.lower() for o in self.installed}
            }

    def is_private(self, full_name: str) -> bool:
        with self.lock:
            return full_name.lower() in {name.lower() for name in self.private}

    def uninstall(self, owner: str) -> None:
        """The owner removes the app: its private repositories are out of every token's reach."""
        with self.lock:
            self.installed = {o for o in self.installed if o.lower() != owner.lower()}

    def id_of(self, login: str) -> int:
        with self.lock:
            return self.ids.setdefault(login, max(self.ids.values(), default=1000) + 1)

    def rename(self, old: str, new: str) -> None:
        """The account `old` takes the login `new`, as GitHub allows: its id and tokens go with it,
        and `old` is free for anyone to claim (it gets a new id when someone does)."""
        account = self.id_of(old)
        with self.lock:
            del self.ids[old]
            self.ids[new] = account
            self.tokens = {t: (new if who == old else who) for t, who in self.tokens.items()}

    def revoke(self, login: str | None = None) -> None:
        """The user revokes the app on github.com: every token of theirs (or all) stops working,
        refresh tokens too."""
        with self.lock:
            self.revoked |= {t for t, who in self.tokens.items() if login is None or who == login}
            for refresh, (who, _, _) in list(self.refresh_tokens.items()):
                if login is None or who == login:
                    del self.refresh_tokens[refresh]

    def api(self, path: str, headers: dict[str, str]) -> tuple[int, Any] | None:
        """Answers for /user and memberships, and 401 for a revoked user token anywhere."""
        if not self.is_user_token(headers):
            return (401, BAD_CREDENTIALS) if path.startswith("/user") else None
        login = self.user_of(headers)
        if login is None:
            return 401, BAD_CREDENTIALS
        if path == "/user":
            return 200, {"login": login, "id": self.id_of(login), "type": "User"}
        if path.startswith("/user/memberships/orgs/"):
            org = path.rsplit("/", 1)[1]
            if login in self.orgs.get(org, set()):
                return 200, {"state": "active", "role": "member", "organization": {"login": org}}
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        return None
