"""How much one request may hold, on both servers: its body, its head, and echoes of it.

`BodyLimit` (ASGI, outermost) refuses a body over the limit with 413 before the app runs:
a Content-Length over the limit is refused unread, and a body without one (chunked) is
read up to the limit first. `BoundedHttpTools` is uvicorn's httptools
protocol with a bound on the request line plus headers, which httptools lacks: it buffers a
header of any size, and 8 of 50 MB took a server from 186 MB to over 600 MB of memory.
"""

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shared.settings import CommonSettings

log = logging.getLogger(__name__)

# Error messages quote at most this much of what a client sent.
ECHO_MAX_CHARS = 100
# h11's own bound on a request head, which uvicorn applies when none is configured.
H11_DEFAULT_HEAD_BYTES = 16 * 1024


def clipped(text: str, limit: int = ECHO_MAX_CHARS) -> str:
    """`text`, or its first `limit` characters and how long it was: for quoting input."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


# JSON-RPC's "Invalid Request": what an MCP client reads in the body of a refused POST.
JSONRPC_INVALID_REQUEST = -32600


def _refusal(
    status: int, code: str, message: str, *, jsonrpc: bool = False
) -> tuple[Message, Message]:
    """A JSON error as ASGI messages: the chat server's shape, or a JSON-RPC error."""
    error: dict[str, object] = {"error": code, "message": message}
    if jsonrpc:
        error = {"jsonrpc": "2.0", "id": None,
                 "error": {"code": JSONRPC_INVALID_REQUEST, "message": message}}  # fmt: skip
    body = json.dumps(error).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"cache-control", b"no-store"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`, before the app runs.

    Installed outermost, so nothing (authentication included) reads a body it refuses. A
    Content-Length over the limit is refused unread; any other body is read first, at most
    `max_bytes` of it, and handed to the app whole, so no app ever sees a body cut off
    half-way (the MCP SDK logs that as an error). `jsonrpc` words the 413 as a JSON-RPC
    error, for an MCP endpoint.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        jsonrpc: bool = False,
        path_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.jsonrpc = jsonrpc
        # Paths allowed a bound of their own (an import file is bigger than any message).
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        declared = Headers(scope=scope).get("content-length", "")
        # A malformed Content-Length never gets here: the HTTP parser refuses it with 400.
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        try:
            body = await self._read(receive, limit)
        except _ClientGone as gone:
            # Not an error, and not worth a traceback: nobody is left to read an answer.
            log.debug("client hung up after %d bytes of its request body", gone.received)
            return
        if body is None:
            await self._refuse(send, limit)
        else:
            await self.app(scope, _replaying(body, receive), send)

    async def _read(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None past the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _ClientGone(size)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, send: Send, limit: int) -> None:
        start, body = _refusal(
            413, "body_too_large", f"request body is over {limit} bytes",
            jsonrpc=self.jsonrpc,
        )
        await send(start)
        await send(body)


class _ClientGone(Exception):
    """The client hung up before its body ended, after `received` bytes."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app: the body read already, then whatever the client does next
    (a disconnect, which streaming responses listen for)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request line plus headers over a bound (431).

    The bound is uvicorn's `h11_max_incomplete_event_size`, the same limit for its h11
    protocol, which would cost ~4x the server CPU per request (measured: 120 µs against 30).
    A head still incomplete past the bound is refused as it arrives, before httptools
    buffers more of it; a complete one is measured when parsed and refused in place of the
    app, as uvicorn refuses requests beyond `limit_concurrency`. Total header bytes bound
    the header count too (each line takes at least 4 bytes), so there is no count limit.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_head_bytes = self.config.h11_max_incomplete_event_size or H11_DEFAULT_HEAD_BYTES
        self.head_bytes = 0
        self.reading_head = False

    def on_message_begin(self) -> None:
        """A request starts: its head is counted from here."""
        super().on_message_begin()
        self.reading_head = True
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        """Start the app, or the refusal when the request line and headers are too long."""
        self.reading_head = False
        # As sent: each header line holds a ': ' and ends in CRLF.
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size <= self.max_head_bytes:
            super().on_headers_complete()
            return
        app, self.app = self.app, self._refuse_head
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def data_received(self, data: bytes) -> None:
        """Parse as usual, then refuse a head that is still incomplete past the bound."""
        super().data_received(data)
        if not self.reading_head or self.transport.is_closing():
            return
        # Counted by whole reads: the read a head starts in may hold the end of the request
        # before it (pipelining), which can only make the count high, by less than one read.
        self.head_bytes += len(data)
        if self.head_bytes > self.max_head_bytes:
            self.logger.warning(self._too_long())
            start, body = self._refusal()
            lines = [b"HTTP/1.1 431 Request Header Fields Too Large"]
            lines += [name + b": " + value for name, value in start["headers"]]
            self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body["body"])
            self.transport.close()

    async def _refuse_head(self, _scope: Scope, _receive: Receive, send: Send) -> None:
        self.logger.warning(self._too_long())
        for message in self._refusal():
            await send(message)

    def _too_long(self) -> str:
        return f"request line and headers are over {self.max_head_bytes} bytes"

    def _refusal(self) -> tuple[Message, Message]:
        start, body = _refusal(431, "headers_too_large", self._too_long())
        start["headers"].append((b"connection", b"close"))
        return start, body


def server_limits(settings: CommonSettings) -> dict[str, Any]:
    """uvicorn.run's arguments for the head bound and the connection limit of one process."""
    http: type[asyncio.Protocol] = BoundedHttpTools
    return {
        "http": http,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        # Beyond this many open connections (or running requests) uvicorn answers 503.
        "limit_concurrency": settings.max_connections,
        # Neither app speaks WebSocket: no upgrade path, and no limits of its own to keep.
        "ws": "none",
    }
