"""`make dev`'s server against clients that misbehave: slow or silent connections are closed, a
client that hangs up costs one log line, chunked bodies are read, and every malformed request gets
a whole HTTP/1.1 answer in the API's error shape. A raw socket client on loopback, bounded in
connections and time."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.contract import error_codes_in_spec, spec
from tools.background import LocalServer
from tools.fake_github import FakeGitHub

IDLE = 1.0  # the server's IDLE_TIMEOUT here, so that tests wait a second, not ten
PING = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()


@pytest.fixture(scope="module")
def server(fake_server: FakeGitHub) -> Iterator[LocalServer]:
    running = LocalServer(fake_server.url, env={"IDLE_TIMEOUT": str(IDLE)})
    yield running
    running.stop()


def connect(server: LocalServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


class Answer:
    def __init__(self, status_line: str, headers: dict[str, str], body: bytes) -> None:
        self.status_line, self.headers, self.body = status_line, headers, body
        self.status = int(status_line.split(" ")[1])

    def error(self) -> dict[str, Any]:
        assert self.headers["content-type"].startswith("application/json")
        found: dict[str, Any] = json.loads(self.body)["error"]
        return found


def read_answer(sock: socket.socket, buffered: bytearray) -> Answer:
    """One whole HTTP/1.1 answer: status line, headers, a Content-Length body."""
    while b"\r\n\r\n" not in buffered:
        data = sock.recv(65536)
        assert data, f"the connection closed before a whole answer: {bytes(buffered)[:200]!r}"
        buffered += data
    head, _, rest = bytes(buffered).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("iso-8859-1").split("\r\n")
    assert re.fullmatch(r"HTTP/1\.1 \d{3} .*", status_line), status_line
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    length = int(headers["content-length"])
    while len(rest) < length:
        data = sock.recv(65536)
        assert data, "the connection closed in the middle of the body"
        rest += data
    buffered[:] = rest[length:]
    return Answer(status_line, headers, rest[:length])


def exchange(server: LocalServer, raw: bytes) -> tuple[list[Answer], bool]:
    """Send `raw`, read every answer until the server closes: (answers, closed by the server)."""
    answers: list[Answer] = []
    with connect(server) as sock:
        sock.sendall(raw)
        buffered = bytearray()
        sock.settimeout(IDLE * 3)
        try:
            while True:
                if not buffered:
                    data = sock.recv(65536)
                    if not data:
                        return answers, True
                    buffered += data
                answers.append(read_answer(sock, buffered))
        except TimeoutError:
            return answers, False


def closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def threads(server: LocalServer) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(re.search(r"^Threads:\s+(\d+)$", status, re.M).group(1))  # type: ignore[union-attr]


# -- slow and silent clients ----------------------------------------------------------------------


def test_stalled_bodies_are_closed_and_their_threads_freed(fake_server: FakeGitHub):
    # Its own server, so that threads are counted alone, and three seconds: long enough for all 40
    # to be held at once on a loaded machine, short enough to wait for.
    idle = 3.0
    server = LocalServer(fake_server.url, env={"IDLE_TIMEOUT": str(idle)})
    try:
        before = 1  # the main thread, once the start-up probe's request thread is gone
        deadline = time.monotonic() + 5
        while threads(server) > before and time.monotonic() < deadline:
            time.sleep(0.02)
        stalled = []
        for _ in range(40):
            sock = connect(server)
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n")
            sock.sendall(b'{"jsonrpc"')  # 10 of the 200 bytes announced, then nothing
            stalled.append(sock)
        deadline, peak = time.monotonic() + 5, 0
        while peak < before + 40 and time.monotonic() < deadline:
            peak = max(peak, threads(server))
            time.sleep(0.01)
        assert peak >= before + 40  # each stalled client holds a thread...
        started = time.monotonic()
        assert all(closed_within(sock, idle + 5) for sock in stalled)  # ...until the idle timeout
        assert time.monotonic() - started < idle + 5
        for sock in stalled:
            sock.close()
        deadline = time.monotonic() + 5
        while threads(server) > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threads(server) <= before
    finally:
        out = server.stop()
    assert out.count("Request timed out") == 40 and "Traceback" not in out


def test_an_idle_keep_alive_connection_is_closed(server: LocalServer):
    with connect(server) as sock:
        sock.sendall(b"GET /api/search?q=idle HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answer(sock, bytearray()).status == 200
        assert closed_within(sock, IDLE + 5)


def test_a_client_that_hangs_up_early_costs_one_line_not_a_traceback(fake_server: FakeGitHub):
    running = LocalServer(fake_server.url, env={"IDLE_TIMEOUT": str(IDLE)})
    try:
        sock = connect(running)
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.2)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        sock.close()
        time.sleep(0.5)
        assert requests_ok(running)
    finally:
        out = running.stop()
    assert "Traceback" not in out and 'File "' not in out
    assert re.search(r"client 127\.0\.0\.1: ConnectionResetError, connection closed", out), out


def requests_ok(server: LocalServer) -> bool:
    answers, _ = exchange(server, b"GET /api/search?q=after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return [a.status for a in answers] == [200]


# -- bodies ---------------------------------------------------------------------------------------


def chunked(*chunks: bytes, trailer: bytes = b"") -> bytes:
    return b"".join(b"%x;ext=1\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n" + trailer + b"\r\n"


def test_a_chunked_body_is_read_and_the_next_request_on_the_connection_still_parses(server: LocalServer):
    request = b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    following = b"GET /api/search?q=next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    body = chunked(PING[:7], PING[7:], trailer=b"X-Trailer: 1\r\n")
    answers, closed = exchange(server, request + body + following)
    assert [a.status for a in answers] == [200, 200] and closed
    assert json.loads(answers[0].body) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert json.loads(answers[1].body)["repos"]


@pytest.mark.parametrize(
    ("head", "body", "status", "says"),
    [
        ("Transfer-Encoding: chunked", b"zz\r\n{}\r\n0\r\n\r\n", 400, "not hexadecimal"),
        ("Transfer-Encoding: chunked", b"2\r\n{}XX0\r\n\r\n", 400, "does not end with CRLF"),
        ("Transfer-Encoding: chunked", b"%x\r\n" % (2 << 20), 413, "at most 1048576 bytes"),
        ("Transfer-Encoding: gzip", b"", 400, "is not supported"),
        ("Content-Length: abc", b"", 400, "whole number of bytes"),
        ("Content-Length: -1", b"", 400, "whole number of bytes"),
        ("Content-Length: 99999999", b"", 413, "at most 1048576 bytes"),
    ],
)
def test_a_body_that_cannot_be_read_is_a_client_error_and_closes(
    server: LocalServer, head: str, body: bytes, status: int, says: str
):
    raw = f"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{head}\r\n\r\n".encode() + body
    answers, closed = exchange(server, raw + b"GET /api/search?q=smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    [answer] = answers  # nothing after the body is read as a request of its own
    assert closed and answer.status == status
    assert answer.error()["code"] == "invalid_request" and says in answer.error()["message"]


# -- malformed requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [b"GET / HTTP/9.9", b"\x01\x02\x03\x7f", b"BOGUS", b"GET / HTTP/x.y", b"GET /" + b"a" * 70_000 + b" HTTP/1.1"],
    ids=["http-9.9", "control-bytes", "one-word", "bad-version", "too-long"],
)
def test_a_malformed_request_line_gets_a_whole_http_1_1_client_error(server: LocalServer, line: bytes):
    answers, closed = exchange(server, line + b"\r\nHost: x\r\n\r\n")
    [answer] = answers
    assert closed and 400 <= answer.status < 500
    assert answer.error()["code"] in ("invalid_request", "method_not_allowed")
    assert answer.headers["cache-control"] == "no-store"


def test_every_status_and_code_the_local_server_sends_is_documented():
    source = (Path(__file__).parent.parent / "tools" / "local_server.py").read_text()
    codes = set(re.findall(r'_error\("([a-z_]+)"', source)) | {"not_found", "method_not_allowed", "invalid_request"}
    assert codes <= error_codes_in_spec()
    documented = set(spec()["paths"]["/api/search"]["get"]["responses"])
    statuses = {int(s) for s in re.findall(r"BadBody\((\d{3})", source)}
    assert all(str(s) in documented or f"{str(s)[0]}XX" in documented for s in statuses), statuses


def test_the_access_log_says_what_arrived_not_the_previous_request(fake_server: FakeGitHub):
    running = LocalServer(fake_server.url, env={"IDLE_TIMEOUT": str(IDLE)})
    try:
        answers, _ = exchange(running, b"GET /api/search?q=keepalive HTTP/1.1\r\nHost: x\r\n\r\nBOGUS\r\n\r\n")
        assert [a.status for a in answers] == [200, 400]
    finally:
        out = running.stop()
    lines = [line for line in out.splitlines() if " ms" in line]
    assert any("GET /api/search?q=keepalive 200" in line for line in lines)
    assert any(re.search(r" - BOGUS 400 ", line) for line in lines), lines
    assert not any("keepalive 400" in line for line in lines)
