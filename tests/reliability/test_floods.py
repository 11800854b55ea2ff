"""Floods against real server processes: 50 MB bodies and 50 MB headers.

Each is refused (413 for a body, 431 or a closed connection for a header) before the server
keeps it, so its memory (VmRSS and the peak, VmHWM, from /proc) barely moves, and it goes
on answering. Before the limits, 12 such bodies took the chat server from 190 MB to 1.5 GB
and 8 such headers the task server's peak from 111 MB to 526 MB.
"""

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from testbed.servers import Server
from tests.e2e.stack import SERVICE_TOKEN, Stack, running_stack
from tests.reliability.harness import JWT_ENV, token

pytestmark = pytest.mark.timeout(300)

MB = 1024 * 1024
FLOOD_BYTES = 50 * MB
CONCURRENT = 4
# How much a server's memory may grow (peak included) while refusing every flood at once.
GROWTH_LIMIT_MB = 100
TOO_LARGE = {"error": "body_too_large", "message": "request body is over 64000 bytes"}
# /mcp words it as JSON-RPC, which its clients read.
TOO_LARGE_RPC = {"jsonrpc": "2.0", "id": None,
                 "error": {"code": -32600, "message": "request body is over 64000 bytes"}}
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Mcp-Protocol-Version": "2025-11-25",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Both servers in JWT mode on a SQLite file of their own."""
    folder: Path = tmp_path_factory.mktemp("floods")
    with running_stack(f"sqlite:///{folder / 'floods.db'}", **JWT_ENV) as stack:
        yield stack


def memory_mb(server: Server) -> tuple[int, int]:
    """(VmRSS, VmHWM) of the server process in MB: now, and the peak since it started."""
    fields = {}
    with open(f"/proc/{server.process.pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = int(value.split()[0]) // 1024 if value.strip().endswith("kB") else 0
    return fields["VmRSS"], fields["VmHWM"]


async def flood(total: int = FLOOD_BYTES, block: int = 256 * 1024) -> AsyncIterator[bytes]:
    """`total` bytes made as they are sent, so the test never holds them."""
    piece = b"x" * block
    for _ in range(total // block):
        yield piece


async def post_floods(url: str, headers: dict[str, str], declared: bool) -> list[int | str]:
    """Post CONCURRENT floods at once; each answer's status, or the error that ended it."""
    sizes = {"Content-Length": str(FLOOD_BYTES)} if declared else {}

    async def one(client: httpx.AsyncClient) -> int | str:
        try:
            response = await client.post(url, content=flood(), headers={**headers, **sizes})
        except httpx.TransportError as exc:
            return type(exc).__name__
        if response.status_code == 413:
            assert response.json() == (TOO_LARGE_RPC if url.endswith("/mcp") else TOO_LARGE)
        return response.status_code

    async with httpx.AsyncClient(timeout=httpx.Timeout(120, connect=5)) as client:
        return list(await asyncio.gather(*(one(client) for _ in range(CONCURRENT))))


def assert_bounded_and_healthy(server: Server, rss_before: int) -> None:
    rss, peak = memory_mb(server)
    assert peak - rss_before < GROWTH_LIMIT_MB, (rss_before, rss, peak)
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_50_mb_task_bodies_to_the_chat_api_get_413_and_memory_stays_bounded(
    stack: Stack, declared: bool
) -> None:
    assert stack.chat is not None
    rss_before, _ = memory_mb(stack.chat)
    url = f"{stack.chat.base_url}/api/tasks"
    json = {"Content-Type": "application/json"}

    anonymous = await post_floods(url, json, declared)
    signed_in = await post_floods(url, {**json, "Authorization": f"Bearer {token('f')}"}, declared)

    assert anonymous == signed_in == [413] * CONCURRENT
    assert_bounded_and_healthy(stack.chat, rss_before)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_50_mb_bodies_to_mcp_get_413_and_memory_stays_bounded(
    stack: Stack, declared: bool
) -> None:
    assert stack.mcp is not None
    rss_before, _ = memory_mb(stack.mcp)
    url = f"{stack.mcp.base_url}/mcp"
    service = {**MCP_HEADERS, "Authorization": f"Bearer {SERVICE_TOKEN}"}

    anonymous = await post_floods(url, MCP_HEADERS, declared)
    authorised = await post_floods(url, service, declared)

    # The body limit stands before authentication: a chunked body is read only up to it.
    assert anonymous == [413] * CONCURRENT
    assert authorised == [413] * CONCURRENT
    assert_bounded_and_healthy(stack.mcp, rss_before)


def send_huge_header(port: int) -> str:
    """Send a request whose one header is 50 MB; say how the server refused it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Flood: ")
        piece = b"a" * (256 * 1024)
        try:
            for _ in range(FLOOD_BYTES // len(piece)):
                sock.sendall(piece)
            sock.sendall(b"\r\n\r\n")
            answer = sock.recv(100)
        except (BrokenPipeError, ConnectionResetError):
            return "closed"
    if answer.startswith(b"HTTP/1.1 431"):
        return "431"
    return "closed" if answer == b"" else answer.decode(errors="replace")


@pytest.mark.parametrize("which", ["chat", "mcp"])
def test_50_mb_headers_are_refused_and_memory_stays_bounded(stack: Stack, which: str) -> None:
    server = stack.chat if which == "chat" else stack.mcp
    assert server is not None
    rss_before, _ = memory_mb(server)
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(send_huge_header(server.port)))
        for _ in range(CONCURRENT * 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == CONCURRENT * 2
    assert set(outcomes) <= {"431", "closed"}, outcomes
    assert_bounded_and_healthy(server, rss_before)
