"""The upstream half of sign-in: GitHub's OAuth web flow for the stack's own OAuth App.

GitHub answers the code exchange at `<web>/login/oauth/access_token` (github.com, or a GitHub
Enterprise Server's own host) and tells who signed in at `<api>/user`. Organization membership
is `<api>/user/memberships/orgs/{org}` with the user's token (needs `read:org`, or a GitHub App's
Members read permission).

A GitHub App's user token expires (8 hours) and comes with a refresh token (6 months) that works
once: `refresh` trades it at the same endpoint for a new pair, after which the old token stops
working too (GitHub's "Refreshing user access tokens").
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlencode, urlsplit

from search.github_api import USER_AGENT, GitHubClient, UpstreamTimeout, UpstreamUnreachable

TIMEOUT_SECONDS = 8.0


class SignInFailed(Exception):
    """GitHub did not complete the sign-in, or gave no definite answer (unreachable, 5xx, 403,
    429): worth trying again; the message says what happened."""


class TokenRefused(SignInFailed):
    """GitHub refused the person's token (401), or its refresh token: they revoked this app, or it
    was uninstalled. Definite: the grant ends."""


class Tokens:
    """What GitHub's token endpoint answered: the user token, and for a GitHub App with expiring
    tokens when it expires, its refresh token and when that expires (epoch seconds; 0: never)."""

    __slots__ = ("expires", "refresh", "refresh_expires", "token")

    def __init__(self, token: str, expires: int = 0, refresh: str | None = None, refresh_expires: int = 0) -> None:
        self.token, self.expires, self.refresh, self.refresh_expires = token, expires, refresh, refresh_expires

    def __repr__(self) -> str:  # never a token, even in a traceback
        return f"Tokens(expires={self.expires})"

    @classmethod
    def from_answer(cls, answer: dict[str, object], now: float) -> Tokens:
        def when(field: str) -> int:
            seconds = answer.get(field)
            return int(now) + seconds if isinstance(seconds, int) and seconds > 0 else 0

        refresh = answer.get("refresh_token")
        return cls(
            str(answer["access_token"]),
            when("expires_in"),
            refresh if isinstance(refresh, str) and refresh else None,
            when("refresh_token_expires_in"),
        )


def authorize_url(web: str, client_id: str, *, redirect_uri: str, state: str, scope: str, challenge: str) -> str:
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "state": state, "scope": scope}
    # github.com takes PKCE; GitHub Enterprise Server ignores what it does not know.
    params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return f"{web}/login/oauth/authorize?{urlencode(params)}"


def exchange(
    web: str, client_id: str, secret: str, *, code: str, redirect_uri: str, verifier: str, now: float
) -> Tokens:
    """The user's GitHub token (and with a GitHub App, its refresh token) for `code`."""
    form = {"client_id": client_id, "client_secret": secret, "code": code, "redirect_uri": redirect_uri}
    answer, status = _token_endpoint(web, {**form, "code_verifier": verifier}, "finish the sign-in")
    token = answer.get("access_token")
    if status != 200 or not isinstance(token, str) or not token:
        reason = answer.get("error_description") or answer.get("error")
        raise SignInFailed(f"GitHub did not accept the sign-in: {str(reason or status)[:200]}")
    return Tokens.from_answer(answer, now)


def refresh(web: str, client_id: str, secret: str, *, refresh_token: str, now: float) -> Tokens:
    """A new token pair for a GitHub App's refresh token, which GitHub takes once. TokenRefused when
    GitHub refuses it (used, expired, revoked, the app uninstalled); SignInFailed when GitHub gave no
    definite answer (then the refresh token may still be good)."""
    form = {
        "client_id": client_id,
        "client_secret": secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    answer, status = _token_endpoint(web, form, "renew your sign-in")
    token = answer.get("access_token")
    if status == 200 and isinstance(token, str) and token:
        return Tokens.from_answer(answer, now)
    if status == 200 and answer.get("error") in ("bad_refresh_token", "unauthorized_client"):
        raise TokenRefused("GitHub no longer renews your sign-in (revoked, or the app was uninstalled); sign in again")
    raise SignInFailed(f"GitHub did not renew the sign-in: {str(answer.get('error') or status)[:200]}")


def _token_endpoint(web: str, form: dict[str, str], doing: str) -> tuple[dict[str, object], int]:
    """GitHub's token endpoint's JSON answer (a dict, {} when it is not one) and its status."""
    parts = urlsplit(web)
    body = urlencode(form).encode()
    connection = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = connection(parts.hostname or "", parts.port, timeout=TIMEOUT_SECONDS)
    try:
        conn.request(
            "POST",
            f"{parts.path}/login/oauth/access_token",
            body=body,
            headers={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": USER_AGENT,
            },
        )
        reply = conn.getresponse()
        data = reply.read()
    except (OSError, http.client.HTTPException) as exc:
        raise SignInFailed(f"GitHub could not be reached to {doing} ({type(exc).__name__})") from None
    finally:
        conn.close()
    try:
        answer = json.loads(data)
    except (ValueError, RecursionError):
        answer = {}
    return (answer if isinstance(answer, dict) else {}), reply.status


def _get(client: GitHubClient, path: str, token: str) -> tuple[int, object]:
    try:
        reply = client.get(path, [], {"Authorization": f"Bearer {token}"})
    except (UpstreamTimeout, UpstreamUnreachable) as exc:
        raise SignInFailed(str(exc)) from None
    try:
        return reply.status, json.loads(reply.body) if reply.body else None
    except ValueError:
        return reply.status, None


def user(client: GitHubClient, token: str) -> tuple[str, int]:
    """(login, id) of the token's user: the id is what stays theirs when a login changes hands."""
    status, answer = _get(client, "/user", token)
    user_id = answer.get("id") if isinstance(answer, dict) else None
    if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("login"), str):
        raise SignInFailed(f"GitHub did not say who signed in (HTTP {status})")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise SignInFailed("GitHub did not say which account signed in (no numeric id)")
    return answer["login"], user_id


def active_member(client: GitHubClient, token: str, org: str) -> bool:
    """Whether the token's user is an active member of `org`. Only GitHub's definite answers decide
    (200: the membership, 404: none); 401 is TokenRefused; anything else (a 5xx, a 403 or 429 rate
    limit, no answer) is SignInFailed, never "not a member"."""
    status, answer = _get(client, f"/user/memberships/orgs/{quote(org, safe='')}", token)
    if status == 200 and isinstance(answer, dict):
        return answer.get("state") == "active"
    if status == 404:
        return False
    if status == 401:
        raise TokenRefused("GitHub no longer accepts your sign-in; sign in again")
    raise SignInFailed(f"GitHub answered HTTP {status} when asked about membership of {org}")
