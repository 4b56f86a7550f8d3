"""Sign-in inside the function, called as Lambda calls it: the log line names the person and
never a token, a token without the scope is 403, and metadata documents are cached as told."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import app
import pytest
from signin import door
from signin.clients import MetadataCache
from signin.store import token_hash

from tests.conftest import event
from tests.signin_helpers import CALLBACK, MetadataHost

ISSUER = "https://search.example.com"


def test_the_log_line_names_who_searched_and_never_a_token(signed_in_env: str, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    answer = app.handler(event({"q": "pulumi"}, headers={"Authorization": f"Bearer {signed_in_env}"}))
    assert answer["statusCode"] == 200
    refused = app.handler(event({"q": "pulumi"}))
    assert refused["statusCode"] == 401
    records = [r for r in caplog.records if r.name == "github_search"]
    assert [(vars(r)["status"], vars(r).get("login")) for r in records] == [(200, "octocat"), (401, None)]
    everything = caplog.text + " ".join(repr(vars(r)) for r in caplog.records)
    for secret in (signed_in_env, signed_in_env[4:], "gho_octocat_user_token", "app-secret"):
        assert secret not in everything


def test_a_token_without_the_search_scope_is_403_insufficient_scope(signed_in_env: str):
    store = door._shared_store()
    key = token_hash("access", signed_in_env)
    store.put(key, {**store.get(key), "scope": ""}, 0, new=False)
    door.reset()  # a cold instance, so that the token is read again
    door._store = store
    answer = app.handler(event({"q": "pulumi"}, headers={"Authorization": f"Bearer {signed_in_env}"}))
    assert answer["statusCode"] == 403
    assert json.loads(answer["body"])["error"]["code"] == "forbidden"
    challenge = answer["headers"]["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="search"' in challenge
    assert f'resource_metadata="{ISSUER}/.well-known/oauth-protected-resource/mcp"' in challenge


@pytest.fixture
def documents(monkeypatch: pytest.MonkeyPatch) -> Iterator[MetadataHost]:
    host = MetadataHost()
    monkeypatch.setenv("CLIENT_METADATA_TEST_ORIGINS", f"https://client.example={host.url}")
    yield host
    host.stop()


@pytest.mark.parametrize(("cache_control", "fetches"), [("max-age=60", 1), ("no-store", 3), ("", 1)])
def test_metadata_documents_are_cached_as_their_headers_say(documents: MetadataHost, cache_control: str, fetches: int):
    url = "https://client.example/app.json"
    headers = {"Cache-Control": cache_control} if cache_control else {}
    documents.serve("/app.json", {"client_id": url, "client_name": "App", "redirect_uris": [CALLBACK]}, headers=headers)
    cache = MetadataCache()
    for _ in range(3):
        assert cache.client(url)["redirect_uris"] == [CALLBACK]
    assert cache.fetches == fetches


def test_a_signed_in_answer_is_private_for_any_shared_cache(signed_in_env: str):
    """RFC 9111 section 3.5: a shared cache may store an answer to a request with Authorization when
    it says public, and hand it to a request without one. With sign-in every answer is a person's."""
    answer = app.handler(event({"q": "pulumi"}, headers={"Authorization": f"Bearer {signed_in_env}"}))
    assert answer["statusCode"] == 200
    assert answer["headers"]["Cache-Control"].startswith("private, max-age=")
    again = app.handler(event({"q": "pulumi"}, headers={"Authorization": f"Bearer {signed_in_env}"}))
    assert again["headers"]["X-Search-Cache"] == "HIT" and again["headers"]["Cache-Control"].startswith("private")
