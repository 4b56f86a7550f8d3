"""Serve the plugin on a laptop: the same files and the same handler a deployed stack serves.

    make dev                        # http://127.0.0.1:3333, real GitHub (GITHUB_TOKEN optional)
    python -m tools.local_server --fake-github   # fully offline, answers from a fake GitHub

Environment: PORT, GITHUB_TOKEN, GITHUB_API_URL, ALLOWED_ORIGINS (comma-separated; default the
ChatGPT origins), CONTACT_EMAIL.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from infra.function_code import HANDLER_DIR
from infra.site import STATIC_DIR, SiteFile, site_files

DEFAULT_ORIGINS = "https://chatgpt.com,https://chat.openai.com"
log = logging.getLogger("local_server")


def api_gateway_event(method: str, target: str, headers: dict[str, str]) -> dict[str, Any]:
    """The REST API proxy event API Gateway would hand the function for this request."""
    parts = urlsplit(target)
    multi = parse_qs(parts.query, keep_blank_values=True)
    return {
        "resource": parts.path,
        "path": parts.path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,  # API Gateway keeps the last
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "stage": "local",
            "httpMethod": method,
            "path": parts.path,
            "requestId": f"local-{time.time_ns()}",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def make_server(port: int, static_dir: Path = STATIC_DIR, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    if str(HANDLER_DIR) not in sys.path:
        sys.path.insert(0, str(HANDLER_DIR))
    import app  # the function's own module, as Lambda imports it

    server = ThreadingHTTPServer((host, port), BaseHTTPRequestHandler)
    base_url = f"http://{host}:{server.server_address[1]}"
    files: dict[str, SiteFile] = {
        f"/{f.key}": f for f in site_files(base_url, os.environ.get("CONTACT_EMAIL"), static_dir)
    }
    files["/"] = files["/index.html"]
    allowed = {o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "github-search-local"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request, written by `_send`

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def do_OPTIONS(self) -> None:
            self._serve("OPTIONS")

        def _serve(self, method: str) -> None:
            started = time.perf_counter()
            path = urlsplit(self.path).path
            if path == "/api/search":
                headers = {k: v for k, v in self.headers.items()}
                response = app.handler(api_gateway_event(method, self.path, headers), None)
                status, body = response["statusCode"], response["body"].encode()
                out_headers = dict(response.get("headers") or {})
            elif path.startswith("/api/"):
                status, out_headers, body = 404, self._error_headers(), _error("not_found", f"no API at {path}")
            elif path in files and method in ("GET", "HEAD"):
                f = files[path]
                status, body = 200, f.body
                out_headers = {"Content-Type": f.content_type, "Cache-Control": f.cache_control, **self._cors()}
            elif method == "OPTIONS" and path in files and self._cors():
                status, body = 204, b""
                out_headers = {
                    **self._cors(),
                    "Access-Control-Allow-Methods": "GET, OPTIONS",
                    "Access-Control-Max-Age": "600",
                }
            else:
                status, body = 404, b"Not Found\n"
                out_headers = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
            self._send(method, status, out_headers, body, started)

        def _cors(self) -> dict[str, str]:
            origin = self.headers.get("Origin")
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin in allowed else {}

        def _error_headers(self) -> dict[str, str]:
            return {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", **self._cors()}

        def _send(self, method: str, status: int, headers: dict[str, str], body: bytes, started: float) -> None:
            # Logged before the client can see the answer: request threads are daemons, so a line
            # written after it could be lost to a Ctrl-C or SIGTERM that follows the last response.
            ms = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %s %.1f ms", method, self.path, status, headers.get("X-Cache", "-"), ms)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(body)

    server.RequestHandlerClass = Handler
    return server


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3333")))
    parser.add_argument("--static-dir", type=Path, default=STATIC_DIR, help="serve other static files (templates)")
    parser.add_argument("--fake-github", action="store_true", help="answer from a built-in fake GitHub (offline)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stdout)
    logging.getLogger("github_search").setLevel(logging.WARNING)  # the access line says it all
    os.environ.setdefault("ALLOWED_ORIGINS", DEFAULT_ORIGINS)
    if args.fake_github:
        from tools.fake_github import FakeGitHub

        os.environ["GITHUB_API_URL"] = FakeGitHub().start().url

    # `kill` (and CI's process teardown) ends the server as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    server = make_server(args.port, args.static_dir)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    github = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    token = "with a token" if os.environ.get("GITHUB_TOKEN") else "without a token (10 searches/min)"
    print(
        f"GitHub search plugin, local: {base}  (GitHub: {github}, {token})\n"
        f"  landing page  {base}/\n"
        f"  search        {base}/api/search?q=pulumi&limit=3\n"
        f"  manifest      {base}/.well-known/ai-plugin.json\n"
        f"  OpenAPI       {base}/openapi.yaml\n"
        f"  smoke test    make smoke URL={base}\n"
        "Ctrl-C stops.",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
