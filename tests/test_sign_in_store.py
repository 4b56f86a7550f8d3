"""Sign-in's state: the DynamoDB store against a real DynamoDB API (moto in server mode, on
127.0.0.1), its SigV4 signer against botocore's, and the gate's expiry and warm memory."""

from __future__ import annotations

import calendar
import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st
from search.github_api import GitHubClient
from signin.gate import Gate, Refusal
from signin.server import ACCESS_TTL, AuthorizationServer, Settings
from signin.sigv4 import Credentials, sign
from signin.store import DynamoStore, MemoryStore, StoreError, token_hash

from tests.conftest import free_port
from tests.moto_aws import REGION, client, moto_server, sign_in_table
from tools.fake_github import FakeGitHub

WEB = "https://github.com"
UNUSED = GitHubClient("http://127.0.0.1:1")  # issuing tokens asks GitHub nothing
KEYS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-example")


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[str]:
    with moto_server() as endpoint:
        sign_in_table(endpoint, "sign-in")
        yield endpoint


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def dynamo(endpoint: str, clock: Clock | None = None) -> DynamoStore:
    return DynamoStore("sign-in", REGION, endpoint, KEYS, clock or Clock())


# -- the signer -----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=300), target=st.sampled_from(["PutItem", "GetItem", "UpdateItem"]), token=st.booleans())
def test_the_signer_signs_as_botocore_does(body: bytes, target: str, token: bool):
    keys = KEYS if token else Credentials(KEYS.access_key, KEYS.secret_key)
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{target}"}
    request = AWSRequest("POST", f"https://dynamodb.{REGION}.amazonaws.com/", data=body, headers=dict(headers))
    SigV4Auth(BotoCredentials(keys.access_key, keys.secret_key, keys.token), "dynamodb", REGION).add_auth(request)
    # botocore signs at its own clock's second: ours signs at the same one.
    now = calendar.timegm(time.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    ours = sign(
        f"dynamodb.{REGION}.amazonaws.com",
        "/",
        headers,
        body,
        region=REGION,
        service="dynamodb",
        credentials=keys,
        now=now,
    )
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")


def test_credentials_never_show_their_secret():
    assert KEYS.secret_key not in repr(KEYS) and str(KEYS.token) not in repr(KEYS)


# -- the DynamoDB store ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "dynamodb"])
def test_both_stores_keep_expire_claim_and_delete_alike(kind: str, dynamodb: str):
    clock = Clock()
    store = MemoryStore(clock) if kind == "memory" else dynamo(dynamodb, clock)
    key = f"test#{kind}"
    assert store.put(key, {"a": 1}, int(clock.now) + 60)
    assert not store.put(key, {"a": 2}, int(clock.now) + 60)  # conditional: the first writer wins
    assert store.get(key) == {"a": 1}
    assert store.claim(key) == ({"a": 1}, True)
    assert store.claim(key) == ({"a": 1}, False)  # used: the caller learns it was reused
    store.put(key, {"a": 3}, int(clock.now) + 60, new=False)
    assert store.get(key) == {"a": 3}
    clock.now += 61
    assert store.get(key) is None and store.claim(key) == (None, False)  # expired, even before TTL deletes it
    assert store.put(key, {"a": 4}, 0) and store.get(key) == {"a": 4}  # 0: never expires
    store.delete(key)
    assert store.get(key) is None and store.claim("test#never-issued") == (None, False)


def test_two_instances_cannot_both_redeem_one_code(dynamodb: str):
    """Each redemption is one conditional write, so whichever instance's write DynamoDB applies
    first wins and every other is refused. The attempts alternate between two instances rather
    than race in threads: moto applies two simultaneous conditional writes without DynamoDB's
    per-item atomicity, which is AWS's guarantee to rely on, not something to emulate here."""
    first, second = dynamo(dynamodb), dynamo(dynamodb)  # two warm functions, two connections
    first.put("code#race", {"grant": "g"}, 0)
    wins = [(first if n % 2 else second).claim("code#race")[1] for n in range(8)]
    assert wins == [True] + [False] * 7


def test_the_store_says_what_went_wrong(dynamodb: str):
    missing = DynamoStore("no-such-table", REGION, dynamodb, KEYS)
    with pytest.raises(StoreError, match="ResourceNotFoundException"):
        missing.get("x")
    unreachable = DynamoStore("sign-in", REGION, f"http://127.0.0.1:{free_port()}", KEYS)
    with pytest.raises(StoreError, match="did not answer"):
        unreachable.get("x")


def test_tokens_are_stored_as_hashes_only(dynamodb: str):
    store = dynamo(dynamodb)
    server = AuthorizationServer(Settings("https://search.example", "app", "secret", web=WEB), store, UNUSED)
    store.put("grant#g1", {"login": "octocat", "github_token": "gho_user", "client_id": "c"}, 0)
    issued = json.loads(server._issue("g1", {"client_id": "c"}, "search")["body"])
    dump = str(client("dynamodb", dynamodb).scan(TableName="sign-in")["Items"])
    for kind in ("access", "refresh"):
        value = issued[f"{kind}_token"]
        assert value[4:] not in dump and token_hash(kind, value) in dump


# -- the gate -------------------------------------------------------------------------------------


def _issued(clock: Clock) -> tuple[MemoryStore, Gate, str]:
    store = MemoryStore(clock)
    server = AuthorizationServer(Settings("https://s.example", "app", "secret", web=WEB), store, UNUSED, clock=clock)
    store.put("grant#g", {"login": "octocat", "github_token": "gho_x", "client_id": "c"}, 0)
    access = json.loads(server._issue("g", {"client_id": "c"}, "search")["body"])["access_token"]
    return store, Gate(store, "https://s.example/mcp", clock), access


def test_an_expired_access_token_is_refused(fake: FakeGitHub):
    clock = Clock()
    _, gate, access = _issued(clock)
    headers = {"authorization": f"Bearer {access}"}
    assert gate.principal(headers).login == "octocat"
    clock.now += ACCESS_TTL - 1
    assert gate.principal(headers).login == "octocat"
    clock.now += 2
    with pytest.raises(Refusal) as refused:
        gate.principal(headers)
    assert refused.value.status == 401 and refused.value.error == "invalid_token"


def test_a_token_checked_in_the_last_minute_costs_no_store_call():
    clock = Clock()
    store, gate, access = _issued(clock)
    headers = {"authorization": f"Bearer {access}"}
    gate.principal(headers)
    calls = store.calls
    for _ in range(100):
        clock.now += 0.5
        gate.principal(headers)
    assert store.calls == calls
    clock.now += 11  # past the minute: checked again
    gate.principal(headers)
    assert store.calls == calls + 2  # the token and its grant


def test_a_token_for_another_resource_is_refused():
    clock = Clock()
    store, _, access = _issued(clock)
    with pytest.raises(Refusal, match="another resource"):
        Gate(store, "https://other.example/mcp", clock).principal({"authorization": f"Bearer {access}"})


def test_a_claim_sent_again_with_its_own_id_is_the_same_claim(dynamodb: str, monkeypatch: pytest.MonkeyPatch):
    """The retry of a claim whose answer was lost must not read as a reuse (which revokes the grant)."""
    import secrets

    store = dynamo(dynamodb)
    store.put("code#retried", {"grant": "g"}, 0)
    monkeypatch.setattr(secrets, "token_hex", lambda n: "one-request")
    assert store.claim("code#retried") == ({"grant": "g"}, True)
    assert store.claim("code#retried") == ({"grant": "g"}, True)  # the same request, sent again
    monkeypatch.setattr(secrets, "token_hex", lambda n: "another-request")
    assert store.claim("code#retried") == ({"grant": "g"}, False)  # someone else: a reuse


class ClosingProxy:
    """In front of DynamoDB: answers each request, then closes the connection without saying so
    (as a server closing idle kept-alive connections does)."""

    def __init__(self, upstream: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                reply = requests.post(upstream, data=body, headers=headers, timeout=10)
                self.send_response(reply.status_code)
                self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def test_a_kept_alive_connection_the_peer_closed_is_replaced(dynamodb: str):
    proxy = ClosingProxy(dynamodb)
    store = DynamoStore("sign-in", REGION, proxy.url, KEYS)
    for n in range(3):  # each call after the first finds its connection closed, and opens another
        assert store.put(f"test#closing-{n}", {"n": n}, 0)
        assert store.get(f"test#closing-{n}") == {"n": n}
    proxy.server.shutdown()
