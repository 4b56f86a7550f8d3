"""A small in-memory cache of GitHub answers, kept across warm invocations."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

# How long an expired answer may still stand in for an error (rate limit, outage, timeout).
STALE_LIMIT_SECONDS = 86_400


class View:
    """One rendering of an answer: the mapping fronts reshape, and its JSON text."""

    __slots__ = ("text", "value")

    def __init__(self, value: dict[str, object], text: str) -> None:
        self.value, self.text = value, text


class Entry:
    """One upstream answer: `value` as mapped, `views` the answers rendered from it so far."""

    __slots__ = ("etag", "stored_at", "value", "views")

    def __init__(self, value: object, etag: str | None, stored_at: float) -> None:
        self.value, self.etag, self.stored_at = value, etag, stored_at
        self.views: dict[Hashable, View] = {}

    def age(self, now: float) -> float:
        return now - self.stored_at


class TtlCache:
    """Least-recently-used, bounded, thread-safe; freshness is decided by the caller's TTL."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, now: float) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.age(now) > STALE_LIMIT_SECONDS:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, value: object, etag: str | None, now: float) -> Entry:
        entry = Entry(value, etag, now)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def renew(self, entry: Entry, now: float) -> None:
        entry.stored_at = now
