"""A small in-memory cache of GitHub answers, kept across warm invocations."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

# How long an expired answer may still stand in for an error (rate limit, outage, timeout).
STALE_LIMIT_SECONDS = 86_400


class Entry:
    __slots__ = ("body", "etag", "stored_at")

    def __init__(self, body: str, etag: str | None, stored_at: float) -> None:
        self.body, self.etag, self.stored_at = body, etag, stored_at

    def age(self, now: float) -> float:
        return now - self.stored_at


class TtlCache:
    """Least-recently-used, bounded; freshness is decided by the caller's TTL."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, now: float) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.age(now) > STALE_LIMIT_SECONDS:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Hashable, body: str, etag: str | None, now: float) -> None:
        self._entries[key] = Entry(body=body, etag=etag, stored_at=now)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def renew(self, entry: Entry, now: float) -> None:
        entry.stored_at = now
