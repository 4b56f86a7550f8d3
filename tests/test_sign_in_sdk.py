"""The official MCP Python SDK's OAuth client signs in to the local server headlessly, registered
by DCR or known by its Client ID Metadata Document, in the legacy and 2026-07-28 modes; it calls
every tool; after its grant is revoked it is challenged, and signs in again."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
import pytest
import requests
from mcp.client.auth import OAuthClientProvider
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.signin_helpers import CALLBACK, MetadataHost, query
from tests.test_mcp import TOOLS
from tools.background import LocalServer
from tools.fake_github import FakeGitHub
from tools.signin_browser import Browser


def arguments(tag: str) -> dict[str, dict[str, Any]]:
    """Each test's own queries and names, so that none is answered from another's cache."""
    return {
        "search_repositories": {"query": f"pulumi {tag}", "limit": 1},
        "get_repository": {"owner": "pulumi", "repo": tag},
        "search_code": {"query": f"WebAcl {tag}", "limit": 1},
        "search_issues": {"query": f"is:open {tag}", "limit": 1},
        "get_file": {"owner": "pulumi", "repo": tag, "path": "README.md"},
        "search": {"query": f"search {tag}"},
        "fetch": {"id": f"pulumi/{tag}"},
    }


class Memory:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Person:
    """The redirect and callback handlers: a headless browser that signs in and hands back the code."""

    def __init__(self) -> None:
        self.browser = Browser(CALLBACK)
        self.sign_ins = 0
        self.landed = ""

    async def redirect(self, url: str) -> None:
        self.sign_ins += 1
        self.landed = await anyio.to_thread.run_sync(self.browser.sign_in, url)

    async def callback(self) -> AuthorizationCodeResult:
        answer = query(self.landed)
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))


def provider(signin: LocalServer, person: Person, storage: Memory, metadata_url: str | None) -> OAuthClientProvider:
    return OAuthClientProvider(
        f"{signin.base}/mcp",
        OAuthClientMetadata(
            client_name="SDK test client",
            redirect_uris=[CALLBACK],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage,
        redirect_handler=person.redirect,
        callback_handler=person.callback,
        client_metadata_url=metadata_url,
    )


def session(auth: OAuthClientProvider, url: str, mode: str, work: Any) -> Any:
    async def run() -> Any:
        async with (
            httpx2.AsyncClient(auth=auth, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode) as client,
        ):
            return await work(client)

    return anyio.run(run)


def every_tool(tag: str) -> Any:
    async def work(client: Client) -> dict[str, bool]:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert listed == set(TOOLS)
        return {name: (await client.call_tool(name, arguments(tag)[name])).is_error for name in TOOLS}

    return work


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
@pytest.mark.parametrize("registration", ["dcr", "cimd"])
def test_the_sdk_signs_in_calls_every_tool_and_is_challenged_after_revocation(
    signin: LocalServer, signin_host: MetadataHost, fake: FakeGitHub, mode: str, registration: str
):
    metadata_url = signin_host.client(f"/sdk-{mode}.json", name="SDK test client") if registration == "cimd" else None
    person, storage = Person(), Memory()
    auth = provider(signin, person, storage, metadata_url)
    tag = f"{registration}-{mode}"
    errors = session(auth, f"{signin.base}/mcp", mode, every_tool(tag))
    assert errors == dict.fromkeys(TOOLS, False)
    assert person.sign_ins == 1
    assert storage.client is not None
    if registration == "cimd":
        assert storage.client.client_id == metadata_url  # no registration: the URL is the client id
    else:
        assert storage.client.client_id and not storage.client.client_id.startswith("https://")
    searched = [s for s in fake.seen if s.path.startswith("/search/")]
    assert searched and all(s.headers["authorization"].startswith("Bearer gho_") for s in searched)

    assert storage.tokens is not None
    revoked = requests.post(
        f"{signin.base}/revoke",
        data={"token": storage.tokens.refresh_token, "client_id": storage.client.client_id},
        timeout=10,
    )
    assert revoked.status_code == 200
    again = session(
        auth, f"{signin.base}/mcp", mode, lambda client: client.call_tool("search", arguments(tag)["search"])
    )
    assert again.is_error is False
    assert person.sign_ins == 2  # the revoked token was challenged, and the person signed in again
    assert json.loads(again.content[0].text)["results"]
