"""The MCP Registry listing (server.json): the registry's rules for schema 2025-12-11, written down
in tools/registry.py, hold for the committed file and refuse what the registry refuses; its version is
the server's own; its one remote, filled in with a stack's host, is that stack's MCP URL; and the
listing is named for whichever repository publishes it.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from mcp_front.protocol import SERVER_INFO

from tests.program import Graph, recording
from tools.registry import SCHEMA, SERVER_JSON, listing_name, problems, publishing_problems, stamp
from tools.synth import ROOT


def listing() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SERVER_JSON.read_text())
    return document


def test_the_committed_listing_follows_the_registrys_rules():
    assert problems(listing()) == []
    assert listing()["$schema"] == SCHEMA


def test_its_version_and_title_are_the_servers_own():
    """serverInfo is what a client sees after connecting; the listing must not promise another version."""
    assert listing()["version"] == SERVER_INFO["version"]
    assert listing()["title"] == SERVER_INFO["title"]


@pytest.mark.parametrize("config", ["dev", "prod"])
def test_its_remote_filled_in_with_a_stacks_host_is_that_stacks_mcp_url(config: str):
    outputs = Graph(recording(config)).outputs
    [remote] = listing()["remotes"]
    assert remote["type"] == "streamable-http"
    assert set(remote["variables"]) == {"host"} and remote["variables"]["host"]["isRequired"] is True
    assert "pulumi stack output mcpUrl" in remote["variables"]["host"]["description"]
    host = urlsplit(outputs["mcpUrl"]).netloc
    assert remote["url"].replace("{host}", host) == outputs["mcpUrl"]


def test_a_repository_publishes_it_under_the_namespace_its_oidc_token_proves():
    committed = listing()
    assert publishing_problems(committed, None, f"v{committed['version']}") == []
    refused = publishing_problems(committed, "acme/search", None)
    assert len(refused) == 1 and "stamp --repository acme/search" in refused[0]
    stamped = stamp(committed, "acme/search")
    assert stamped["name"] == listing_name("acme/search") == "io.github.acme/search"
    assert stamped["repository"] == {"url": "https://github.com/acme/search", "source": "github"}
    assert stamped["websiteUrl"] == "https://github.com/acme/search#readme"
    assert publishing_problems(stamped, "acme/search", f"v{committed['version']}") == []
    [late] = publishing_problems(stamped, "acme/search", "v9.9.9")
    assert "the tag is v9.9.9" in late and "serverInfo.version" in late


def with_change(path: str, value: Any) -> dict[str, Any]:
    """The listing with one field set (a dotted path; value DELETE removes it)."""
    document = copy.deepcopy(listing())
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return document


DELETE = object()

# One broken field each, and the field the problem must name. The first three are the registry's own
# invalid examples (docs/reference/server-json/examples/invalid); the rest, its validators' rules.
REFUSED = {
    "bad-name-pattern": ("name", "io.github.acme", "name"),
    "description-too-long": ("description", "x" * 101, "description"),
    "missing-name": ("name", DELETE, "name"),
    "two-slashes": ("name", "io.github.acme/search/mcp", "name"),
    "name-starts-with-a-dot": ("name", ".io.github.acme/search", "name"),
    "name-too-long": ("name", "io.github.acme/" + "s" * 190, "name"),
    "empty-description": ("description", "", "description"),
    "whitespace-title": ("title", "   ", "title"),
    "long-title": ("title", "T" * 101, "title"),
    "version-latest": ("version", "latest", "version"),
    "version-caret": ("version", "^0.2.0", "version"),
    "version-wildcard": ("version", "0.2.x", "version"),
    "version-or": ("version", "0.2 || 0.3", "version"),
    "version-not-semantic": ("version", "0.2", "version"),
    "missing-version": ("version", DELETE, "version"),
    "old-schema": (
        "$schema",
        "https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json",
        "$schema",
    ),
    "repository-not-github": ("repository.url", "https://example.com/acme/search", "repository.url"),
    "repository-without-source": ("repository.source", DELETE, "repository"),
    "website-http": ("websiteUrl", "http://github.com/acme/search", "websiteUrl"),
    "remote-stdio": ("remotes.0.type", "stdio", "remotes[0].type"),
    "remote-http": ("remotes.0.url", "http://{host}/mcp", "remotes[0].url"),
    "remote-localhost": ("remotes.0.url", "https://localhost/mcp", "remotes[0].url"),
    "remote-undeclared-variable": ("remotes.0.url", "https://{host}/{stage}/mcp", "remotes[0].url"),
    "remote-unused-variable": (
        "remotes.0.url",
        "https://d111111abcdef8.cloudfront.net/mcp",
        "remotes[0].variables.host",
    ),
    "no-remote": ("remotes", [], "remotes"),
    "meta-dropped": ("_meta", {"com.example/build": {}}, "_meta"),
    "meta-too-large": ("_meta", {"io.modelcontextprotocol.registry/publisher-provided": {"x": "y" * 4100}}, "_meta"),
}


@pytest.mark.parametrize(("path", "value", "field"), REFUSED.values(), ids=REFUSED.keys())
def test_what_the_registry_refuses_is_refused(path: str, value: Any, field: str):
    found = problems(with_change(path, value))
    assert found, f"{path} = {value!r} passed"
    assert any(problem.startswith(field) for problem in found), found
    top = field.split(".", maxsplit=1)[0].split("[", maxsplit=1)[0]
    assert all(problem.startswith(top) for problem in found), found  # nothing else was blamed


ACCEPTED = {
    "prerelease": ("version", "1.0.0-beta.1"),
    "sse": ("remotes.0.type", "sse"),
    "no-title": ("title", DELETE),
    "no-website": ("websiteUrl", DELETE),
    "dotted-name": ("name", "io.github.my-org/my_server.v2"),
    "publisher-meta": ("_meta", {"io.modelcontextprotocol.registry/publisher-provided": {"tool": "ci"}}),
}


@pytest.mark.parametrize(("path", "value"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_what_the_registry_accepts_is_accepted(path: str, value: Any):
    assert problems(with_change(path, value)) == []


def registry(*args: str) -> subprocess.CompletedProcess[str]:
    """The tool as the publish job runs it: a bare python3, so -S (no site-packages, the standard library only)."""
    return subprocess.run(
        [sys.executable, "-S", "-m", "tools.registry", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_publish_jobs_commands_stamp_then_check_a_copy(tmp_path: Path):
    copy_path = tmp_path / "server.json"
    copy_path.write_text(SERVER_JSON.read_text())
    tag = f"v{SERVER_INFO['version']}"
    refused = registry("check", "--repository", "acme/search", "--tag", tag, str(copy_path))
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "stamp" in refused.stderr
    assert registry("stamp", "--repository", "acme/search", str(copy_path)).returncode == 0
    checked = registry("check", "--repository", "acme/search", "--tag", tag, str(copy_path))
    assert checked.returncode == 0, checked.stderr
    assert "io.github.acme/search" in checked.stdout
    assert SERVER_JSON.read_text() != copy_path.read_text()  # the committed file is left as it is


def test_bad_arguments_get_one_line():
    bad = registry("stamp", "--repository", "not a repository")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "OWNER/NAME" in bad.stderr
    assert listing()["name"].startswith("io.github.OWNER/")  # and the file was not touched
