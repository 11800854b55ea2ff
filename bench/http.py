"""A tiny keep-alive HTTP/1.1 client for load generation, and ChatKit turns over it.

The load generator shares two cores with the servers it measures, so it must cost little:
requests are prebuilt bytes, and a streamed (chunked) ChatKit answer is read as raw lines,
timing the first event and the last finished item without parsing every event.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

# Servers close keep-alive connections idle this long (uvicorn: 5 s); reconnect before then,
# as browsers do, instead of racing the server's close.
IDLE_REOPEN_SECONDS = 4.0


class HTTPError(Exception):
    """A non-2xx answer, or a connection that broke mid-answer."""


def request_bytes(
    port: int, path: str, payload: Any, headers: dict[str, str] | None = None
) -> bytes:
    """A complete POST request with a JSON body."""
    body = json.dumps(payload).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Answer:
    """One HTTP answer: status, body, and when its first body bytes and its last item came."""

    status: int
    body: bytes
    first_byte: float
    last_item: float = 0.0
    events: list[bytes] = field(default_factory=list)


class Connection:
    """One keep-alive connection; `send()` one request at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def open(self) -> "Connection":
        """Connect to 127.0.0.1:port."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.last_used = time.monotonic()
        return self

    async def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()
            await asyncio.gather(self.writer.wait_closed(), return_exceptions=True)
            self.writer = None

    async def send(self, request: bytes) -> Answer:
        """Send `request` and read the whole answer (Content-Length or chunked)."""
        stale = time.monotonic() - self.last_used > IDLE_REOPEN_SECONDS
        if stale or self.reader is None or self.reader.at_eof():
            await self.close()
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
            first = time.perf_counter()
            status = int(head[9:12])
            headers = head.lower()
            if b"transfer-encoding: chunked" in headers:
                answer = await self._chunked(status, first)
            else:
                length = 0
                for line in headers.split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await self.reader.readexactly(length)
                answer = Answer(status, body, first, last_item=time.perf_counter())
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            await self.close()
            raise HTTPError(f"connection broke: {exc!r}") from exc
        self.last_used = time.monotonic()
        if b"connection: close" in headers:
            await self.close()
        if not HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
            raise HTTPError(f"HTTP {status}: {answer.body[:300]!r}")
        return answer

    async def _chunked(self, status: int, start: float) -> Answer:
        assert self.reader is not None
        answer = Answer(status, b"", start)
        pending = b""
        parts = []
        first_event = True
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                break
            chunk = (await self.reader.readexactly(size + 2))[:-2]
            now = time.perf_counter()
            parts.append(chunk)
            pending += chunk
            # Server-sent events end with a blank line; a chunk may hold several or part of one.
            *complete, pending = pending.split(b"\n\n")
            for event in complete:
                if first_event:
                    answer.first_byte, first_event = now, False
                answer.events.append(event)
                if event.startswith(b'data: {"type":"thread.item.done"'):
                    answer.last_item = now
        answer.body = b"".join(parts)
        return answer


def event_type(event: bytes) -> str:
    """The `type` of one `data: {...}` server-sent event."""
    return str(json.loads(event[6:])["type"])


def user_input(text: str) -> dict[str, Any]:
    """A ChatKit user message input, as the ChatKit UI sends it."""
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def create_thread(text: str) -> dict[str, Any]:
    """A threads.create request starting a thread with `text`."""
    return {"type": "threads.create", "params": {"input": user_input(text)}}


def add_message(thread_id: str, text: str) -> dict[str, Any]:
    """A threads.add_user_message request."""
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": user_input(text)},
    }


def thread_id_of(answer: Answer) -> str:
    """The id of the thread a threads.create answer created."""
    for event in answer.events:
        if event.startswith(b'data: {"type":"thread.created"'):
            return str(json.loads(event[6:])["thread"]["id"])
    raise HTTPError(f"no thread.created event in {answer.body[:300]!r}")


def failed(answer: Answer) -> str | None:
    """Why a streamed turn failed (an error event, or no item at all), or None if it did not."""
    for event in answer.events:
        if event.startswith(b'data: {"type":"error"'):
            return event.decode()[:300]
    if not answer.last_item:
        return f"no finished item in {answer.body[:300]!r}"
    return None
