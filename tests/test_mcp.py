"""The MCP endpoint of the local server, driven by the official MCP Python SDK over real HTTP
(each of its connection modes), and by raw requests for what clients never send."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import requests
from jsonschema import Draft202012Validator
from mcp.client.client import Client

from tests.conftest import TOKEN
from tools.background import LocalServer
from tools.fake_github import FakeGitHub

MODES = ["legacy", "auto", "2026-07-28"]
TOOLS = ["search_repositories", "get_repository", "search_code", "search_issues", "get_file", "search", "fetch"]
MODERN = "2026-07-28"
CAPABILITIES: dict[str, Any] = {"tools": {}, "resources": {}, "extensions": {"io.modelcontextprotocol/ui": {}}}
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


@pytest.fixture(scope="module")
def server(fake_server: FakeGitHub) -> Iterator[LocalServer]:
    running = LocalServer(fake_server.url, env={"GITHUB_TOKEN": TOKEN})  # code search needs one
    yield running
    running.stop()


def with_client(url: str, mode: str, work: Any) -> Any:
    async def run() -> Any:
        async with Client(url, mode=mode) as client:
            return await work(client)

    return anyio.run(run)


def structured(result: Any) -> dict[str, Any]:
    assert result.is_error is False, result.content
    [item] = result.content
    assert json.loads(item.text) == result.structured_content  # the same JSON as text, for clients without it
    return result.structured_content


# -- the SDK, in each mode ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_sdk_lists_the_read_only_tools(server: LocalServer, mode: str):
    async def work(client: Client) -> Any:
        return client.session.protocol_version, await client.list_tools()

    version, listed = with_client(f"{server.base}/mcp", mode, work)
    assert version == ("2025-11-25" if mode == "legacy" else MODERN)
    assert [t.name for t in listed.tools] == TOOLS  # deterministic order
    for tool in listed.tools:
        assert tool.annotations.read_only_hint is True and tool.annotations.open_world_hint is True
        assert tool.output_schema["type"] == "object" and tool.description
        Draft202012Validator.check_schema(tool.input_schema)
        Draft202012Validator.check_schema(tool.output_schema)


@pytest.mark.parametrize("mode", MODES)
def test_sdk_calls_every_tool_and_each_answer_matches_its_output_schema(server: LocalServer, mode: str):
    calls: dict[str, dict[str, Any]] = {
        "search_repositories": {"query": "pulumi language:python", "sort": "forks", "order": "asc", "limit": 3},
        "get_repository": {"owner": "pulumi", "repo": "pulumi-aws"},
        "search_code": {"query": "WebAcl language:python", "limit": 2},
        "search_issues": {"query": "repo:octo/tracker crash", "kind": "pr", "sort": "comments"},
        "get_file": {"owner": "pulumi", "repo": "pulumi-aws", "path": "docs/README.md", "ref": "v7.0.0"},
        "search": {"query": "mcp server"},
        "fetch": {"id": "pulumi/pulumi-aws"},
    }

    async def work(client: Client) -> Any:
        schemas = {t.name: t.output_schema for t in (await client.list_tools()).tools}
        return schemas, {name: await client.call_tool(name, arguments) for name, arguments in calls.items()}

    schemas, results = with_client(f"{server.base}/mcp", mode, work)
    for name, result in results.items():
        errors = list(Draft202012Validator(schemas[name]).iter_errors(structured(result)))
        assert errors == [], (name, errors)
    assert len(structured(results["search_repositories"])["repos"]) == 3
    [first_hit, _] = structured(results["search_code"])["hits"]
    assert first_hit["path"].endswith(".py") and first_hit["fragments"] and "WebAcl" in first_hit["fragments"][0]
    issues = structured(results["search_issues"])["issues"]
    assert (
        len(issues) == 5
        and issues[0]["repository"] == "octo/tracker"
        and issues[0]["labels"] == ["bug", "area/tracker"]
    )
    found = structured(results["get_file"])
    assert (found["kind"], found["path"], found["ref"]) == ("file", "docs/README.md", "v7.0.0")
    assert found["content"].startswith("# docs/README.md") and found["size"] > len(found["content"]) - 1
    page = structured(results["get_repository"])
    assert page["full_name"] == "pulumi/pulumi-aws" and page["license"] == "Apache-2.0"
    assert page["readme"].startswith("# pulumi-aws") and page["readme_truncated"] is False
    hits = structured(results["search"])["results"]
    assert len(hits) == 10 and all(hit["id"] == hit["title"] and "/" in hit["id"] for hit in hits)
    document = structured(results["fetch"])
    assert document["id"] == "pulumi/pulumi-aws" and document["url"] == "https://github.com/pulumi/pulumi-aws"
    assert "Stars: 1234" in document["text"] and "## README" in document["text"]
    assert document["metadata"] == {
        "kind": "repository",
        "stars": 1234,
        "language": "Python",
        "topics": ["search", "mcp"],
        "license": "Apache-2.0",
        "updated_at": "2026-11-01T12:00:00Z",
    }


@pytest.mark.parametrize("mode", MODES)
def test_sdk_sees_is_error_for_a_missing_repository_a_rate_limit_and_bad_arguments(server: LocalServer, mode: str):
    async def work(client: Client) -> Any:
        return [
            await client.call_tool("get_repository", {"owner": "octo", "repo": "missing"}),
            await client.call_tool("search_repositories", {"query": f"rate-limited {mode}"}),
            await client.call_tool("fetch", {"id": "not a repository id"}),
            await client.call_tool("search_repositories", {"query": "x", "limit": 50}),
        ]

    missing, limited, bad_id, bad_limit = with_client(f"{server.base}/mcp", mode, work)
    for result in (missing, limited, bad_id, bad_limit):
        assert result.is_error is True and result.structured_content is None
    assert "octo/missing not found" in missing.content[0].text
    assert limited.content[0].text.count("retry in") == 1  # the wait, said once
    assert "owner/repo" in bad_id.content[0].text
    assert "'limit' must be an integer from 1 to 20" in bad_limit.content[0].text


def test_tools_and_rest_answer_the_same(server: LocalServer):
    async def work(client: Client) -> Any:
        return [
            await client.call_tool("search_repositories", {"query": "same answer", "limit": 4}),
            await client.call_tool("get_repository", {"owner": "octo", "repo": "same"}),
        ]

    search, repository = with_client(f"{server.base}/mcp", "auto", work)
    rest_search = requests.get(server.base + "/api/search", params={"q": "same answer", "limit": "4"}, timeout=10)
    rest_repository = requests.get(server.base + "/api/repos/octo/same", timeout=10)
    assert structured(search) == rest_search.json()
    assert structured(repository) == rest_repository.json()


# -- raw HTTP: what clients do not exercise -----------------------------------------------------


def post(server: LocalServer, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    base = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    return requests.post(server.base + "/mcp", data=data, headers={**base, **(headers or {})}, timeout=10)


def modern(method: str, params: dict[str, Any] | None = None, id_: int = 1, **headers: str):
    body = {"jsonrpc": "2.0", "id": id_, "method": method, "params": {**(params or {}), "_meta": META}}
    names = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method, **headers}
    if method == "tools/call" and "Mcp-Name" not in names and params:
        names["Mcp-Name"] = params["name"]
    if method == "resources/read" and "Mcp-Name" not in names and params:
        names["Mcp-Name"] = params["uri"]
    return body, names


def rpc_error(response: requests.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    return error


@pytest.mark.parametrize("verb", ["GET", "DELETE", "PUT"])
def test_other_verbs_are_405_allow_post(server: LocalServer, verb: str):
    response = requests.request(verb, server.base + "/mcp", headers={"Accept": "text/event-stream"}, timeout=10)
    rpc_error(response, 405, -32600)
    assert response.headers["Allow"] == "POST"


def test_a_hostile_origin_is_403_and_a_local_one_is_served(server: LocalServer):
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    rpc_error(post(server, ping, {"Origin": "https://evil.example"}), 403, -32600)
    rpc_error(post(server, ping, {"Origin": "http://localhost.evil.example:80"}), 403, -32600)
    assert post(server, ping, {"Origin": "http://localhost:6274"}).json()["result"] == {}
    assert post(server, ping).json()["result"] == {}  # server-to-server: no Origin at all


def test_no_session_is_minted_and_one_sent_is_ignored(server: LocalServer):
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}
    response = post(server, initialize)
    assert response.status_code == 200 and "Mcp-Session-Id" not in response.headers
    listed = post(server, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, {"Mcp-Session-Id": "made-up-session"})
    assert listed.status_code == 200 and "Mcp-Session-Id" not in listed.headers
    assert [t["name"] for t in listed.json()["result"]["tools"]] == TOOLS


@pytest.mark.parametrize(
    ("requested", "negotiated"),
    [
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2024-11-05", "2025-11-25"),
    ],
)
def test_initialize_negotiates_a_legacy_version(server: LocalServer, requested: str, negotiated: str):
    params = {"protocolVersion": requested, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}
    result = post(server, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}).json()["result"]
    assert result["protocolVersion"] == negotiated
    assert result["capabilities"] == CAPABILITIES
    assert set(result["serverInfo"]) == {"name", "title", "version"}
    assert "as arguments, never inside the query" in result["instructions"]


def test_notifications_are_202_without_a_body(server: LocalServer):
    response = post(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert response.status_code == 202 and response.content == b""
    body, headers = modern("notifications/cancelled")
    del body["id"]
    assert post(server, body, headers).status_code == 202


def test_batches_only_for_2025_03_26(server: LocalServer):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    answered = post(server, batch)  # no MCP-Protocol-Version: 2025-03-26, which requires batches
    assert answered.status_code == 200
    assert [a["id"] for a in answered.json()] == [1, 2]
    for version in ("2025-06-18", "2025-11-25", MODERN):
        rpc_error(post(server, batch, {"MCP-Protocol-Version": version}), 400, -32600)


def test_malformed_json_too_large_and_not_json_rpc(server: LocalServer):
    rpc_error(post(server, None, raw=b'{"jsonrpc": "2.0", "id": 1, "method": '), 400, -32700)
    rpc_error(post(server, None, raw=b"[" * 30_000 + b"]" * 30_000), 400, -32600)  # deeper than a message nests
    padding = "x" * (64 * 1024)
    rpc_error(post(server, {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": padding}}), 413, -32600)
    rpc_error(post(server, {"jsonrpc": "1.0", "id": 1, "method": "ping"}), 400, -32600)
    rpc_error(post(server, {"jsonrpc": "2.0", "id": True, "method": "ping"}), 400, -32600)


def test_legacy_errors_to_well_formed_requests_travel_with_200(server: LocalServer):
    rpc_error(post(server, {"jsonrpc": "2.0", "id": 1, "method": "prompts/list"}), 200, -32601)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "delete_everything"}}
    assert "Unknown tool" in rpc_error(post(server, call), 200, -32602)["message"]


@pytest.mark.parametrize("accept", ["application/json", "*/*", "text/event-stream", None])
def test_always_json_whatever_the_accept_header(server: LocalServer, accept: str | None):
    headers = {"Content-Type": "application/json"} | ({"Accept": accept} if accept else {})
    response = requests.post(
        server.base + "/mcp",
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")


def test_modern_discover_and_list_carry_the_era_fields(server: LocalServer):
    discovered = post(server, *modern("server/discover")).json()["result"]
    assert discovered["resultType"] == "complete"
    assert discovered["supportedVersions"][0] == MODERN and "2025-11-25" in discovered["supportedVersions"]
    assert discovered["capabilities"] == CAPABILITIES and discovered["instructions"]
    assert discovered["ttlMs"] > 0 and discovered["cacheScope"] == "public"
    assert discovered["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "github-search"
    listed = post(server, *modern("tools/list")).json()["result"]
    assert listed["resultType"] == "complete" and listed["cacheScope"] == "public" and listed["ttlMs"] > 0
    called = post(server, *modern("tools/call", {"name": "search", "arguments": {"query": "x"}})).json()["result"]
    assert called["resultType"] == "complete" and called["_meta"]["io.modelcontextprotocol/serverInfo"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"MCP-Protocol-Version": None}, "MCP-Protocol-Version header is required"),
        ({"Mcp-Method": None}, "Mcp-Method header is required"),
        ({"Mcp-Method": "tools/list"}, "does not match body method"),
        ({"Mcp-Name": None}, "Mcp-Name header is required"),
        ({"Mcp-Name": "fetch"}, "does not match body value"),
        ({"Mcp-Name": "=?base64?not base64!?="}, "does not match body value"),
        ({"MCP-Protocol-Version": "2099-01-01"}, "does not match _meta"),
    ],
)
def test_modern_headers_must_agree_with_the_body(server: LocalServer, change: dict[str, str | None], says: str):
    body, headers = modern("tools/call", {"name": "search", "arguments": {"query": "x"}})
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    assert says in rpc_error(post(server, body, headers), 400, -32020)["message"]


def test_modern_header_values_are_trimmed_and_base64_names_decoded(server: LocalServer):
    body, headers = modern("tools/call", {"name": "search", "arguments": {"query": "x"}})
    headers |= {"Mcp-Method": "  tools/call\t", "Mcp-Name": "=?base64?" + base64.b64encode(b"search").decode() + "?="}
    # http.client, not requests: requests refuses to send a value with surrounding whitespace
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/mcp", json.dumps(body), {"Content-Type": "application/json", **headers})
    answer = json.loads(connection.getresponse().read())
    connection.close()
    assert answer["result"]["isError"] is False


def test_modern_version_and_meta_and_removed_methods(server: LocalServer):
    body, headers = modern("tools/list")
    body["params"]["_meta"] = {**META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    headers["MCP-Protocol-Version"] = "2099-01-01"
    error = rpc_error(post(server, body, headers), 400, -32022)
    assert error["data"]["requested"] == "2099-01-01" and MODERN in error["data"]["supported"]
    body, headers = modern("tools/list")
    del body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]
    rpc_error(post(server, body, headers), 400, -32602)
    for removed in ("initialize", "ping", "logging/setLevel", "resources/subscribe", "prompts/list"):
        rpc_error(post(server, *modern(removed)), 404, -32601)
    rpc_error(post(server, *modern("tools/call", {"name": "no_such_tool"})), 400, -32602)


def test_an_unknown_protocol_version_header_is_400_naming_the_supported_ones(server: LocalServer):
    error = rpc_error(
        post(server, {"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"MCP-Protocol-Version": "1999"}), 400, -32022
    )
    assert error["data"] == {"supported": [MODERN, "2025-11-25", "2025-06-18", "2025-03-26"], "requested": "1999"}


def test_github_failures_are_tool_errors_a_model_can_act_on(fake_server: FakeGitHub):
    slow = LocalServer(fake_server.url, None, env={"UPSTREAM_READ_TIMEOUT": "0.5"})
    try:

        async def work(client: Client) -> Any:
            return [
                await client.call_tool("search_repositories", {"query": "broken"}),
                await client.call_tool("search_repositories", {"query": "slow"}),
                await client.call_tool("get_repository", {"owner": "octo", "repo": "broken"}),
            ]

        broken, timed_out, broken_repo = with_client(f"{slow.base}/mcp", "auto", work)
    finally:
        slow.stop()
    assert broken.is_error and "GitHub answered HTTP 500" in broken.content[0].text
    assert timed_out.is_error and "did not answer within 0.5 s" in timed_out.content[0].text
    assert broken_repo.is_error and "HTTP 500" in broken_repo.content[0].text


def test_nullable_fields_are_written_where_every_client_reads_them():
    """The MCP Inspector (--strict) warns on `type: ["string", "null"]`. Its maintainers reframed
    that warning as a portability trade (modelcontextprotocol/inspector#2395): the array form is
    legal JSON Schema, OpenAI's structured-outputs guide recommends it for nullable fields, and the
    one class of consumer it names, a translation into a single-`type` dialect (the OpenAPI 3.0
    subset of Gemini's function declarations), reads a tool's *input* schema, the function's
    parameters. So the array form stays where it is, in output schemas, which clients validate as
    JSON Schema, and never appears in an input schema (the anyOf form would cost ~20 bytes a field
    of the tool list's budget)."""
    from mcp_front import tools as mcp_tools

    def array_types(node: object) -> list[object]:
        if isinstance(node, dict):
            found = [node["type"]] if isinstance(node.get("type"), list) else []
            return found + [t for v in node.values() for t in array_types(v)]
        if isinstance(node, list):
            return [t for v in node for t in array_types(v)]
        return []

    assert all(array_types(tool["inputSchema"]) == [] for tool in mcp_tools.TOOLS)
    nullable = [t for tool in mcp_tools.TOOLS for t in array_types(tool.get("outputSchema", {}))]
    assert nullable and all(isinstance(t, list) and "null" in t and len(t) == 2 for t in nullable)
