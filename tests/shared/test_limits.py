"""Request limits: BodyLimit (413 before a body is kept), the bounded request head (431) and
the connection limit (503) of the uvicorn start both servers use, and clipped echoes."""

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from shared.contract import (
    DESCRIPTION_INPUT_MAX_CHARS,
    DUE_INPUT_MAX_CHARS,
    TAG_INPUT_MAX_CHARS,
    TITLE_INPUT_MAX_CHARS,
)
from shared.limits import BodyLimit, clipped, server_limits
from shared.settings import Settings
from testbed.servers import free_port

LIMIT = 1000
HEAD_LIMIT = 4096


class BodyReader:
    """An app that reads the whole body (as FastAPI does) and answers with its size."""

    def __init__(self) -> None:
        self.calls = 0
        self.sizes: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = await Request(scope, receive).body()
        self.sizes.append(len(body))
        await JSONResponse({"size": len(body)})(scope, receive, send)


def client_for(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=BodyLimit(app, max_bytes=LIMIT))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")


async def pieces(total: int, size: int = 300) -> AsyncIterator[bytes]:
    """`total` bytes of 'x' in pieces, sent chunked: no Content-Length."""
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


TOO_LARGE = {"error": "body_too_large", "message": f"request body is over {LIMIT} bytes"}


async def test_a_content_length_over_the_limit_is_refused_before_the_app_runs() -> None:
    app = BodyReader()
    async with client_for(app) as client:
        response = await client.post("/", content=b"x" * (LIMIT + 1))

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert app.calls == 0


async def test_a_chunked_body_over_the_limit_is_refused_before_the_app_runs() -> None:
    app = BodyReader()
    async with client_for(app) as client:
        response = await client.post("/", content=pieces(50 * LIMIT))

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    # The app never saw a body cut off half-way (the MCP SDK logs that as an error).
    assert app.calls == 0


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_of_exactly_the_limit_passes(chunked: bool) -> None:
    app = BodyReader()
    content = pieces(LIMIT) if chunked else b"x" * LIMIT
    async with client_for(app) as client:
        response = await client.post("/", content=content)

    assert (response.status_code, response.json()) == (200, {"size": LIMIT})


async def test_the_refusal_never_echoes_the_body() -> None:
    marker = b"SECRET-INPUT-" * 200
    async with client_for(BodyReader()) as client:
        declared = await client.post("/", content=marker)
        streamed = await client.post("/", content=pieces(LIMIT + 1, size=LIMIT + 1))

    for response in (declared, streamed):
        assert response.status_code == 413
        assert b"SECRET" not in response.content and b"xxx" not in response.content
        assert len(response.content) < 100


async def test_other_scopes_and_bodiless_requests_pass_untouched() -> None:
    app = BodyReader()
    async with client_for(app) as client:
        response = await client.get("/")

    assert (response.status_code, response.json()) == (200, {"size": 0})


def test_clipped_quotes_the_start_and_says_how_long_the_text_was() -> None:
    assert clipped("short") == "short"
    assert clipped("a" * 100) == "a" * 100
    assert clipped("a" * 1_000_000) == "a" * 100 + "… (1,000,000 characters)"
    assert clipped("abcdef", limit=3) == "abc… (6 characters)"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_body_bytes", 100, "must be at least 4096"),
        ("max_header_bytes", 4095, "must be at least 4096"),
        ("max_connections", 0, "must be at least 1"),
    ],
)
def test_limits_too_small_for_ordinary_requests_are_refused(field, value, message) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, **{field: value})


def test_the_default_limits() -> None:
    settings = Settings(_env_file=None)
    assert (settings.max_body_bytes, settings.max_header_bytes, settings.max_connections) == (
        64_000,
        32_768,
        1000,
    )


# --- the uvicorn start: request heads and connections --------------------------------


async def answer_ok(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await JSONResponse({"ok": True})(scope, receive, send)


@pytest.fixture(scope="module")
def server_port() -> Iterator[int]:
    """A real uvicorn server started as the servers start theirs, with small limits."""
    settings = Settings(_env_file=None, max_header_bytes=HEAD_LIMIT, max_connections=4)
    port = free_port()
    config = uvicorn.Config(
        answer_ok, host="127.0.0.1", port=port, log_level="error", **server_limits(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def exchange(port: int, request: bytes) -> bytes:
    """Send a raw request and read the answer until the server closes or stops sending."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and answer.endswith(b"}"):
                    break
        except ConnectionResetError:
            pass
        return answer


def get_with(*headers: bytes) -> bytes:
    lines = [b"GET / HTTP/1.1", b"Host: 127.0.0.1", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_a_head_within_the_bound_is_served(server_port: int) -> None:
    answer = exchange(server_port, get_with(b"X-Fill: " + b"a" * (HEAD_LIMIT - 200)))
    assert answer.startswith(b"HTTP/1.1 200 OK")


def test_a_complete_head_over_the_bound_gets_431_without_reaching_the_app(server_port: int) -> None:
    answer = exchange(server_port, get_with(b"X-Fill: " + b"a" * HEAD_LIMIT))

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 Request Header Fields Too Large")
    assert b"connection: close" in head
    assert body == (
        b'{"error": "headers_too_large", "message": "request line and headers are over '
        b'4096 bytes"}'
    )


def test_many_small_headers_are_bounded_by_their_total_size(server_port: int) -> None:
    answer = exchange(server_port, get_with(*[b"a: b"] * 2000))
    assert answer.startswith(b"HTTP/1.1 431")


def test_a_header_that_never_ends_is_refused_as_it_arrives(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        refused = False
        try:
            for _ in range(400):  # up to 25 MB, never finishing the header
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            refused = True
        if not refused:
            answer = sock.recv(65536)
            refused = answer.startswith(b"HTTP/1.1 431") or answer == b""
    assert refused
    assert exchange(server_port, get_with()).startswith(b"HTTP/1.1 200 OK")


def test_connections_beyond_the_limit_get_503(server_port: int) -> None:
    idle = [socket.create_connection(("127.0.0.1", server_port)) for _ in range(4)]
    try:
        # Connections count as soon as uvicorn accepts them.
        deadline = time.monotonic() + 5
        while not (answer := exchange(server_port, get_with())).startswith(b"HTTP/1.1 503"):
            assert time.monotonic() < deadline, answer[:100]
            time.sleep(0.05)
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 5
    while not (answer := exchange(server_port, get_with())).startswith(b"HTTP/1.1 200"):
        assert time.monotonic() < deadline, answer[:100]
        time.sleep(0.05)


def test_the_largest_valid_requests_fit_the_default_body_limit() -> None:
    # Worst cases as a client may send them: JSON with every non-ASCII character escaped
    # (Python's default), astral characters taking 12 bytes each, and every field at the
    # most the bounds read while the rules still accept it (spaces are trimmed, a tag's '#'
    # dropped, duplicate tags merged).
    wide = "\U0001f600"
    add_task = {
        "jsonrpc": "2.0",
        "id": 2**53,
        "method": "tools/call",
        "params": {
            "name": "add_task",
            "arguments": {
                "title": " " * (TITLE_INPUT_MAX_CHARS - 200) + wide * 200,
                "description": " " * (DESCRIPTION_INPUT_MAX_CHARS - 2000) + wide * 2000,
                "tags": [f"#{i:032d}".center(TAG_INPUT_MAX_CHARS) for i in range(20)] * 5,
                "due": " " * (DUE_INPUT_MAX_CHARS - 25) + "2025-03-10T17:00:00+02:00",
                "priority": "medium",
                "recurrence": "monthly",
            },
            "_meta": {
                "taskchat/user_id": "u" * 200,
                "taskchat/call_id": "c" * 100,
                "taskchat/request_id": "r" * 64,
                "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01",
                "progressToken": "p" * 64,
            },
        },
    }
    message = {
        "type": "threads.add_user_message",
        "params": {
            "thread_id": "thr_" + "t" * 60,
            "input": {
                "content": [{"type": "input_text", "text": wide * 3000}],
                "quoted_text": wide * 1000,
                "attachments": [],
                "inference_options": {"tool_choice": None, "model": None},
            },
        },
    }
    limit = Settings(_env_file=None).max_body_bytes
    for request in (add_task, message):
        assert len(json.dumps(request).encode()) < limit


async def test_an_mcp_endpoints_refusal_is_a_json_rpc_error():
    transport = httpx.ASGITransport(app=BodyLimit(BodyReader(), max_bytes=LIMIT, jsonrpc=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post("/mcp", content=b"x" * (LIMIT + 1))

    assert response.status_code == 413
    assert response.json() == {
        "jsonrpc": "2.0", "id": None,
        "error": {"code": -32600, "message": f"request body is over {LIMIT} bytes"},
    }
