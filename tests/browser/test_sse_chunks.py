"""The page's server-sent event reader (static/sse.js) in Chromium, given a stream cut at
every awkward place: between `\\r` and `\\n`, inside a UTF-8 character, inside `data:`,
between the two line ends that close an event. Each event must come out whole, once.

A small HTTP server on 127.0.0.1 serves the real static files, a blank page, and the
stream itself, written a byte at a time.
"""

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page

from chat_server.web.page import STATIC_DIR
from tests.browser.harness import Browsing

pytestmark = [pytest.mark.browser]

STREAM = (
    "\ufeff"  # a stream may start with a byte order mark
    ": connected\r\n\r\n"
    "event: ready\r\ndata: {}\r\n\r\n"
    'event: task\r\nid: 7\r\ndata: {"task_id": 7, "title": "café ☕ 🎉 naïve"}\r\n\r\n'
    'data: {"text": "no name, so: message",\r\ndata:  "lines": 2}\n\n'
    "retry: 1000\n\n"  # no data, so no event
    'event: task\rdata: {"task_id": 8, "status": "completed"}\r\r'
    ": heartbeat\n\n"
    'event:done\ndata:{"end": "ü"}\n\n'
    'data: {"cut off": true}\n'  # the stream ends before this event does: dropped
).encode()
EXPECTED = [
    ["ready", {}],
    ["task", {"task_id": 7, "title": "café ☕ 🎉 naïve"}],
    ["message", {"text": "no name, so: message", "lines": 2}],
    ["task", {"task_id": 8, "status": "completed"}],
    ["done", {"end": "ü"}],
]
BYTE_PAUSE_SECONDS = 0.002  # long enough that Chromium reads the stream in many pieces
TYPES = {".js": "text/javascript", ".css": "text/css"}


class Handler(BaseHTTPRequestHandler):
    """/static/* from the chat server's static directory, /stream, and a blank page."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/stream":
            self.stream()
        elif self.path.startswith("/static/"):
            path = (STATIC_DIR / self.path.removeprefix("/static/")).resolve()
            if not path.is_relative_to(STATIC_DIR) or not path.is_file():
                self.send_error(404)
                return
            self.answer(path.read_bytes(), TYPES.get(path.suffix, "application/octet-stream"))
        else:
            self.answer(b"<!doctype html><title>blank</title>", "text/html")

    def answer(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self) -> None:
        # HTTP/1.0 without a length: the body ends when the connection closes.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.flush()
        try:
            for byte in STREAM:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(BYTE_PAUSE_SECONDS)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page stopped reading: its test has already failed

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def blank_page(browsing: Browsing, site: str) -> Page:
    page = browsing.page()
    page.goto(f"{site}/blank")
    return page


def test_every_two_piece_cut_of_the_stream_gives_exactly_the_events_sent(
    browsing: Browsing, site: str
) -> None:
    results: list[dict[str, Any]] = blank_page(browsing, site).evaluate(
        """async (stream) => {
            const { eventStreamDecoder } = await import("/static/sse.js");
            const bytes = new Uint8Array(stream);
            const decode = (pieces) => {
                const events = [];
                const decoder = eventStreamDecoder((name, data) => events.push([name, data]));
                try {
                    for (const piece of pieces) decoder.push(piece);
                    decoder.end();
                } catch (error) {
                    events.push(String(error));  // garbled JSON: say so, per cut
                }
                return events;
            };
            const results = [];
            for (let cut = 0; cut <= bytes.length; cut++) {
                const events = decode([bytes.subarray(0, cut), bytes.subarray(cut)]);
                results.push({ cut, events });
            }
            const single = Array.from(bytes, (byte) => Uint8Array.of(byte));
            results.push({ cut: "every byte", events: decode(single) });
            return results;
        }""",
        list(STREAM),
    )

    assert len(results) == len(STREAM) + 2
    wrong = [
        (result["cut"], result["events"]) for result in results if result["events"] != EXPECTED
    ]
    assert wrong == []


def test_a_stream_arriving_a_byte_at_a_time_gives_exactly_the_events_sent(
    browsing: Browsing, site: str
) -> None:
    outcome = blank_page(browsing, site).evaluate(
        """async () => {
            const { readServerSentEvents } = await import("/static/sse.js");
            const response = await fetch("/stream");
            let reads = 0;
            const counting = new TransformStream({
                transform(chunk, out) { reads += 1; out.enqueue(chunk); },
            });
            const events = [];
            await readServerSentEvents(
                new Response(response.body.pipeThrough(counting)),
                (name, data) => events.push([name, data]),
            );
            return { events, reads };
        }"""
    )

    assert outcome["events"] == EXPECTED
    assert outcome["reads"] > len(EXPECTED)  # the network really did cut the events up
