from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import app
import pytest

from tools.background import LocalServer, free_port
from tools.fake_github import FakeGitHub

__all__ = ["free_port"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tests.signin_helpers import MetadataHost

TOKEN = "ghp_TEST0nlyT0ken_never_log_me_1234567890"
SIGNED_IN_ISSUER = "https://search.example.com"


def readme_section(heading: str, document: str = "README.md") -> str:
    """The `## heading` section of the README (or another page, e.g. `docs/deploying.md`), up to
    the next `## `."""
    text = (Path(__file__).parent.parent / document).read_text()
    return text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeGitHub]:
    server = FakeGitHub().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server: FakeGitHub) -> FakeGitHub:
    fake_server.reset()
    return fake_server


@pytest.fixture
def function_env(fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """The function's environment as Pulumi sets it, pointed at the fake GitHub; a cold start."""
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("CACHE_TTL_SECONDS", "300")
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    app.reset()
    yield fake
    app.reset()


def event(
    params: dict[str, Any] | None = None, method: str = "GET", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway REST proxy event for /api/search."""
    return {
        "resource": "/api/search",
        "path": "/api/search",
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": None,
        "queryStringParameters": params,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"stage": "v1", "requestId": "test"},
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def signed_in_env(function_env: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The function with sign-in on (state in memory), and an access token for octocat."""
    from signin import door

    for name, value in {
        "AUTH": "github",
        "PUBLIC_URL": SIGNED_IN_ISSUER,
        "GITHUB_OAUTH_CLIENT_ID": "app",
        "GITHUB_OAUTH_CLIENT_SECRET": "app-secret",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AUTH_TABLE", raising=False)
    door.reset()
    server = door._server({})
    function_env.oauth.tokens["gho_octocat_user_token"] = "octocat"
    server.store.put("grant#g1", {"login": "octocat", "github_token": "gho_octocat_user_token", "client_id": "c"}, 0)
    yield json.loads(server._issue("g1", {"client_id": "c"}, "search")["body"])["access_token"]
    door.reset()


# The sign-in tests' servers (tests/test_sign_in*.py): a client's web host for metadata
# documents, and the local server with sign-in on, in front of the fake GitHub.
@pytest.fixture(scope="module")
def signin_host() -> Iterator[MetadataHost]:
    from tests.signin_helpers import MetadataHost  # it imports this module's TOKEN

    running = MetadataHost()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def signin(fake_server: FakeGitHub, signin_host: MetadataHost) -> Iterator[LocalServer]:
    from tests.signin_helpers import signin_server

    running = signin_server(fake_server, signin_host.url)
    yield running
    running.stop()


# Headless Chromium (Debian's package, which `make test` installs), for the consent page's tests.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# As the machine's probe runs it: no sandbox (root), and no background traffic to the closed network.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # only the browser tests load it

    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    )
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def chromium(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()
