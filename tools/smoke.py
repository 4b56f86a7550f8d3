"""Check a deployment (or the local server) the way an assistant will use it.

    make smoke URL=https://search.example.com
    python -m tools.smoke http://127.0.0.1:3333
    make smoke URL=... TOKEN=<access token>    # a stack with sign-in (python -m tools.get_token URL)

Prints one PASS/FAIL line per check as it goes; exits 1 if any check failed. On a stack with
sign-in and no TOKEN, the checks that need one are listed as SKIP with what to do.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml
from jsonschema import Draft202012Validator
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

TIMEOUT = 30
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CACHE_OUTCOMES = ("HIT", "MISS", "REVALIDATED", "STALE")
MCP_VERSION = "2025-11-25"  # what today's assistants speak
MCP_TOOLS = ("search_repositories", "get_repository", "search_code", "search_issues", "get_file", "search", "fetch")
# One call of each tool that reaches a new part of GitHub, and the REST route that answers the same.
MORE_OF_GITHUB: tuple[tuple[str, dict[str, Any], str, dict[str, str]], ...] = (
    (
        "search_code",
        {"query": "WebAcl language:python repo:pulumi/examples", "limit": 1},
        "/api/search/code",
        {"q": "WebAcl language:python repo:pulumi/examples", "limit": "1"},
    ),
    (
        "search_issues",
        {"query": "repo:pulumi/pulumi-aws is:issue", "limit": 1},
        "/api/search/issues",
        {"q": "repo:pulumi/pulumi-aws is:issue", "limit": "1"},
    ),
    (
        "get_file",
        {"owner": "pulumi", "repo": "pulumi", "path": "README.md"},
        "/api/repos/pulumi/pulumi/contents/README.md",
        {},
    ),
)


# How the pages name a fence (infra/site.py, scope_sentence): "It answers only about org:a, repo:b/c, as..."
FENCE_SAID = re.compile(r"It answers only about (.+?), as its owner chose")
OUTSIDE_SAID = "outside what this service answers about"


def fence_of(spec: dict[str, Any]) -> tuple[str, ...]:
    """The fence a stack's openapi.yaml names; () when it answers about all of GitHub."""
    found = FENCE_SAID.search(str(spec.get("info", {}).get("description", "")))
    return tuple(found[1].split(", ")) if found else ()


def fenced_out(fence: tuple[str, ...], full_name: str) -> bool:
    """Whether a fence leaves `owner/repo` out: neither its owner nor itself is in it."""
    owner = full_name.split("/", maxsplit=1)[0].lower()
    inside = {item.split(":", 1)[1].lower() for item in fence}
    return bool(fence) and owner not in inside and full_name.lower() not in inside


def touches(arguments: dict[str, Any]) -> str:
    """The repository a smoke call names."""
    if "owner" in arguments:
        return f"{arguments['owner']}/{arguments['repo']}"
    found = re.search(r"repo:(\S+)", str(arguments.get("query") or arguments.get("q")))
    return found[1] if found else ""


def smoke_command(base: str) -> str:
    """The line that smoke-tests a stack with sign-in, a token got first (make token finds out by
    itself whether a person must sign in in a browser, or the local fake GitHub approves)."""
    return f"make smoke URL={base} TOKEN=$(make -s token URL={base})"


def said(response: requests.Response, limit: int = 300) -> str:
    """What an answer says, in a line: its error's message if it has the API's (or OAuth's) error
    shape, else its start, cut at a word, never mid-word."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return f"{error.get('code')}: {error['message']}"
        if isinstance(payload.get("error_description"), str):
            return f"{error}: {payload['error_description']}"
    return cut(response.text, limit)


def cut(text: str, limit: int = 300) -> str:
    """`text` in one line, at most about `limit` characters, cut at a word."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


class CheckFailed(Exception):
    pass


def expect(condition: bool, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def media_type(response: requests.Response) -> str:
    content_type: str = response.headers.get("Content-Type", "")
    return content_type.split(";", maxsplit=1)[0].strip().lower()


class Smoke:
    def __init__(self, base: str, session: requests.Session | None = None, token: str | None = None) -> None:
        self.base = base.rstrip("/")
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = "github-search-plugin-smoke"
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"
        self.token = token
        self.spec: dict[str, Any] | None = None
        self.fence: tuple[str, ...] = ()
        self.results: list[tuple[str, str | None]] = []
        self.skipped: list[str] = []

    def get(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        url = path_or_url if "://" in path_or_url else self.base + path_or_url
        return self.http.get(url, timeout=TIMEOUT, **kwargs)

    def fetch(self, path: str, *types: str) -> requests.Response:
        response = self.get(path)
        expect(response.status_code == 200, f"GET {path} answered {response.status_code}")
        expect(
            media_type(response) in types,
            f"GET {path} has Content-Type {media_type(response)!r}, expected {' or '.join(types)}",
        )
        return response

    def check(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except CheckFailed as exc:
            self.results.append((name, str(exc)))
        except (requests.RequestException, ValueError) as exc:
            self.results.append((name, f"{type(exc).__name__}: {exc}"))
        else:
            self.results.append((name, None))
        name, failure = self.results[-1]
        print(f"PASS {name}" if failure is None else f"FAIL {name}: {failure}", flush=True)

    def unreachable(self) -> str | None:
        """Why the base URL answers nothing at all (no such host, nothing listening, a timeout), or None."""
        try:
            self.http.get(self.base + "/", timeout=TIMEOUT, allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            return f"TLS: {cut(str(exc.args[0] if exc.args else exc), 120)}"
        except requests.exceptions.Timeout:
            return f"no answer within {TIMEOUT} s"
        except requests.exceptions.ConnectionError as exc:
            text = str(exc)
            if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
                return "its host name does not resolve"
            if "Connection refused" in text:
                return "nothing listens there"
            return "the connection failed"
        return None

    # -- the checks ------------------------------------------------------------------------

    def signed_in_stack(self) -> bool:
        """Whether the stack has sign-in on: it publishes protected resource metadata."""
        return (
            self.http.get(self.base + "/.well-known/oauth-protected-resource/mcp", timeout=TIMEOUT).status_code == 200
        )

    def sign_in(self) -> None:
        resource = self.fetch("/.well-known/oauth-protected-resource/mcp", "application/json").json()
        server = self.fetch("/.well-known/oauth-authorization-server", "application/json").json()
        expect(
            resource.get("resource") == f"{self.base}/mcp", f"the metadata's resource is {resource.get('resource')!r}"
        )
        expect(resource.get("authorization_servers") == [server.get("issuer")] == [self.base], "issuer differs")
        expect(server.get("code_challenge_methods_supported") == ["S256"], "PKCE S256 is not the only method")
        anonymous = requests.post(
            self.base + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=TIMEOUT
        )
        challenge = anonymous.headers.get("WWW-Authenticate", "")
        expect(anonymous.status_code == 401, f"/mcp without a token answered {anonymous.status_code}")
        # A renamed copy may pass on too (CloudFront may hide X-Amzn-* from the edge function, which
        # then cannot remove it); what matters is that the challenge is there under its own name.
        renamed = anonymous.headers.get("x-amzn-Remapped-WWW-Authenticate")
        expect(
            bool(challenge) or renamed is None,
            "the challenge came as x-amzn-Remapped-WWW-Authenticate: API Gateway renamed it and the edge "
            "function did not put it back (is the distribution's deployment finished?)",
        )
        expect("resource_metadata=" in challenge, f"the 401 does not name the metadata: {challenge!r}")
        expect(
            "X-Search-Challenge" not in anonymous.headers,
            "the 401 carries X-Search-Challenge, which the edge function removes: is it associated with /mcp?",
        )
        made_up = requests.get(
            self.base + "/api/search",
            params={"q": "pulumi"},
            headers={"Authorization": "Bearer gsa_made-up-by-the-smoke-test"},
            timeout=TIMEOUT,
        )
        refused = made_up.headers.get("WWW-Authenticate", "")
        expect(made_up.status_code == 401, f"a made-up token was answered {made_up.status_code}")
        expect('error="invalid_token"' in refused, f"a made-up token's 401 does not say invalid_token: {refused!r}")

    def manifest(self) -> None:
        manifest = self.fetch("/.well-known/ai-plugin.json", "application/json").json()
        links = {
            "api.url": (manifest.get("api", {}).get("url"), ("application/yaml", "application/x-yaml", "text/yaml")),
            "logo_url": (manifest.get("logo_url"), ("image/png",)),
            "legal_info_url": (manifest.get("legal_info_url"), ("text/html",)),
        }
        for field, (url, types) in links.items():
            expect(isinstance(url, str) and url.startswith(self.base + "/"), f"{field} {url!r} is not on {self.base}")
            response = self.get(url)
            expect(response.status_code == 200, f"{field} {url} answered {response.status_code}")
            expect(media_type(response) in types, f"{field} {url} has Content-Type {media_type(response)!r}")

    def openapi(self) -> None:
        response = self.fetch("/openapi.yaml", "application/yaml", "application/x-yaml", "text/yaml")
        spec = yaml.safe_load(response.text)
        expect(isinstance(spec, dict), "openapi.yaml is not a YAML mapping")
        validate_spec(spec)
        servers = spec.get("servers") or [{}]
        expect(
            servers[0].get("url") == self.base, f"servers[0].url is {servers[0].get('url')!r}, expected {self.base!r}"
        )
        self.spec = spec
        self.fence = fence_of(spec)

    def pages(self) -> None:
        self.fetch("/", "text/html")
        self.fetch("/legal", "text/html")
        logo = self.fetch("/logo.png", "image/png")
        expect(logo.content.startswith(PNG_SIGNATURE), "logo.png is not a PNG")

    def search(self) -> None:
        response = self.get("/api/search", params={"q": "pulumi"})
        expect(response.status_code == 200, f"answered {response.status_code}: {said(response)}")
        expect(media_type(response) == "application/json", f"Content-Type {media_type(response)!r}")
        expect(self.spec is not None, "no valid openapi.yaml to check against")
        schema = self.response_schema("200")
        errors = sorted(self.validator(schema).iter_errors(response.json()), key=str)
        expect(not errors, f"does not match the spec: {errors[0].message if errors else ''}")
        cache = response.headers.get("X-Search-Cache")
        expect(cache in CACHE_OUTCOMES, f"X-Search-Cache is {cache!r}, expected one of {', '.join(CACHE_OUTCOMES)}")
        head = self.http.head(self.base + "/api/search", params={"q": "pulumi"}, timeout=TIMEOUT)
        expect(head.status_code == 200, f"HEAD answered {head.status_code}")

    def more_of_github(self) -> None:
        for _, arguments, path, params in MORE_OF_GITHUB:
            response = self.get(path, params=params)
            if fenced_out(self.fence, touches(arguments)):  # the stack's fence leaves it out: 403, saying so
                expect(response.status_code == 403, f"{path}, outside the fence, answered {response.status_code}")
                expect(response.json()["error"]["code"] == "outside_scope", f"{path}: {said(response)}")
                continue
            if path == "/api/search/code" and response.status_code == 503:
                expect(response.json()["error"]["code"] == "not_configured", f"{path}: {said(response)}")
                continue  # no token on the stack: said so, in the error shape
            expect(response.status_code == 200, f"{path} answered {response.status_code}: {said(response)}")
            template = path if not path.startswith("/api/repos/") else "/api/repos/{owner}/{repo}/contents/{path}"
            errors = sorted(self.validator(self.response_schema("200", template)).iter_errors(response.json()), key=str)
            expect(not errors, f"{path} does not match the spec: {errors[0].message if errors else ''}")

    def errors(self) -> None:
        cases = [
            ("GET", "/api/search", 400, "invalid_request"),
            ("POST", "/api/search?q=pulumi", 405, "method_not_allowed"),
            ("GET", "/api/no-such-path", 404, "not_found"),
        ]
        for method, path, status, code in cases:
            response = self.http.request(method, self.base + path, timeout=TIMEOUT)
            expect(
                response.status_code == status, f"{method} {path} answered {response.status_code}, expected {status}"
            )
            expect(media_type(response) == "application/json", f"{method} {path} is not JSON")
            error = response.json().get("error", {}) if isinstance(response.json(), dict) else {}
            expect(
                set(error) == {"code", "message"} and error["code"] == code,
                f"{method} {path} error body {said(response)}",
            )
            expect(response.headers.get("Cache-Control") == "no-store", f"{method} {path} is cacheable")

    def https_only(self) -> None:
        insecure = "http://" + self.base.removeprefix("https://")
        response = self.http.get(insecure + "/", timeout=TIMEOUT, allow_redirects=False)
        location = response.headers.get("Location", "")
        expect(response.status_code in (301, 302, 307, 308), f"http:// answered {response.status_code}, not a redirect")
        expect(location.startswith("https://"), f"http:// redirects to {location!r}")
        hsts = self.get("/").headers.get("Strict-Transport-Security", "")
        expect("max-age=" in hsts, "no Strict-Transport-Security header")

    def mcp(self) -> None:
        """What an MCP client does first: initialize, list the tools, call one; GET is 405."""
        endpoint = self.base + "/mcp"
        headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MCP_VERSION}

        def rpc(method: str, params: dict[str, Any], id_: int) -> dict[str, Any]:
            body = {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}
            answer = self.http.post(endpoint, json=body, headers=headers, timeout=TIMEOUT)
            expect(answer.status_code == 200, f"{method} answered {answer.status_code}: {said(answer)}")
            expect(media_type(answer) == "application/json", f"{method} answered {media_type(answer)!r}")
            reply: dict[str, Any] = answer.json()
            expect("result" in reply, f"{method} failed: {cut(str(reply.get('error')))}")
            return dict(reply["result"])

        client = {"name": "github-search-smoke", "version": "1"}
        init = rpc("initialize", {"protocolVersion": MCP_VERSION, "capabilities": {}, "clientInfo": client}, 1)
        expect(init.get("protocolVersion") == MCP_VERSION, f"initialize negotiated {init.get('protocolVersion')!r}")
        tools = {tool["name"]: tool for tool in rpc("tools/list", {}, 2).get("tools", [])}
        expect(set(MCP_TOOLS) <= set(tools), f"tools/list has {sorted(tools)}, expected {', '.join(MCP_TOOLS)}")
        calls = [("search_repositories", {"query": "pulumi", "limit": 3})] + [(t, a) for t, a, _, _ in MORE_OF_GITHUB]
        for n, (name, arguments) in enumerate(calls, start=3):
            call = rpc("tools/call", {"name": name, "arguments": arguments}, n)
            text = cut(" ".join(str(c.get("text", "")) for c in call.get("content") or []))
            if name == "search_code" and call.get("isError") and "githubToken" in text:
                continue  # a stack without a token: GitHub answers code search only with one, and it says so
            if name != "search_repositories" and fenced_out(self.fence, touches(arguments)):
                expect(call.get("isError") is True and OUTSIDE_SAID in text, f"{name}, outside the fence: {text}")
                continue
            expect(call.get("isError") is not True, f"{name} failed: {text}")
            problems = list(
                Draft202012Validator(tools[name]["outputSchema"]).iter_errors(call.get("structuredContent"))
            )
            expect(not problems, f"{name}'s structuredContent does not match its outputSchema: {problems[:1]}")
        get = self.http.get(endpoint, headers={"Accept": "text/event-stream"}, timeout=TIMEOUT)
        expect(get.status_code == 405, f"GET /mcp answered {get.status_code}, expected 405 (no SSE stream)")

    # -- helpers ---------------------------------------------------------------------------

    def response_schema(self, status: str, path: str = "/api/search") -> dict[str, Any]:
        assert self.spec is not None
        operation = self.spec["paths"][path]["get"]
        schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
        return schema

    def validator(self, schema: dict[str, Any]) -> OAS31Validator:
        # The spec's own components beside the schema, so "#/components/..." references resolve.
        return OAS31Validator({**schema, "components": (self.spec or {}).get("components", {})})

    def run(self) -> bool:
        self.check("manifest: valid JSON, every URL on this base with the right type", self.manifest)
        self.check("openapi.yaml: valid OpenAPI, servers[0].url is the base", self.openapi)
        self.check("pages: / and /legal are HTML, /logo.png is a PNG", self.pages)
        signed_in = self.signed_in_stack()
        if signed_in:
            self.check(
                "sign-in: metadata name one issuer and the MCP URL; 401s carry WWW-Authenticate (no token, a bad one)",
                self.sign_in,
            )
        searches = (
            ("search: /api/search?q=pulumi is 200, matches the spec, says X-Search-Cache; HEAD too", self.search),
            ("code, issues, files: each REST route answers its schema (or 403 outside a fence)", self.more_of_github),
            ("errors: no q 400, POST 405, unknown path 404, each JSON, not cached", self.errors),
            ("mcp: initialize, tools/list (7 tools), a call of each new tool matching its schema; GET 405", self.mcp),
        )
        for name, check in searches:
            if signed_in and not self.token:
                self.skipped.append(name)
                print(f"SKIP {name}: sign-in is on; pass a token: {smoke_command(self.base)}")
            else:
                self.check(name, check)
        if urlsplit(self.base).scheme == "https":
            self.check("https: http:// redirects to https://, HSTS is set", self.https_only)
        failed = [name for name, failure in self.results if failure]
        skipped = f", {len(self.skipped)} skipped (no TOKEN)" if self.skipped else ""
        print(f"{len(self.results) - len(failed)} passed, {len(failed)} failed{skipped}", flush=True)
        return not failed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].startswith(("http://", "https://")):
        print(
            "usage: python -m tools.smoke <base URL>   e.g. make smoke URL=$(pulumi stack output url)", file=sys.stderr
        )
        return 2
    smoke = Smoke(args[0], token=os.environ.get("SMOKE_TOKEN") or None)
    unreachable = smoke.unreachable()
    if unreachable:
        print(f"smoke test not run: {smoke.base} cannot be reached ({unreachable})", file=sys.stderr)
        return 1
    return 0 if smoke.run() else 1


if __name__ == "__main__":
    sys.exit(main())
