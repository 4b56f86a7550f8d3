"""A person's GitHub tokens, sealed with the stack's own KMS key before they reach the table.

With private repositories on, a grant's GitHub tokens read private code: a table export, a backup
or a read of the table alone must yield none of them. So they are stored as KMS ciphertext, and
only the function's role may ask KMS to open it (infra/token_key.py). The grant's hash is the
encryption context: a ciphertext copied into another grant does not open there.

Locally, without a key (`TOKEN_KEY_ID` unset) and with state in memory, nothing is at rest and
the tokens are kept as they are; with a table and no key, sign-in refuses to start.
"""

from __future__ import annotations

import base64
import json
import os

from signin.aws_json import AwsError, AwsJsonClient
from signin.store import StoreError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from signin.sigv4 import Credentials


class SealError(StoreError):
    """KMS did not seal or open a grant's tokens (unreachable, throttled, refused): like the
    table's failures, a moment's unavailability of sign-in's state, answered 503 with Retry-After."""


class KmsSealer:
    """Encrypt and Decrypt with one KMS key: two calls, each in the grant's encryption context."""

    def __init__(
        self, key_id: str, region: str, endpoint: str | None = None, credentials: Credentials | None = None
    ) -> None:
        self.key_id = key_id
        self.api = AwsJsonClient(
            "kms",
            region,
            target="TrentService.",
            content_type="application/x-amz-json-1.1",
            endpoint=endpoint,
            credentials=credentials,
            what="the token key (KMS)",
        )

    def seal(self, grant: str, secrets: dict[str, Any]) -> str:
        plain = base64.b64encode(json.dumps(secrets).encode()).decode()
        payload = {"KeyId": self.key_id, "Plaintext": plain, "EncryptionContext": {"grant": grant}}
        return str(self._call("Encrypt", payload)["CiphertextBlob"])

    def open(self, grant: str, sealed: str) -> dict[str, Any]:
        payload = {"KeyId": self.key_id, "CiphertextBlob": sealed, "EncryptionContext": {"grant": grant}}
        opened: dict[str, Any] = json.loads(base64.b64decode(self._call("Decrypt", payload)["Plaintext"]))
        return opened

    def _call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            status, answer = self.api.call(operation, payload)
        except AwsError as exc:
            raise SealError(str(exc)) from None
        if status != 200:
            raise SealError(f"the token key refused {operation}: HTTP {status} {self.api.error_type(answer)}")
        return answer


class Unsealed:
    """Local mode with state in memory: nothing is at rest, so nothing is sealed."""

    def seal(self, grant: str, secrets: dict[str, Any]) -> str:
        return json.dumps(secrets)

    def open(self, grant: str, sealed: str) -> dict[str, Any]:
        opened: dict[str, Any] = json.loads(sealed)
        return opened


def from_environment() -> KmsSealer | Unsealed:
    """TOKEN_KEY_ID: the stack's key. Without it, only a store in memory may hold tokens."""
    env = os.environ
    key = env.get("TOKEN_KEY_ID", "")
    if key:
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        return KmsSealer(key, region, env.get("TOKEN_KEY_ENDPOINT") or None)
    if env.get("AUTH_TABLE"):
        raise RuntimeError("PRIVATE_REPOSITORIES needs TOKEN_KEY_ID: GitHub tokens are never kept in a table in clear")
    return Unsealed()
