"""Search GitHub through a stack with sign-in, from the official MCP Python SDK (`pip install "mcp==2.3.0"`).

    URL=https://search.example.com python search_with_sign_in.py

The SDK finds the stack's authorization server by itself (the 401's resource metadata), registers
this script as a client, and opens your browser on the stack's consent page; the browser comes
back to a port on 127.0.0.1 with the code. Tokens live in memory: the next run signs in again.
"""

import asyncio
import os
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

MCP_URL = os.environ.get("URL", "http://127.0.0.1:3333").rstrip("/") + "/mcp"
CALLBACK_PORT = int(os.environ.get("CALLBACK_PORT", "8765"))  # where the browser brings the code back
received: dict[str, str] = {}


class Memory:
    """Where the SDK keeps the client's registration and tokens (here: for this run only)."""

    tokens: OAuthToken | None = None
    client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client: OAuthClientInformationFull) -> None:
        self.client = client


class Callback(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        received.update({k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()})
        body = b"Signed in: back to your terminal."
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


async def main() -> None:
    with HTTPServer(("127.0.0.1", CALLBACK_PORT), Callback) as callback:  # listening before the browser opens

        async def open_browser(url: str) -> None:
            webbrowser.open(url)

        async def wait_for_the_code() -> AuthorizationCodeResult:
            await asyncio.to_thread(callback.handle_request)
            return AuthorizationCodeResult(code=received["code"], state=received.get("state"), iss=received.get("iss"))

        auth = OAuthClientProvider(
            MCP_URL,
            OAuthClientMetadata(
                client_name="My search script",
                redirect_uris=[AnyUrl(f"http://127.0.0.1:{CALLBACK_PORT}/callback")],
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                token_endpoint_auth_method="none",  # a public client: it keeps no secret
            ),
            Memory(),
            redirect_handler=open_browser,
            callback_handler=wait_for_the_code,
        )
        async with (
            httpx2.AsyncClient(auth=auth, timeout=30) as http,
            Client(streamable_http_client(MCP_URL, http_client=http)) as client,
        ):
            found = await client.call_tool("search_repositories", {"query": "pulumi language:python", "limit": 3})
            for repo in (found.structured_content or {})["repos"]:
                print(repo["full_name"], repo["star"], repo["url"])


if __name__ == "__main__":
    asyncio.run(main())
