"""The published contract, read from the sources a user sees: the OpenAPI document and the code."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS31Validator

from infra.site import site_files
from tools.synth import ROOT

# Calls whose first argument is the HTTP status the function answers with; of those, the ones
# whose second is the error's code.
_STATUS_CALLS = {"error", "json_response", "response", "Failure"}
_CODE_CALLS = {"error", "Failure"}


def _front_modules() -> list[Path]:
    """The modules that answer the REST paths: the entry and REST front, `proxy`, the search
    service, the MCP front and sign-in's daily budget (sign-in's other answers are OAuth's,
    documented by the metadata)."""
    handler = ROOT / "handler"
    fronts = [*handler.glob("*.py"), *(handler / "search").glob("*.py"), *(handler / "mcp_front").glob("*.py")]
    return sorted([*fronts, handler / "signin" / "budget.py"])


@cache
def spec() -> dict[str, Any]:
    """The published document, its shared responses, parameters and headers inlined (schemas keep
    their $refs: the validator resolves those)."""
    [document] = [yaml.safe_load(f.body) for f in site_files("http://127.0.0.1:1") if f.key == "openapi.yaml"]
    components = document["components"]

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            kind = ref.split("/")[2] if ref.startswith("#/components/") else None
            if kind in ("responses", "parameters", "headers"):
                return inline(components[kind][ref.rsplit("/", 1)[1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    inlined: dict[str, Any] = {**document, "paths": inline(document["paths"])}
    return inlined


def validator(schema: dict[str, Any]) -> OAS31Validator:
    return OAS31Validator({**schema, "components": spec()["components"]})


def response_schema(path: str, status: str, method: str = "get") -> dict[str, Any]:
    schema: dict[str, Any] = spec()["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return schema


def schema_errors(instance: Any, path: str = "/api/search", status: str = "200") -> list[str]:
    return [e.message for e in validator(response_schema(path, status)).iter_errors(instance)]


def error_codes_in_spec() -> set[str]:
    error = spec()["components"]["schemas"]["Error"]["properties"]["error"]
    return set(error["properties"]["code"]["enum"])


def _status_calls() -> list[ast.Call]:
    """Calls in the function's modules whose first argument is a literal HTTP status."""
    calls = []
    for module in _front_modules():
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in _STATUS_CALLS and isinstance(node.args[0].value, int):
                    calls.append(node)
    return calls


def error_codes_in_code() -> set[str]:
    """The `code` of every error the function's modules make: error(status, code, ...), Failure(...),
    and the challenges of sign-in's door (401 and 403, in the REST front's error shape)."""
    from signin.door import ERROR_CODES

    return {
        str(call.args[1].value)
        for call in _status_calls()
        if getattr(call.func, "id", getattr(call.func, "attr", "")) in _CODE_CALLS
        and len(call.args) > 1
        and isinstance(call.args[1], ast.Constant)
        and isinstance(call.args[1].value, str)
    } | set(ERROR_CODES.values())


def statuses_in_code() -> set[int]:
    """Every literal status the function's modules can answer with, found in their syntax tree."""
    from signin.door import ERROR_CODES

    found = {int(getattr(call.args[0], "value", 0)) for call in _status_calls()} | set(ERROR_CODES)
    for module in _front_modules():
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    literal = value.value if isinstance(value, ast.Constant) else None
                    if isinstance(key, ast.Constant) and key.value == "statusCode" and isinstance(literal, int):
                        found.add(literal)
    return found
