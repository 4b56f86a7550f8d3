"""The protected resource's door: every search request with sign-in on carries the stack's token.

A token checked in the last minute is taken from the warm instance's memory: no store call on
the hot path. Revoking a grant therefore reaches a warm instance within that minute (and at
once where the revocation or GitHub's 401 happened). With private repositories, the person's
GitHub token is opened from its ciphertext (a KMS call) when the access token is checked, and
remembered no longer than the check is.
"""

from __future__ import annotations

import threading
import time

from signin.store import ACCESS_PREFIX, SCOPE, token_hash

CHECKED_SECONDS = 60.0
MAX_REMEMBERED = 10_000
GITHUB_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from signin.github_oauth import Tokens
    from signin.sealing import KmsSealer, Unsealed
    from signin.store import DynamoStore, MemoryStore


class Principal:
    """Who a request is from: their login, their GitHub token, the grant to end if GitHub refuses it.
    With private repositories also their account's id (what keeps their answers theirs), when the
    token expires, and the ciphertext it was opened from (to tell a renewed token from a refused one)."""

    __slots__ = ("client_id", "client_name", "expires", "github_token", "grant", "key", "login", "sealed", "user_id")

    def __init__(
        self,
        login: str,
        github_token: str,
        grant: str,
        *,
        key: str = "",
        user_id: int = 0,
        expires: int = 0,
        sealed: str | None = None,
    ) -> None:
        self.login, self.github_token, self.grant = login, github_token, grant
        self.key, self.user_id, self.expires, self.sealed = key, user_id, expires, sealed
        self.client_id, self.client_name = "", ""  # the client the access token was issued to

    def __repr__(self) -> str:  # never the token, even in a traceback
        return f"Principal({self.login!r})"


class Refusal(Exception):
    """401 or 403: the status, the `error` for WWW-Authenticate (None: no token was sent), a message."""

    def __init__(self, status: int, error: str | None, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def challenge(self, resource_metadata: str) -> str:
        parts = [f'resource_metadata="{resource_metadata}"', f'scope="{SCOPE}"']
        if self.error is not None:
            parts.append(f'error="{self.error}"')
            parts.append(f'error_description="{self.message}"')
        return "Bearer " + ", ".join(parts)


class Gate:
    def __init__(
        self,
        store: MemoryStore | DynamoStore,
        resource: str,
        clock: Callable[[], float] = time.time,
        sealer: KmsSealer | Unsealed | None = None,
    ) -> None:
        self.store, self.resource, self.clock, self.sealer = store, resource, clock, sealer
        self._checked: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def principal(self, headers: Mapping[str, str]) -> Principal:
        value = headers.get("authorization", "")
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refusal(401, None, "sign in: this service needs an access token")
        token = token.strip()
        if token.startswith(GITHUB_PREFIXES):
            raise Refusal(
                401, "invalid_token", "a GitHub token is not accepted here; sign in to get this service's own"
            )
        if not token.startswith(ACCESS_PREFIX) or len(token) > 100:
            raise Refusal(401, "invalid_token", "this token was not issued by this service")
        key = token_hash("access", token)
        now = self.clock()
        with self._lock:
            found = self._checked.get(key)
        if found is not None and found[0] > now:
            return found[1]
        item = self.store.get(key)
        if item is None:  # never issued, revoked, or expired (the store answers nothing past `expires`)
            raise Refusal(401, "invalid_token", "the access token expired or was revoked; refresh it or sign in again")
        if item["resource"] != self.resource:
            raise Refusal(401, "invalid_token", "the access token was issued for another resource")
        if SCOPE not in item["scope"].split():
            raise Refusal(403, "insufficient_scope", f"the access token lacks the {SCOPE} scope")
        grant = self.store.get(f"grant#{item['grant']}")
        if grant is None:
            raise Refusal(401, "invalid_token", "the sign-in was revoked; sign in again")
        principal = self._person(key, item["grant"], grant)
        principal.client_id, principal.client_name = item["client_id"], item.get("client_name", "")
        self._remember(principal, min(now + CHECKED_SECONDS, item["expires"]))
        return principal

    def _person(self, key: str, grant_id: str, grant: dict[str, Any]) -> Principal:
        if self.sealer is None:
            if "github_token" not in grant:  # sealed while private repositories were on; they are off now
                self.store.delete(f"grant#{grant_id}")
                raise Refusal(401, "invalid_token", "this sign-in was made for private repositories; sign in again")
            return Principal(
                grant["login"], grant["github_token"], grant_id, key=key, user_id=int(grant.get("user_id") or 0)
            )
        from signin import grants  # private repositories only

        tokens = grants.github(grant, self.sealer, grant_id)
        return self.renewed(Principal(grant["login"], "", grant_id, key=key), grant, tokens)

    def renewed(self, person: Principal, grant: dict[str, Any], tokens: Tokens) -> Principal:
        """`person` with the grant's current GitHub token, remembered in place of the old one."""
        fresh = Principal(
            person.login,
            tokens.token,
            person.grant,
            key=person.key,
            user_id=int(grant.get("user_id") or 0),
            expires=tokens.expires,
            sealed=grant.get("sealed"),
        )
        fresh.client_id, fresh.client_name = person.client_id, person.client_name
        with self._lock:
            remembered = self._checked.get(person.key)
        if remembered is not None:
            self._remember(fresh, remembered[0])
        return fresh

    def _remember(self, principal: Principal, until: float) -> None:
        with self._lock:
            if len(self._checked) >= MAX_REMEMBERED:
                self._checked.clear()
            self._checked[principal.key] = (until, principal)

    def end(self, principal: Principal) -> None:
        """GitHub refused the user's token (they revoked the app): the grant ends here and now."""
        self.store.delete(f"grant#{principal.grant}")
        self.forget(principal.grant)

    def forget(self, grant: str) -> None:
        with self._lock:
            for key in [k for k, (_, p) in self._checked.items() if p.grant == grant]:
                del self._checked[key]
