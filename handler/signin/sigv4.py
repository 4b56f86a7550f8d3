"""AWS Signature Version 4 for one JSON POST (standard library only, so no SDK joins the cold start).

The sign-in store is the only AWS API the function calls; tests/test_sign_in_store.py checks this
signer against botocore's for the same request and clock.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

ALGORITHM = "AWS4-HMAC-SHA256"


class Credentials:
    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None = None) -> None:
        self.access_key, self.secret_key, self.token = access_key, secret_key, token

    def __repr__(self) -> str:  # never the secret, even in a traceback
        return f"Credentials({self.access_key[:4]}...)"

    @classmethod
    def from_environment(cls) -> Credentials:
        """Lambda hands the role's short-lived credentials to the function in its environment."""
        env = os.environ
        try:
            return cls(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN") or None)
        except KeyError as missing:
            raise RuntimeError(f"{missing.args[0]} is not set: the function has no AWS credentials") from None


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(
    host: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    *,
    region: str,
    service: str,
    credentials: Credentials,
    now: float | None = None,
) -> dict[str, str]:
    """`headers` plus X-Amz-Date, the session token and Authorization for `POST https://host/path`."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    day = stamp[:8]
    signed = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    signed |= {"host": host, "x-amz-date": stamp}
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    canonical = "\n".join(
        (
            "POST",
            path,
            "",  # no query string
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{credentials.secret_key}".encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = {**headers, "X-Amz-Date": stamp}
    if credentials.token:
        out["X-Amz-Security-Token"] = credentials.token
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return out
