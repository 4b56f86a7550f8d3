"""Where sign-in keeps its state: DynamoDB when deployed, memory in local mode.

Every item is one key (`kind#hash`), a JSON document, an expiry (DynamoDB's TTL attribute; 0:
never) and a `used` flag. Single use (codes) and rotation (refresh tokens) are one conditional
write each, `claim`, so two function instances can never both redeem the same code: DynamoDB
lets one of the two writes succeed. Keys are SHA-256 hashes of the stack's own codes and
tokens, never the values (see docs/architecture.md, "Sign-in"). A grant that changes under two instances
at once (its GitHub tokens refreshed) is written with `put_if`, against the version it was read at.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time

from signin.aws_json import AwsError, AwsJsonClient
from signin.sigv4 import Credentials

SCOPE = "search"  # the one scope: search and read public GitHub as the user
ACCESS_PREFIX, REFRESH_PREFIX = "gsa_", "gsr_"  # the stack's own tokens, told apart from GitHub's gho_/ghp_
TARGET = "DynamoDB_20120810."
CONFLICT = "ConditionalCheckFailedException"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Item = dict[str, Any]


def hashed(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_hash(kind: str, value: str) -> str:
    """The key a code or token is stored under: never the value itself."""
    return f"{kind}#{hashed(value)}"


class StoreError(Exception):
    """The store did not answer as it should (throttled, unreachable, refused)."""


class MemoryStore:
    """Local mode's store: the same operations over a dict (one process, so a lock is enough)."""

    def __init__(self, clock: Any = time.time) -> None:
        self._items: dict[str, tuple[str, int, bool]] = {}
        self._lock = threading.Lock()
        self.clock = clock
        self.calls = 0

    def _live(self, key: str) -> tuple[str, int, bool] | None:
        found = self._items.get(key)
        if found is not None and found[1] and found[1] <= self.clock():
            del self._items[key]
            return None
        return found

    def put(self, key: str, item: Item, expires: int, *, new: bool = True) -> bool:
        with self._lock:
            self.calls += 1
            if new and self._live(key) is not None:
                return False
            self._items[key] = (json.dumps(item), expires, False)
            return True

    def get(self, key: str) -> Item | None:
        with self._lock:
            self.calls += 1
            found = self._live(key)
        return json.loads(found[0]) if found is not None else None

    def put_if(self, key: str, item: Item, expires: int, *, version: int) -> bool:
        with self._lock:
            self.calls += 1
            found = self._live(key)
            if found is None or json.loads(found[0]).get("version", 0) != version:
                return False
            self._items[key] = (json.dumps({**item, "version": version + 1}), expires, found[2])
            return True

    def claim(self, key: str) -> tuple[Item | None, bool]:
        with self._lock:
            self.calls += 1
            found = self._live(key)
            if found is None:
                return None, False
            data, expires, used = found
            if not used:
                self._items[key] = (data, expires, True)
        return json.loads(data), not used

    def count(self, key: str, limit: int, expires: int) -> int | None:
        with self._lock:
            self.calls += 1
            found = self._live(key)
            counted = json.loads(found[0])["n"] if found is not None else 0
            if counted >= limit:
                return None
            self._items[key] = (json.dumps({"n": counted + 1}), expires, False)
            return int(counted + 1)

    def delete(self, key: str) -> None:
        with self._lock:
            self.calls += 1
            self._items.pop(key, None)


class DynamoStore:
    """The same operations on one DynamoDB table (`pk` its partition key) over HTTPS with SigV4."""

    def __init__(
        self,
        table: str,
        region: str,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        clock: Any = time.time,
    ) -> None:
        self.table, self.region, self.clock = table, region, clock
        # Every write is safe to send twice: puts are whole items, deletes are deletes, and a
        # claim carries its own id (see `claim`).
        self.api = AwsJsonClient(
            "dynamodb",
            region,
            target=TARGET,
            content_type="application/x-amz-json-1.0",
            endpoint=endpoint,
            credentials=credentials,
            what="the sign-in table",
        )

    @property
    def calls(self) -> int:
        return self.api.calls

    def _ok(self, operation: str, payload: dict[str, Any], conflict: bool = False) -> dict[str, Any] | None:
        """The answer, or None for a failed condition when `conflict` allows one."""
        try:
            status, answer = self.api.call(operation, {"TableName": self.table, **payload})
        except AwsError as exc:
            raise StoreError(str(exc)) from None
        if status == 200:
            return answer
        kind = self.api.error_type(answer)
        if conflict and kind == CONFLICT:
            return None
        raise StoreError(f"the sign-in table refused {operation}: HTTP {status} {kind}")

    def _fresh(self, item: dict[str, Any] | None) -> Item | None:
        if not item:
            return None
        expires = int(item.get("expires", {}).get("N", "0"))
        if expires and expires <= self.clock():
            return None  # DynamoDB deletes expired items within days, not at once
        value: Item = json.loads(item["data"]["S"])
        return value

    def put(self, key: str, item: Item, expires: int, *, new: bool = True) -> bool:
        payload: dict[str, Any] = {
            "Item": {
                "pk": {"S": key},
                "data": {"S": json.dumps(item)},
                "expires": {"N": str(expires)},
                "used": {"BOOL": False},
            }
        }
        if new:  # absent, or expired (DynamoDB deletes expired items within days, not at once)
            payload |= {
                "ConditionExpression": "attribute_not_exists(#k) OR (#e <> :never AND #e <= :now)",
                "ExpressionAttributeNames": {"#k": "pk", "#e": "expires"},
                "ExpressionAttributeValues": {":never": {"N": "0"}, ":now": {"N": str(int(self.clock()))}},
            }
        return self._ok("PutItem", payload, conflict=new) is not None

    def put_if(self, key: str, item: Item, expires: int, *, version: int) -> bool:
        """The item, if it still is at `version` (its `version` then one more): one conditional write,
        so of two instances that read the same version, one writes and the other learns it lost."""
        condition = "#v = :expected" if version else "(attribute_not_exists(#v) OR #v = :expected)"
        payload: dict[str, Any] = {
            "Item": {
                "pk": {"S": key},
                "data": {"S": json.dumps({**item, "version": version + 1})},
                "expires": {"N": str(expires)},
                "used": {"BOOL": False},
                "version": {"N": str(version + 1)},
            },
            "ConditionExpression": f"attribute_exists(#k) AND {condition}",
            "ExpressionAttributeNames": {"#k": "pk", "#v": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(version)}},
        }
        return self._ok("PutItem", payload, conflict=True) is not None

    def get(self, key: str) -> Item | None:
        answer = self._ok("GetItem", {"Key": {"pk": {"S": key}}, "ConsistentRead": True})
        return self._fresh((answer or {}).get("Item"))

    def claim(self, key: str) -> tuple[Item | None, bool]:
        answer = self._ok(
            "UpdateItem",
            {
                "Key": {"pk": {"S": key}},
                # Names, not words: USED and others are reserved in DynamoDB's expressions. The
                # claim's own id makes it idempotent: the same request sent again (its answer lost
                # on the way) finds its own mark and succeeds, instead of reading as a reuse.
                "UpdateExpression": "SET #u = :yes, #by = :me",
                "ConditionExpression": (
                    "attribute_exists(#k) AND (#u = :no OR #by = :me) AND (#e = :never OR #e > :now)"
                ),
                "ExpressionAttributeNames": {"#k": "pk", "#u": "used", "#by": "claimed_by", "#e": "expires"},
                "ExpressionAttributeValues": {
                    ":yes": {"BOOL": True},
                    ":no": {"BOOL": False},
                    ":me": {"S": secrets.token_hex(16)},
                    ":never": {"N": "0"},
                    ":now": {"N": str(int(self.clock()))},
                },
                "ReturnValues": "ALL_NEW",
            },
            conflict=True,
        )
        if answer is not None:
            return self._fresh(answer.get("Attributes")), True
        return self.get(key), False  # already used (or expired, or never issued)

    def count(self, key: str, limit: int, expires: int) -> int | None:
        """One more on the counter at `key`, if it is below `limit`: the count with this one, else
        None. One conditional update (no read first), so two instances at the limit serve one call
        between them, not two. The item expires with its period, by TTL."""
        answer = self._ok(
            "UpdateItem",
            {
                "Key": {"pk": {"S": key}},
                "UpdateExpression": "ADD #n :one SET #e = :expires",
                "ConditionExpression": "attribute_not_exists(#n) OR #n < :limit",
                "ExpressionAttributeNames": {"#n": "calls", "#e": "expires"},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(expires)},
                },
                "ReturnValues": "UPDATED_NEW",
            },
            conflict=True,
        )
        return None if answer is None else int(answer["Attributes"]["calls"]["N"])

    def delete(self, key: str) -> None:
        self._ok("DeleteItem", {"Key": {"pk": {"S": key}}})


def from_environment() -> MemoryStore | DynamoStore:
    """AUTH_TABLE names the deployed table; without it (local mode) state lives in memory."""
    table = os.environ.get("AUTH_TABLE", "")
    if not table:
        return MemoryStore()
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return DynamoStore(table, region, os.environ.get("AUTH_TABLE_ENDPOINT") or None)
