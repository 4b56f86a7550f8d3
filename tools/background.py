"""The local server as a background process: started on a free port, stopped with SIGTERM.

Used by the tests and by `make conformance`, which need a real server to talk to.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Settings a developer's shell may carry that would change what the server does.
INHERITED = (
    "ALLOWED_ORIGINS",
    "MCP_ALLOWED_ORIGINS",
    "GITHUB_TOKEN",
    "UPSTREAM_CONNECT_TIMEOUT",
    "UPSTREAM_READ_TIMEOUT",
    "PORT",
    "IDLE_TIMEOUT",
    "AUTH",
    "AUTH_ALLOWED_USERS",
    "AUTH_ALLOWED_ORGS",
    "AUTH_TABLE",
    "PUBLIC_URL",
    "GITHUB_OAUTH_CLIENT_ID",
    "GITHUB_OAUTH_CLIENT_SECRET",
    "CLIENT_METADATA_TEST_ORIGINS",
    "FAKE_GITHUB_LOGIN",
    "SEARCH_SCOPE",
    "PRIVATE_REPOSITORIES",
    "TOKEN_KEY_ID",
    "TOKEN_KEY_ENDPOINT",
)


def free_port() -> int:
    """A loopback port nobody listens on (until someone binds it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(github_url: str | None, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra}
    for name in set(INHERITED) - set(extra):
        env.pop(name, None)
    if github_url is not None:
        env["GITHUB_API_URL"] = github_url
    return env


_BANNER = re.compile(r"local: http://127\.0\.0\.1:(\d+)")


class LocalServer:
    def __init__(
        self, github_url: str | None, static_dir: Path | None = None, *flags: str, env: dict[str, str] | None = None
    ) -> None:
        # Port 0, and the port read from the banner: a free port chosen here could be taken by
        # another test's server before this one binds it, and then that server would answer.
        args = [sys.executable, "-m", "tools.local_server", "--port", "0", *flags]
        if static_dir is not None:
            args += ["--static-dir", str(static_dir)]
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=server_env(github_url, **(env or {})),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Drained as it is written: a long-lived server logs a line per request, and a full pipe
        # would stop it mid-write.
        self._lines: list[str] = []
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = _BANNER.search(self.output())
            if found:
                self.port = int(found.group(1))
                self.base = f"http://127.0.0.1:{self.port}"
                return
            if self.process.poll() is not None:
                self._drain.join(timeout=10)
                raise RuntimeError(self.output())
            time.sleep(0.02)
        self.process.kill()
        raise RuntimeError(f"local server did not start: {self.output()}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.append(line)

    def output(self) -> str:
        """What the server has written so far."""
        return "".join(self._lines)

    def written(self, text: str, timeout: float = 10) -> str:
        """What the server has written, once it has written `text`."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local server did not write {text!r}: {self.output()}")
            time.sleep(0.02)
        return self.output()

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)
        self._drain.join(timeout=10)
        return self.output()
