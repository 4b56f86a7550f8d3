"""A grant's GitHub credentials: kept in the grant, sealed when they can read private code, and
renewed, by one function instance at a time, before they expire or when GitHub refuses them.

A GitHub App's user token expires after 8 hours; its refresh token works once, and after a
refresh the old user token stops working too. Two instances that find the same expired token
must not both spend the refresh token (the second would be refused and end the grant), so the
grant is leased first: a conditional write against the version the instance read. The winner
renews at GitHub and writes the new pair; the others wait for it and read it. Once GitHub has
spent the refresh token the new pair is never dropped: the stack's own refresh moving the grant's
version meanwhile makes it written again, and a token key that will not seal it for a moment
leaves it with the instance that holds it, for the grant's next request.

Without private repositories the record keeps its public shape (`github_token` in the grant, an
OAuth App's token that does not expire) and nothing is renewed; the door and the gate load this
module only with private repositories on.
"""

from __future__ import annotations

import threading
import time

from signin import github_oauth
from signin.github_oauth import Tokens
from signin.sealing import SealError

RENEW_MARGIN_SECONDS = 300  # renewed when less than this is left, so no call meets an expired token
LEASE_SECONDS = 30  # longer than GitHub's token endpoint may take (8 s) to answer
WAIT_SECONDS = 10.0  # how long an instance waits for another's renewal before giving up for now
POLL_SECONDS = 0.2
GRANT_TTL_SECONDS = 30 * 86_400  # as signin.server.REFRESH_TTL: a renewal is activity too
SEAL_RETRY_SECONDS = (0.2, 0.5, 1.0)  # KMS refusing for a moment must not lose a pair GitHub just issued
WRITE_ATTEMPTS = 5  # a renewed pair is written over whatever else moved the grant's version meanwhile

# Pairs GitHub renewed that the token key would not seal, per grant, with the `sealed` value they
# replace: the warm instance that spent the refresh token writes them on the grant's next request.
_unsaved: dict[str, tuple[str | None, Tokens]] = {}
_unsaved_lock = threading.Lock()

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from signin.sealing import KmsSealer, Unsealed
    from signin.store import DynamoStore, MemoryStore

    Sealer = KmsSealer | Unsealed


class Ended(Exception):
    """The grant is gone, or GitHub will not renew it: the person signs in again."""


class Busy(Exception):
    """Not renewed now (GitHub gave no definite answer, or another instance is slow): try again."""


class App:
    """The GitHub App the tokens are renewed with."""

    __slots__ = ("client_id", "secret", "web")

    def __init__(self, web: str, client_id: str, secret: str) -> None:
        self.web, self.client_id, self.secret = web, client_id, secret

    def __repr__(self) -> str:
        return f"App({self.client_id!r})"


def record(person: dict[str, Any], tokens: Tokens, sealer: Sealer | None, grant: str) -> dict[str, Any]:
    """A new grant's record: `person` (login, user_id, client_id) and the GitHub tokens, with a
    sealer only as their ciphertext."""
    if sealer is None:
        return {**person, "github_token": tokens.token}
    return {**person, **_sealed(tokens, sealer, grant)}


def _sealed(tokens: Tokens, sealer: Sealer, grant: str) -> dict[str, Any]:
    return {
        "sealed": sealer.seal(grant, {"token": tokens.token, "refresh": tokens.refresh}),
        "github_expires": tokens.expires,
        "refresh_expires": tokens.refresh_expires,
    }


def github(found: dict[str, Any], sealer: Sealer | None, grant: str) -> Tokens:
    """The GitHub tokens a grant record holds."""
    if "sealed" not in found:
        return Tokens(found["github_token"])
    if sealer is None:
        raise Ended("this grant was made with private repositories on; sign in again")
    opened = sealer.open(grant, found["sealed"])
    return Tokens(
        opened["token"], found.get("github_expires", 0), opened.get("refresh"), found.get("refresh_expires", 0)
    )


def due(tokens: Tokens, now: float) -> bool:
    """Whether the token should be renewed before it is used."""
    return bool(tokens.expires) and tokens.expires - now < RENEW_MARGIN_SECONDS


class Renewal:
    """Renews grants' GitHub tokens through the store, one instance per grant at a time."""

    def __init__(
        self,
        store: MemoryStore | DynamoStore,
        sealer: Sealer,
        app: App,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store, self.sealer, self.app, self.clock, self.sleep = store, sealer, app, clock, sleep

    def renew(self, grant: str, *, refused: str | None) -> tuple[dict[str, Any], Tokens]:
        """The grant's record and tokens, renewed if they are due or are the ones GitHub refused
        (`refused`: the `sealed` value whose token was refused). Ended or Busy otherwise."""
        key = f"grant#{grant}"
        deadline = self.clock() + WAIT_SECONDS
        while True:
            found = self.store.get(key)
            with _unsaved_lock:
                kept = _unsaved.pop(grant, None)
            if found is None:
                raise Ended("the sign-in was revoked; sign in again")
            if kept is not None and kept[0] == found.get("sealed"):
                return self._keep(grant, found, kept[1])  # renewed here earlier, not yet sealed
            now = self.clock()
            if found.get("lease_until", 0) <= now:
                tokens = github(found, self.sealer, grant)
                if found.get("sealed") != refused and not due(tokens, now):
                    return found, tokens  # fresh: renewed by another instance, or never due
                version = found.get("version", 0)
                leased = {**found, "lease_until": int(now) + LEASE_SECONDS}
                if self.store.put_if(key, leased, _ttl(now), version=version):
                    return self._at_github(grant, found, tokens, version + 1)
            if self.clock() > deadline:
                raise Busy("another request is renewing your sign-in; try again in a moment")
            self.sleep(POLL_SECONDS)

    def _at_github(
        self, grant: str, found: dict[str, Any], tokens: Tokens, version: int
    ) -> tuple[dict[str, Any], Tokens]:
        """With the lease held at `version`: trade the refresh token, write the new pair."""
        key = f"grant#{grant}"
        now = self.clock()
        if tokens.refresh is None or (tokens.refresh_expires and tokens.refresh_expires <= now):
            self.store.delete(key)
            raise Ended("your GitHub sign-in can no longer be renewed; sign in again")
        app = self.app
        try:
            renewed = github_oauth.refresh(app.web, app.client_id, app.secret, refresh_token=tokens.refresh, now=now)
        except github_oauth.TokenRefused as exc:
            self.store.delete(key)
            raise Ended(str(exc)) from None
        except github_oauth.SignInFailed as exc:
            # No definite answer: the old pair still stands, and the lease is given back.
            self.store.put_if(key, {**found, "lease_until": 0}, _ttl(now), version=version)
            raise Busy(str(exc)) from None
        return self._keep(grant, {**found, "version": version}, renewed)

    def _keep(self, grant: str, found: dict[str, Any], renewed: Tokens) -> tuple[dict[str, Any], Tokens]:
        """Write the pair GitHub renewed in place of the one in `found`. GitHub has spent the old
        refresh token, so nothing may drop this pair: not the client's own refresh moving the
        grant's version meanwhile (written again at the version now there, as long as the pair it
        replaces is still the one stored), not the token key refusing for a moment (tried again,
        then kept in this instance for the grant's next request)."""
        key = f"grant#{grant}"
        replaced = found.get("sealed")
        sealed = self._sealed(grant, renewed, replaced)
        for _ in range(WRITE_ATTEMPTS):
            now = self.clock()
            written = {**found, **sealed, "lease_until": 0}
            version = found.get("version", 0)
            if self.store.put_if(key, written, _ttl(now), version=version):
                return {**written, "version": version + 1}, renewed
            current = self.store.get(key)
            if current is None:
                raise Ended("the sign-in was revoked; sign in again")
            if current.get("sealed") != replaced:
                return current, github(current, self.sealer, grant)  # another pair stands: it is the grant's
            found = current
        raise Busy("your sign-in changed too often to keep its renewal; try again")

    def _sealed(self, grant: str, renewed: Tokens, replaced: str | None) -> dict[str, Any]:
        for wait in SEAL_RETRY_SECONDS:
            try:
                return _sealed(renewed, self.sealer, grant)
            except SealError:
                self.sleep(wait)
        try:
            return _sealed(renewed, self.sealer, grant)
        except SealError as exc:
            with _unsaved_lock:
                _unsaved[grant] = (replaced, renewed)
            raise SealError(f"{exc}; your renewed sign-in is kept, try again") from None


def extend(store: MemoryStore | DynamoStore, grant: str, now: float) -> dict[str, Any] | None:
    """The grant kept another GRANT_TTL_SECONDS, without writing over a renewal made meanwhile."""
    key = f"grant#{grant}"
    for _ in range(3):
        found = store.get(key)
        if found is None:
            return None
        if store.put_if(key, found, _ttl(now), version=found.get("version", 0)):
            return {**found, "version": found.get("version", 0) + 1}
    return store.get(key)


def _ttl(now: float) -> int:
    return int(now) + GRANT_TTL_SECONDS
