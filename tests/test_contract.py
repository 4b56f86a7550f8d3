"""The published contract is the whole contract: what the code and the gateway can answer is in
openapi.yaml, and the README's error list says the same."""

from __future__ import annotations

import re

import pytest

from infra.api_definition import GATEWAY_ERRORS
from infra.firewall import WAF_ERRORS
from tests.conftest import readme_section
from tests.contract import error_codes_in_code, error_codes_in_spec, spec, statuses_in_code

# 204 answers a CORS preflight (OPTIONS, local mode only), not the GET the document describes.
NOT_GET = {204}
RANGES = {"DEFAULT_4XX": "4XX", "DEFAULT_5XX": "5XX"}


REST_PATHS = (
    "/api/search",
    "/api/search/code",
    "/api/search/issues",
    "/api/repos/{owner}/{repo}",
    "/api/repos/{owner}/{repo}/contents/{path}",
)
# Answers only some paths can give (none today: every path may find sign-in unavailable).
ONLY_ON: dict[int, str] = {}
# The MCP front answers JSON-RPC, documented by the protocol, not by openapi.yaml.
MCP_ONLY = {202, 403, 413}


def documented(path: str = "/api/search") -> dict[str, dict]:
    return spec()["paths"][path]["get"]["responses"]


@pytest.mark.parametrize("path", REST_PATHS)
def test_every_status_the_function_can_answer_is_documented(path: str):
    statuses = {s for s in statuses_in_code() - NOT_GET - MCP_ONLY if ONLY_ON.get(s, path) == path}
    assert {200, 400, 404, 405, 429, 500, 502, 504} <= statuses  # the derivation sees the code
    assert sorted(str(s) for s in statuses if str(s) not in documented(path)) == []


@pytest.mark.parametrize("path", REST_PATHS)
def test_every_answer_the_gateway_makes_is_documented(path: str):
    for gateway_error in GATEWAY_ERRORS:
        key = gateway_error.status_code or RANGES[gateway_error.response_type]
        assert key in documented(path), gateway_error.response_type
    for waf_error in WAF_ERRORS:  # with wafEnabled, CloudFront's firewall answers before the gateway
        assert str(waf_error.status) in documented(path), waf_error.code
        assert waf_error.code in documented(path)[str(waf_error.status)]["description"]
    throttled = [g for g in GATEWAY_ERRORS if g.response_type == "THROTTLED"]
    assert throttled and "Retry-After" in documented(path)["429"]["headers"]


def test_error_codes_in_the_spec_are_exactly_the_ones_in_use():
    in_use = error_codes_in_code() | {g.code for g in GATEWAY_ERRORS} | {w.code for w in WAF_ERRORS}
    assert error_codes_in_spec() == in_use


@pytest.mark.parametrize("path", REST_PATHS)
def test_every_error_answer_has_the_error_shape_and_a_description(path: str):
    for status, response in documented(path).items():
        assert response["description"].strip()
        if status != "200":
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_readme_error_list_matches_the_spec():
    section = readme_section("The REST API", "docs/reference.md")
    listed = dict(re.findall(r"^\| `(\d{3}|\dXX)` \| `?([a-z_]+)`? \|", section, re.M))
    every = {status: r for path in REST_PATHS for status, r in documented(path).items()}
    assert set(listed) == set(every) - {"200"}
    for status, code in listed.items():
        assert code in every[status]["description"], status


@pytest.mark.parametrize("path", REST_PATHS)
def test_parameters_are_described(path: str):
    for parameter in spec()["paths"][path]["get"]["parameters"]:
        assert parameter.get("description"), parameter["name"]


@pytest.mark.parametrize(
    ("tool", "schema"),
    [
        ("search_repositories", "SearchResult"),
        ("get_repository", "RepositoryPage"),
        ("search_code", "CodeSearchResult"),
        ("search_issues", "IssueSearchResult"),
        ("get_file", "FileContent"),
    ],
)
def test_mcp_tools_answer_what_the_rest_api_answers(tool: str, schema: str):
    """One contract under both fronts: each tool's outputSchema is the REST schema, $refs resolved."""
    from mcp_front import tools as mcp_tools

    components = spec()["components"]["schemas"]

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(components[node["$ref"].rsplit("/", 1)[1]])
            return {k: resolve(v) for k, v in node.items() if k != "description"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    [definition] = [t for t in mcp_tools.TOOLS if t["name"] == tool]
    assert resolve(definition["outputSchema"]) == resolve(components[schema])
