"""Private repositories through a GitHub App: each person reads their own private repositories and
never anyone else's, their expiring GitHub tokens are renewed without the client noticing (one
instance at a time), and the table holds them only sealed with the stack's key.

Real components: the local server with sign-in and private repositories on, its state in moto's
DynamoDB and its tokens sealed by moto's KMS (both in server mode, over HTTP with SigV4), and the
fake GitHub as a GitHub App installed on `acme` (tools/fake_github_oauth.py).
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from signin import grants
from signin.github_oauth import Tokens
from signin.sealing import KmsSealer, SealError
from signin.sigv4 import Credentials
from signin.store import DynamoStore

from infra.settings import ConfigError, load
from tests.conftest import free_port
from tests.moto_aws import REGION, client, moto_server, sign_in_table
from tests.program import PRIVATE as PRIVATE_CONFIG
from tests.program import Graph, recording, synth
from tests.signin_helpers import APP_SECRET, CALLBACK, GITHUB_APP_ID, register, sign_in, signin_server, tokens
from tools.background import ROOT, LocalServer
from tools.fake_github import Answer, FakeGitHub
from tools.signin_browser import Browser

TABLE = "sign-in-private"  # moto keeps one backend per process: not test_sign_in_store.py's table
KEYS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
# acme installed the app; alice reads alpha, bob reads beta; nobody's app is on other/.
PRIVATE = {"acme/alpha": {"alice"}, "acme/beta": {"bob"}, "other/gamma": {"alice", "bob"}}


class Aws:
    def __init__(self, endpoint: str, key_arn: str) -> None:
        self.endpoint, self.key_arn = endpoint, key_arn

    def client(self, service: str) -> Any:
        return client(service, self.endpoint)

    def store(self) -> DynamoStore:
        return DynamoStore(TABLE, REGION, self.endpoint, KEYS)

    def sealer(self) -> KmsSealer:
        return KmsSealer(self.key_arn, REGION, self.endpoint, KEYS)

    def items(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.client("dynamodb").scan(TableName=TABLE)["Items"]
        return found


@pytest.fixture(scope="module")
def aws() -> Iterator[Aws]:
    with moto_server() as endpoint:
        sign_in_table(endpoint, TABLE)
        yield Aws(endpoint, client("kms", endpoint).create_key(Description="token key")["KeyMetadata"]["Arn"])


@pytest.fixture
def world(fake: FakeGitHub) -> FakeGitHub:
    """The fake GitHub as a GitHub App with expiring tokens, installed on acme."""
    fake.oauth.expiring = True
    fake.oauth.installed = {"acme"}
    fake.oauth.private = {name: set(readers) for name, readers in PRIVATE.items()}
    return fake


@pytest.fixture(scope="module")
def server(fake_server: FakeGitHub, aws: Aws) -> Iterator[LocalServer]:
    running = signin_server(
        fake_server,
        "http://127.0.0.1:1",
        ("--private",),
        AUTH_TABLE=TABLE,
        AUTH_TABLE_ENDPOINT=aws.endpoint,
        TOKEN_KEY_ID=aws.key_arn,
        TOKEN_KEY_ENDPOINT=aws.endpoint,
        AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID=KEYS.access_key,
        AWS_SECRET_ACCESS_KEY=KEYS.secret_key,
    )
    yield running
    running.stop()


def signed_in(server: LocalServer, fake: FakeGitHub, login: str) -> str:
    """`login` signs in through the fake GitHub App: the stack's access token."""
    fake.oauth.login = login
    access: str = tokens(server.base, fake)["access_token"]
    return access


def get(server: LocalServer, token: str, path: str, **params: str) -> requests.Response:
    return requests.get(server.base + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=15)


def call(server: LocalServer, token: str, tool: str, **arguments: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    reply = requests.post(
        server.base + "/mcp",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
        timeout=15,
    )
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()["result"]
    return result


def names(answer: dict[str, Any]) -> set[str]:
    """Every repository an answer names."""
    text = json.dumps(answer)
    return {name for name in PRIVATE if name in text}


# -- each person sees their own ------------------------------------------------------------------


REST_READS = [
    "/api/repos/{name}",
    "/api/repos/{name}/contents/README.md",
]
MCP_READS = [
    ("get_repository", lambda owner, repo: {"owner": owner, "repo": repo}),
    ("get_file", lambda owner, repo: {"owner": owner, "repo": repo, "path": "src/app.py"}),
    ("fetch", lambda owner, repo: {"id": f"{owner}/{repo}#7"}),
    ("fetch", lambda owner, repo: {"id": f"{owner}/{repo}"}),
]


def test_each_person_reads_their_private_repositories_and_nobody_else_does(server: LocalServer, world: FakeGitHub):
    alice, bob = signed_in(server, world, "alice"), signed_in(server, world, "bob")
    for path in REST_READS:
        assert get(server, alice, path.format(name="acme/alpha")).status_code == 200
        assert get(server, bob, path.format(name="acme/beta")).status_code == 200
        for token, hidden in ((alice, "acme/beta"), (bob, "acme/alpha"), (alice, "other/gamma")):
            refused = get(server, token, path.format(name=hidden))
            # 404, as for a repository that does not exist: never a hint that it does.
            assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found", path
    for tool, arguments in MCP_READS:
        assert call(server, alice, tool, **arguments("acme", "alpha"))["isError"] is False, tool
        assert call(server, bob, tool, **arguments("acme", "alpha"))["isError"] is True, tool
    # The connectors' search: ids to fetch, each person's own.
    for token, own in ((alice, "acme/alpha"), (bob, "acme/beta")):
        found = call(server, token, "search", query="plans")["structuredContent"]["results"]
        assert {r["id"] for r in found} & set(PRIVATE) == {own}
    # Marked as private wherever a repository shows (the MCP App's view puts a badge on them).
    repos = call(server, alice, "search_repositories", query="plans")["structuredContent"]["repos"]
    assert {r["full_name"] for r in repos if r["private"]} == {"acme/alpha"} and not all(r["private"] for r in repos)
    assert call(server, alice, "get_repository", owner="acme", repo="alpha")["structuredContent"]["private"] is True


@pytest.mark.parametrize(
    ("path", "tool"),
    [
        ("/api/search", "search_repositories"),
        ("/api/search/code", "search_code"),
        ("/api/search/issues", "search_issues"),
    ],
)
def test_the_same_search_by_two_people_in_a_row_answers_each_their_own(
    server: LocalServer, world: FakeGitHub, path: str, tool: str
):
    alice, bob = signed_in(server, world, "alice"), signed_in(server, world, "bob")
    first = get(server, alice, path, q="plans in a row", limit="20")
    second = get(server, bob, path, q="plans in a row", limit="20")
    assert first.status_code == second.status_code == 200
    assert names(first.json()) == {"acme/alpha"} and names(second.json()) == {"acme/beta"}
    assert first.headers["X-Search-Cache"] == second.headers["X-Search-Cache"] == "MISS"
    assert first.headers["Cache-Control"] == "private, no-store"
    # And again: each from the function's cache, revalidated with GitHub as that person, each their own.
    again = get(server, bob, path, q="plans in a row", limit="20")
    assert again.headers["X-Search-Cache"] == "REVALIDATED" and names(again.json()) == {"acme/beta"}
    assert names(call(server, alice, tool, query="plans in a row", limit=20)["structuredContent"]) == {"acme/alpha"}


def test_when_github_fails_nobody_is_served_another_persons_answer(server: LocalServer, world: FakeGitHub):
    """A failing GitHub makes the function serve the last good public answer (STALE); a person's
    own is never served stale (GitHub could not say whether they may still read it), and never
    the one another person's token fetched for the same request."""
    alice, bob = signed_in(server, world, "alice"), signed_in(server, world, "bob")
    assert names(get(server, alice, "/api/search/issues", q="stale plans", limit="20").json()) == {"acme/alpha"}
    world.queue(Answer(500, {"message": "Server Error"}), Answer(500, {"message": "Server Error"}))
    failed = get(server, bob, "/api/search/issues", q="stale plans", limit="20")
    assert failed.status_code == 502 and names(failed.json()) == set()
    own = get(server, alice, "/api/search/issues", q="stale plans", limit="20")
    assert own.status_code == 502 and names(own.json()) == set()


RATE_LIMITED = Answer(403, {"message": "API rate limit exceeded"}, {"x-ratelimit-remaining": "0"})


@pytest.mark.parametrize("failing", [RATE_LIMITED, Answer(502, {"message": "Server Error"})], ids=["403", "5xx"])
def test_lost_access_never_comes_back_from_a_stale_copy(server: LocalServer, world: FakeGitHub, failing: Answer):
    """alice read a private file and its code; she lost access (taken off the repository); GitHub
    said not found. Then GitHub failed (a rate limit she can spend on purpose, an outage): her old
    copy must not come back as STALE, for a read or a search."""
    alice = signed_in(server, world, "alice")
    file_path, q = "/api/repos/acme/alpha/contents/README.md", "plans lost access"
    assert get(server, alice, file_path).status_code == 200
    assert names(get(server, alice, "/api/search/code", q=q, limit="20").json()) == {"acme/alpha"}
    world.oauth.private["acme/alpha"] = set()  # taken off the repository
    assert get(server, alice, file_path).status_code == 404
    world.queue(failing, failing)
    again = get(server, alice, file_path)
    searched = get(server, alice, "/api/search/code", q=q, limit="20")
    for answer in (again, searched):
        assert answer.status_code in (429, 502) and answer.headers.get("X-Search-Cache") != "STALE", answer.text
        assert names(answer.json()) == set()


def test_an_uninstalled_app_reads_no_private_repository_of_that_owner(server: LocalServer, world: FakeGitHub):
    alice = signed_in(server, world, "alice")
    assert get(server, alice, "/api/repos/acme/alpha").status_code == 200
    world.oauth.uninstall("acme")
    assert get(server, alice, "/api/repos/acme/alpha/contents/README.md").status_code == 404
    assert names(get(server, alice, "/api/search", q="plans", limit="20").json()) == set()


# -- at rest ---------------------------------------------------------------------------------------


def test_the_table_never_holds_a_github_token_in_clear(server: LocalServer, world: FakeGitHub, aws: Aws):
    alice = signed_in(server, world, "alice")
    assert get(server, alice, "/api/repos/acme/alpha").status_code == 200
    issued = [t for t in world.oauth.tokens if t.startswith("ghu_")] + list(world.oauth.refresh_tokens)
    dump = json.dumps(aws.items())
    assert issued and not any(token in dump for token in issued)
    assert "ghu_" not in dump and "ghr_" not in dump
    grants_kept = [json.loads(i["data"]["S"]) for i in aws.items() if i["pk"]["S"].startswith("grant#")]
    assert grants_kept and all("sealed" in g and "github_token" not in g for g in grants_kept)
    # Sealed in its grant's context: a ciphertext moved to another grant does not open there.
    kms = aws.client("kms")
    grant_id = next(i["pk"]["S"][len("grant#") :] for i in aws.items() if i["pk"]["S"].startswith("grant#"))
    sealed = next(json.loads(i["data"]["S"])["sealed"] for i in aws.items() if i["pk"]["S"] == f"grant#{grant_id}")
    blob = __import__("base64").b64decode(sealed)
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"grant": "another-grant"})
    assert json.loads(kms.decrypt(CiphertextBlob=blob, EncryptionContext={"grant": grant_id})["Plaintext"])["token"]


def test_the_sealer_opens_only_in_the_grant_it_sealed_for(aws: Aws):
    sealer = aws.sealer()
    sealed = sealer.seal("grant-1", {"token": "ghu_secret", "refresh": "ghr_secret"})
    assert "ghu_secret" not in sealed and sealer.open("grant-1", sealed)["token"] == "ghu_secret"
    with pytest.raises(SealError, match="refused Decrypt"):
        sealer.open("grant-2", sealed)


# -- renewal ---------------------------------------------------------------------------------------


def test_an_expired_github_token_is_renewed_without_the_client_noticing(server: LocalServer, world: FakeGitHub):
    alice = signed_in(server, world, "alice")
    assert get(server, alice, "/api/repos/acme/alpha").status_code == 200
    world.oauth.skew += 8 * 3600 + 60  # GitHub's 8 hours pass
    renewed = get(server, alice, "/api/repos/acme/alpha/contents/README.md")
    assert renewed.status_code == 200, renewed.text
    assert world.oauth.refreshes == 1
    assert call(server, alice, "search_code", query="plans")["isError"] is False
    assert world.oauth.refreshes == 1  # the renewed pair is used from then on


def test_a_revoked_app_ends_the_grant_and_the_client_is_asked_to_sign_in(server: LocalServer, world: FakeGitHub):
    alice = signed_in(server, world, "alice")
    assert get(server, alice, "/api/search", q="plans").status_code == 200
    world.oauth.revoke("alice")
    refused = get(server, alice, "/api/repos/acme/alpha")
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert get(server, alice, "/api/search", q="plans").status_code == 401  # the grant is gone


def grant_of(store: DynamoStore, sealer: KmsSealer, fake: FakeGitHub, login: str) -> tuple[str, dict[str, Any]]:
    """A grant as a sign-in leaves it, with a GitHub App token pair from the fake."""
    answer = fake.oauth.pair(login)
    pair = Tokens.from_answer(answer, fake.oauth.now())
    grant = f"test-{login}-{free_port()}"
    record = grants.record({"login": login, "user_id": 7, "client_id": "c"}, pair, sealer, grant)
    assert store.put(f"grant#{grant}", record, int(fake.oauth.now()) + 3600)
    return grant, record


def test_two_instances_renewing_one_grant_at_once_keep_it(world: FakeGitHub, aws: Aws):
    sealer = aws.sealer()
    grant, record = grant_of(aws.store(), sealer, world, "alice")
    app = grants.App(world.url, GITHUB_APP_ID, APP_SECRET)
    results: list[Any] = []
    start = threading.Barrier(2)

    def instance() -> None:
        renewal = grants.Renewal(aws.store(), aws.sealer(), app, sleep=lambda _: None)  # its own connection
        start.wait()
        try:
            results.append(renewal.renew(grant, refused=record["sealed"])[1].token)
        except (grants.Ended, grants.Busy) as exc:
            results.append(exc)

    threads = [threading.Thread(target=instance) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert world.oauth.refreshes == 1  # GitHub traded the refresh token once
    assert len(results) == 2 and results[0] == results[1] and str(results[0]).startswith("ghu_"), results
    kept = aws.store().get(f"grant#{grant}")
    assert kept is not None and kept["lease_until"] == 0
    assert grants.github(kept, sealer, grant).token == results[0]
    assert world.oauth.user_of({"authorization": f"Bearer {results[0]}"}) == "alice"


def test_a_renewal_github_does_not_answer_keeps_the_grant_as_it_was(world: FakeGitHub, aws: Aws):
    sealer = aws.sealer()
    store = aws.store()
    grant, record = grant_of(store, sealer, world, "alice")
    unreachable = grants.App(f"http://127.0.0.1:{free_port()}", GITHUB_APP_ID, APP_SECRET)
    with pytest.raises(grants.Busy, match="could not be reached"):
        grants.Renewal(store, sealer, unreachable).renew(grant, refused=record["sealed"])
    kept = store.get(f"grant#{grant}")
    assert kept is not None and kept["sealed"] == record["sealed"] and kept["lease_until"] == 0
    # GitHub back: the same refresh token still works.
    app = grants.App(world.url, GITHUB_APP_ID, APP_SECRET)
    _, renewed = grants.Renewal(store, sealer, app).renew(grant, refused=record["sealed"])
    assert renewed.token.startswith("ghu_") and world.oauth.refreshes == 1


def test_the_clients_own_refresh_during_a_renewal_does_not_lose_the_renewed_pair(world: FakeGitHub, aws: Aws):
    """GitHub refused a token the function did not think due; while it renewed (GitHub's refresh
    slowed to 2 s, the old refresh token already spent), the client's /token refresh moved the
    grant's version. The renewal's write failed on the old version and the new pair was lost:
    502, then 401 and the grant deleted 31 s later. The pair is written at the version now there."""
    grant, record = grant_of(aws.store(), aws.sealer(), world, "alice")
    world.oauth.refresh_delay = 2.0
    app = grants.App(world.url, GITHUB_APP_ID, APP_SECRET)
    renewed: list[Any] = []

    def renewing() -> None:
        try:
            renewed.append(grants.Renewal(aws.store(), aws.sealer(), app).renew(grant, refused=record["sealed"])[1])
        except (grants.Ended, grants.Busy) as exc:
            renewed.append(exc)

    thread = threading.Thread(target=renewing)
    thread.start()
    store = aws.store()
    while not (store.get(f"grant#{grant}") or {}).get("lease_until"):  # the renewal holds its lease
        pass
    assert grants.extend(store, grant, world.oauth.now()) is not None  # the client's refresh, meanwhile
    thread.join()
    assert world.oauth.refreshes == 1 and isinstance(renewed[0], Tokens), renewed
    kept = store.get(f"grant#{grant}")
    assert kept is not None and grants.github(kept, aws.sealer(), grant).token == renewed[0].token
    assert world.oauth.user_of({"authorization": f"Bearer {renewed[0].token}"}) == "alice"


class Flaky:
    """The stack's key, refusing Encrypt `failures` times (throttled, unreachable) and then not."""

    def __init__(self, sealer: KmsSealer, failures: int) -> None:
        self.sealer, self.failures = sealer, failures

    def seal(self, grant: str, secrets: dict[str, Any]) -> str:
        if self.failures:
            self.failures -= 1
            raise SealError("the token key refused Encrypt: HTTP 400 ThrottlingException")
        return self.sealer.seal(grant, secrets)

    def open(self, grant: str, sealed: str) -> dict[str, Any]:
        return self.sealer.open(grant, sealed)


def test_a_token_key_that_will_not_seal_the_renewed_pair_does_not_lose_it(world: FakeGitHub, aws: Aws):
    """KMS refusing Encrypt after GitHub renewed: tried again; still refusing, the pair stays with
    the instance (503 to retry) and is written on the grant's next request, with no second refresh."""
    store = aws.store()
    grant, record = grant_of(store, aws.sealer(), world, "alice")
    app = grants.App(world.url, GITHUB_APP_ID, APP_SECRET)
    blip = grants.Renewal(store, Flaky(aws.sealer(), 2), app, sleep=lambda _: None)  # type: ignore[arg-type]
    _, renewed = blip.renew(grant, refused=record["sealed"])
    assert world.oauth.refreshes == 1 and renewed.token.startswith("ghu_")
    down = Flaky(aws.sealer(), 10)
    outage = grants.Renewal(store, down, app, sleep=lambda _: None)  # type: ignore[arg-type]
    kept = store.get(f"grant#{grant}")
    assert kept is not None
    with pytest.raises(SealError, match="kept, try again"):
        outage.renew(grant, refused=kept["sealed"])
    assert world.oauth.refreshes == 2
    down.failures = 0  # the key answers again
    _, after = outage.renew(grant, refused=None)
    assert world.oauth.refreshes == 2  # not refreshed again: the kept pair was written
    stored = store.get(f"grant#{grant}")
    assert stored is not None and grants.github(stored, aws.sealer(), grant).token == after.token
    assert world.oauth.user_of({"authorization": f"Bearer {after.token}"}) == "alice"


def test_a_token_about_to_expire_is_renewed_before_it_is_used(world: FakeGitHub, aws: Aws):
    sealer, store = aws.sealer(), aws.store()
    grant, _ = grant_of(store, sealer, world, "alice")
    app = grants.App(world.url, GITHUB_APP_ID, APP_SECRET)
    later = world.oauth.now() + 8 * 3600 - grants.RENEW_MARGIN_SECONDS + 1
    _, same = grants.Renewal(store, sealer, app, clock=world.oauth.now).renew(grant, refused=None)
    assert world.oauth.refreshes == 0  # not due: nothing asked of GitHub
    _, renewed = grants.Renewal(store, sealer, app, clock=lambda: later).renew(grant, refused=None)
    assert renewed.token != same.token and world.oauth.refreshes == 1


# -- the stack -----------------------------------------------------------------------------------


def test_the_stack_seals_with_its_own_key_that_only_the_function_uses():
    graph = Graph(recording("private"))
    key = graph.inputs("aws:kms/key:Key", "search-token-key")
    assert key["enableKeyRotation"] is True and key["deletionWindowInDays"] == 30
    policy = json.loads(key["policy"])
    account, function = policy["Statement"]
    assert account["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert not {"kms:*", "kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:ReEncrypt*"} & set(account["Action"])
    outputs = graph.rec["providerOutputs"]
    assert function["Principal"] == {"AWS": outputs["search-function-role"]["arn"]}  # the function's role alone
    assert function["Action"] == ["kms:Encrypt", "kms:Decrypt"]
    assert function["Condition"] == {"Null": {"kms:EncryptionContext:grant": "false"}}
    variables = graph.inputs("aws:lambda/function:Function", "search-function")["environment"]["variables"]
    key_arn = outputs["search-token-key"]["arn"]
    assert variables["PRIVATE_REPOSITORIES"] == "true" and variables["TOKEN_KEY_ID"] == key_arn
    use = json.loads(graph.inputs("aws:iam/rolePolicy:RolePolicy", "search-function-token-key")["policy"])
    assert use["Statement"] == [{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": key_arn}]


def test_with_deletion_protection_the_key_is_kept_with_the_table():
    """The table refuses to be deleted; the key must not be scheduled for deletion beside it, or the
    kept table's tokens could never be opened 30 days later. Pulumi's protect stops the destroy."""
    protected = Graph(recording("private"))  # prod: deletionProtection true
    token, audit = (protected.one("aws:kms/key:Key", f"search-{n}-key") for n in ("token", "audit"))
    assert token["protect"] is True and audit["protect"] is True  # and the audit trail's: kept with it
    assert protected.inputs("aws:dynamodb/table:Table")["deletionProtectionEnabled"] is True
    assert token["createTimeout"] == "10m"  # IAM may lag the new role
    unprotected = Graph(synth("dev", PRIVATE_CONFIG, (("githubOAuthClientSecret", "s"),))["raw"])
    assert not any("protect" in key for key in unprotected.all("aws:kms/key:Key"))


def test_private_repositories_need_sign_in_with_a_github_app():
    secret = frozenset({"githubOAuthClientSecret"})
    app = {"auth": "github", "githubOAuthClientSecret": "s", "privateRepositories": "true"}
    with pytest.raises(ConfigError, match=r"'privateRepositories'.*needs sign-in"):
        load({"privateRepositories": "true"})
    with pytest.raises(ConfigError, match=r"'githubOAuthClientId'.*OAuth App's client ID"):
        load({**app, "githubOAuthClientId": "Ov23liABCDEFGHIJKLMN"}, secret)
    assert load({**app, "githubOAuthClientId": "Iv23liABCDEFGHIJKLMN"}, secret).private_repositories


# -- a GitHub App without privateRepositories (the second review) -------------------------------


def test_a_github_app_without_private_repositories_is_refused_at_preview_and_start(
    function_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch
):
    """Its people's tokens read private repositories where it is installed, and without
    privateRepositories their answers would share one cache: bob would be served octocat's."""
    import app
    from signin import door

    secret = frozenset({"githubOAuthClientSecret"})
    app_config = {"auth": "github", "githubOAuthClientId": GITHUB_APP_ID, "githubOAuthClientSecret": "s"}
    with pytest.raises(ConfigError, match=r"'githubOAuthClientId'.*GitHub App's client ID") as refused:
        load(app_config, secret)
    assert "pulumi config set privateRepositories true" in str(refused.value)
    for name, value in {"AUTH": "github", "PUBLIC_URL": "https://search.example"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_ID", GITHUB_APP_ID)
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_SECRET", APP_SECRET)
    door.reset()
    searched = app.handler({"resource": "/mcp", "httpMethod": "POST", "headers": {"Authorization": "Bearer gsa_x"}})
    discovery = app.handler({"resource": "/.well-known/oauth-authorization-server", "httpMethod": "GET"})
    door.reset()
    for answer in (searched, discovery):
        assert answer["statusCode"] == 500 and "privateRepositories" in answer["body"], answer
    started = subprocess.run(
        [sys.executable, "-m", "tools.local_server", "--fake-github", "--auth", "--port", "0"],
        check=False,
        cwd=ROOT,
        env={**os.environ, "GITHUB_OAUTH_CLIENT_ID": GITHUB_APP_ID},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert started.returncode == 2 and "privateRepositories" in started.stderr, started
    assert "Traceback" not in started.stderr


def test_a_github_app_that_does_not_look_like_one_shares_nothing(signin: LocalServer, world: FakeGitHub):
    """The review's leak, with an app whose client ID does not say it is a GitHub App (an older
    or an Enterprise one): only the token GitHub hands back tells (`ghu_`). Without privateRepositories
    bob asked for a private repository (not found), octocat asked (200), and bob asked again and was
    served octocat's answer from the cache. The sign-in stops before any of it, and says why."""
    world.oauth.login = "octocat"
    world.oauth.private = {"acme/private-plans": {"octocat"}}
    browser = Browser(CALLBACK)
    with pytest.raises(AssertionError, match=r"HTTP 500.*This service cannot sign you in"):
        sign_in(signin.base, world, register(signin.base)["client_id"], browser)
    said = browser.visits[-1].body
    assert "sets privateRepositories to true" in said and "ghu_" not in said
    assert not [s for s in world.seen if s.path == "/user"]  # nothing was asked with the token


# -- the GitHub App, in one command ----------------------------------------------------------------


def test_make_github_app_creates_a_read_only_app_and_configures_the_stack(fake: FakeGitHub, tmp_path: Path):
    log = tmp_path / "pulumi.log"
    pulumi = tmp_path / "pulumi"
    pulumi.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps([sys.argv[1:], sys.stdin.read()]) + '\\n')\n"
    )
    pulumi.chmod(0o755)
    command = [sys.executable, "-m", "tools.github_app", "https://search.example.com", "--orgs", "--no-browser"]
    command += ["--github", fake.url, "--api", fake.url, "--pulumi", str(pulumi), "--org", "acme"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert run.stdout is not None
    page_url = run.stdout.readline().split()[1]
    page = requests.get(page_url, timeout=10).text
    action = html.unescape(re.search(r'action="([^"]+)"', page)[1])  # type: ignore[index]
    document = html.unescape(re.search(r'name="manifest" value="([^"]+)"', page)[1])  # type: ignore[index]
    assert action.startswith(f"{fake.url}/organizations/acme/settings/apps/new?state=")
    created = requests.post(action, data={"manifest": document}, allow_redirects=False, timeout=10)
    assert requests.get(created.headers["Location"], timeout=10).status_code == 200
    out, err = run.communicate(timeout=30)
    assert run.returncode == 0, err
    [app] = fake.apps.created
    sent = app["manifest"]
    assert sent["default_permissions"] == {
        "metadata": "read",
        "contents": "read",
        "issues": "read",
        "pull_requests": "read",
        "members": "read",
    }
    assert sent["callback_urls"] == ["https://search.example.com/oauth/callback"] and sent["public"] is False
    assert sent["hook_attributes"]["active"] is False
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [args for args, _ in calls] == [
        ["stack", "--show-name"],  # before anything is created on GitHub
        ["config", "set", "auth", "github"],
        ["config", "set", "githubOAuthClientId", app["client_id"]],
        ["config", "set", "privateRepositories", "true"],
        ["config", "set", "--secret", "githubOAuthClientSecret"],
    ]
    assert calls[-1][1] == app["client_secret"] and app["client_secret"] not in out + err + json.dumps(calls[:-1])
    assert "BEGIN RSA PRIVATE KEY" not in out + err and f"{app['html_url']}/installations/new" in out


def github_app(fake: FakeGitHub, pulumi: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`make github-app` against the fake GitHub, the person's part played by `--fake-github`'s
    driver, with `pulumi` as the Pulumi CLI."""
    command = [sys.executable, "-m", "tools.github_app", "https://search.example.com", "--no-browser"]
    command += ["--pulumi", str(pulumi), *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_make_github_app_checks_pulumi_and_the_stack_before_creating_anything(fake: FakeGitHub, tmp_path: Path):
    """It used to create the app, then crash on a missing pulumi (or no selected stack): the secret
    was never shown, and the app on GitHub was unusable until someone generated a new one."""
    missing = github_app(fake, tmp_path / "no-pulumi-here", tmp_path, "--github", fake.url)
    assert missing.returncode == 2 and "nothing created: the Pulumi CLI" in missing.stderr
    no_stack = tmp_path / "pulumi"
    no_stack.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(255)\n")
    no_stack.chmod(0o755)
    refused = github_app(fake, no_stack, tmp_path, "--github", fake.url)
    assert refused.returncode == 2 and "nothing created: no Pulumi stack is selected" in refused.stderr
    assert fake.apps.created == [] and "Traceback" not in missing.stderr + refused.stderr


def test_when_config_fails_after_the_app_exists_it_says_how_to_finish(fake: FakeGitHub, tmp_path: Path):
    from tools import github_app as tool

    pulumi = tmp_path / "pulumi"  # a stack is selected, but the backend refuses every config change
    pulumi.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(0 if sys.argv[1] == 'stack' else 3)\n")
    pulumi.chmod(0o755)
    flow = tool.Flow("https://search.example.com", fake.url, fake.url, None, False)
    threading.Thread(target=flow.server.serve_forever, daemon=True).start()
    tool.drive(flow)
    flow.server.shutdown()
    assert flow.app is not None
    with pytest.raises(subprocess.CalledProcessError) as failed:
        tool.configure(flow.app, str(pulumi), None)
    said = tool.finish_by_hand(flow.app, None, "exit 3", tmp_path)
    secret, client_id = flow.app["client_secret"], flow.app["client_id"]
    assert failed.value.returncode == 3 and secret not in said and client_id in said
    [kept] = tmp_path.glob("github-app-*.secret")
    assert kept.read_text() == secret and kept.stat().st_mode & 0o777 == 0o600
    assert f"pulumi config set githubOAuthClientId {client_id}" in said
    assert f"pulumi config set --secret githubOAuthClientSecret < {kept.name} && rm {kept.name}" in said


def test_make_github_app_fake_runs_the_flow_offline(tmp_path: Path):
    done = subprocess.run(
        ["make", "-s", "github-app", "FAKE=1"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "on the fake GitHub. Against a stack this would run:" in done.stdout
    assert "pulumi config set githubOAuthClientId Iv23li" in done.stdout


# -- a real client -----------------------------------------------------------------------------------


def test_the_mcp_sdk_signs_in_and_searches_a_private_repositorys_code(server: LocalServer, world: FakeGitHub):
    from tests.test_sign_in_sdk import Memory, Person, provider, session

    world.oauth.login = "alice"

    async def work(client: Any) -> Any:
        code = await client.call_tool("search_code", {"query": "def handler repo:acme/alpha", "limit": 5})
        page = await client.call_tool("get_file", {"owner": "acme", "repo": "alpha", "path": "src/app.py"})
        return code, page

    person = Person()
    code, page = session(provider(server, person, Memory(), None), f"{server.base}/mcp", "2026-07-28", work)
    assert person.sign_ins == 1 and code.is_error is False and page.is_error is False
    hits = code.structured_content["hits"]
    assert hits and {hit["repository"] for hit in hits} == {"acme/alpha"} and all(hit["private"] for hit in hits)
    assert page.structured_content["repository"] == "acme/alpha" and page.structured_content["content"]
    searched = [s for s in world.seen if s.path == "/search/code"]
    assert searched and all(s.headers["authorization"].startswith("Bearer ghu_") for s in searched)


# -- what the person is told -----------------------------------------------------------------------

PRIVATE_SCREENSHOT = ROOT / "docs" / "consent-page-private.png"


def test_the_consent_page_says_private_repositories_are_readable_in_chromium(
    chromium: Any, server: LocalServer, world: FakeGitHub, tmp_path: Path
):
    from tests.test_sign_in_browser import authorization, png_size

    url, _, _ = authorization(server.base, f"http://127.0.0.1:{free_port()}/callback")
    context = chromium.new_context(viewport={"width": 760, "height": 560})
    page = context.new_page()
    assert page.goto(url) is not None
    said = page.inner_text("body")
    assert "including your private repositories where this service's GitHub App is installed, read-only" in said
    assert "no access to your private repositories" not in said
    shot = page.screenshot(full_page=True)
    (tmp_path / "consent-page-private.png").write_bytes(shot)
    if os.environ.get("UPDATE_SCREENSHOT"):
        PRIVATE_SCREENSHOT.write_bytes(shot)
    assert png_size(PRIVATE_SCREENSHOT.read_bytes()) == png_size(shot)  # the one in docs/ is this page's
    context.close()


def test_the_mcp_instructions_say_what_signed_in_people_reach(server: LocalServer, world: FakeGitHub):
    alice = signed_in(server, world, "alice")
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}
    reply = requests.post(
        server.base + "/mcp",
        json=body,
        headers={"Authorization": f"Bearer {alice}", "Accept": "application/json, text/event-stream"},
        timeout=10,
    )
    assert (
        "their private repositories where this server's GitHub App is installed, read-only"
        in reply.json()["result"]["instructions"]
    )


def function_signed_in(fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[Any, str, Tokens]:
    """The function with private repositories on (and `env`), alice's grant in its store, sealed by
    its sealer: (the store, her access token, her GitHub pair)."""
    from signin import door
    from signin.store import ACCESS_PREFIX, token_hash

    fake.oauth.expiring, fake.oauth.installed, fake.oauth.private = True, {"acme"}, {"acme/alpha": {"alice"}}
    settings = {"AUTH": "github", "PRIVATE_REPOSITORIES": "true", "PUBLIC_URL": "https://search.example", **env}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_ID", GITHUB_APP_ID)
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_SECRET", APP_SECRET)
    door.reset()
    store, sealer = door._shared_store(), door._shared_sealer()
    pair = Tokens.from_answer(fake.oauth.pair("alice"), fake.oauth.now())
    store.put("grant#g1", grants.record({"login": "alice", "user_id": 9, "client_id": "c"}, pair, sealer, "g1"), 2**31)
    access = ACCESS_PREFIX + "audit-test-token"
    claims = {"grant": "g1", "client_id": "c", "scope": "search", "resource": "https://search.example/mcp"}
    store.put(token_hash("access", access), {**claims, "login": "alice", "expires": 2**31}, 2**31)
    return store, access, pair


def read_alpha(access: str) -> dict[str, Any]:
    import app

    event = {
        "resource": "/api/repos/{owner}/{repo}",
        "httpMethod": "GET",
        "headers": {"Authorization": f"Bearer {access}"},
        "pathParameters": {"owner": "acme", "repo": "alpha"},
    }
    answer: dict[str, Any] = app.handler(event)
    return answer


def test_turning_private_repositories_off_asks_their_people_to_sign_in_again(
    function_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch
):
    """A grant sealed while privateRepositories was on holds no token the function can read once it
    is off (and the key is gone): the challenge to sign in again, not a 500."""
    from signin import door

    store, access, _ = function_signed_in(function_env, monkeypatch)
    assert read_alpha(access)["statusCode"] == 200
    monkeypatch.delenv("PRIVATE_REPOSITORIES")
    monkeypatch.setenv("GITHUB_OAUTH_CLIENT_ID", "Ov23liNowAnOAuthApp0")
    door.reset()
    door._store = store  # the same table, read by the reconfigured function
    refused = read_alpha(access)
    door.reset()
    assert refused["statusCode"] == 401, refused
    assert 'error="invalid_token"' in refused["headers"]["WWW-Authenticate"]
    assert store.get("grant#g1") is None


def test_a_token_key_that_does_not_answer_is_a_503_to_retry(
    function_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch, aws: Aws
):
    """KMS unreachable or throttled when the gate opens a person's tokens: retry, not a 500."""
    from signin import door

    keys = {"AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": KEYS.access_key, "AWS_SECRET_ACCESS_KEY": KEYS.secret_key}
    key = {"TOKEN_KEY_ID": aws.key_arn, "TOKEN_KEY_ENDPOINT": aws.endpoint, **keys}
    store, access, _ = function_signed_in(function_env, monkeypatch, **key)
    assert read_alpha(access)["statusCode"] == 200
    monkeypatch.setenv("TOKEN_KEY_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing answers there
    door.reset()
    door._store = store
    unavailable = read_alpha(access)
    door.reset()
    assert unavailable["statusCode"] == 503 and unavailable["headers"]["Retry-After"] == "5", unavailable
    assert json.loads(unavailable["body"])["error"]["code"] == "unavailable"
    assert store.get("grant#g1") is not None  # nothing is lost


def test_the_log_names_who_read_which_repository_and_no_token(
    function_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The function's own log line, as the owner's audit reads it: who, which repository, no token."""
    import app
    from signin import door

    monkeypatch.setenv("SEARCH_SCOPE", "org:acme")
    _, access, pair = function_signed_in(function_env, monkeypatch)
    event = {
        "resource": "/api/repos/{owner}/{repo}/contents/{path+}",
        "httpMethod": "GET",
        "headers": {"Authorization": f"Bearer {access}"},
        "pathParameters": {"owner": "acme", "repo": "alpha", "path": "README.md"},
    }
    with caplog.at_level("INFO", logger="github_search"):
        answer = app.handler(event)
        # The fence holds for private repositories too.
        outside = app.handler({**event, "pathParameters": {"owner": "other", "repo": "gamma", "path": "README.md"}})
    door.reset()
    assert outside["statusCode"] == 403 and json.loads(outside["body"])["error"]["code"] == "outside_scope"
    assert answer["statusCode"] == 200 and answer["headers"]["Cache-Control"] == "private, no-store"
    record, refusal = (vars(r) for r in caplog.records if r.getMessage() == "audit")
    assert (record["login"], record["repository"], record["private"], record["fence"]) == (
        "alice",
        "acme/alpha",
        True,
        "org:acme",
    )
    assert record["person_id"] and record["client_id"] and record["front"] == "rest"
    assert (refusal["status"], refusal["error"], refusal["repository"]) == (403, "outside_scope", None)
    logged = json.dumps([record, refusal], default=str)
    assert pair.token not in logged and str(pair.refresh) not in logged and access not in logged
