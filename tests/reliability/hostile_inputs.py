"""Hostile requests for both servers, enumerated: the same list, in the same order, every run.

Each family is a table of values crossed with the fields, endpoints and tools they go to.
A `Case` is one HTTP request; `hostile_cases(target)` builds them all against the ids and
tokens of `Target` (made by the test before the attack). The JSON-RPC, MCP-tool and token
families live in tests/reliability/hostile_rpc.py.
"""

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

CHAT, MCP = "chat", "mcp"
MB = 1 << 20
# The chat server's MAX_BODY_BYTES and MAX_MESSAGE_CHARS defaults (shared/settings.py).
BODY_LIMIT = 64_000
MESSAGE_LIMIT = 4000
JSON = "application/json"
Headers = tuple[tuple[str, str | bytes], ...]


@dataclass(frozen=True)
class Target:
    """What the cases aim at: the attacker's credentials and ids, and a victim's task."""

    user_token: str
    service_token: str
    thread_id: str
    item_id: str
    widget_id: str
    task_id: int
    far_recurring_task_id: int | None
    foreign_task_id: int
    cursor: str

    @property
    def auth(self) -> Headers:
        return (("Authorization", f"Bearer {self.user_token}"),)


@dataclass(frozen=True)
class Case:
    """One hostile request and what it carries."""

    family: str
    what: str
    server: str  # CHAT or MCP
    method: str
    path: str
    headers: Headers = ()
    body: bytes | None = None
    upload_mb: int = 0
    """When set, the body is this many MB streamed from a generator (chunked) after `body`."""
    big_field: bool = False
    """The request carries a field of 1 MB or more: its answer must not echo it back."""
    may_hang_up: bool = False
    """Closing the connection is a fair answer (a body or header far over any limit)."""
    open_stream: bool = False
    """An endless event stream may answer: read its first bytes, then hang up."""


def dump(value: Any, *, raw: bool = False) -> bytes:
    """JSON bytes; `raw` writes non-ASCII as UTF-8 (lone surrogates as invalid UTF-8)."""
    if not raw:
        return json.dumps(value).encode()
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"a": value}
    return value


# Wrong JSON types for any field: what a careless or hostile client sends instead.
WRONG_TYPES: dict[str, Any] = {
    "null": None,
    "zero": 0,
    "-1": -1,
    "10^30": 10**30,
    "2^63": 2**63,
    "1.5": 1.5,
    "1e308": 1e308,
    "true": True,
    "false": False,
    "empty string": "",
    "array": [1, "a", None],
    "empty array": [],
    "object": {"a": 1},
    "nested x60": nested(60),
}

UNICODE: dict[str, str] = {
    "RTL override": "pay \u202eeulav\u202c bills",
    "zero-width": "a\u200b\u200c\u200d\u2060\ufeffb",
    "combining x150": "e" + "\u0301" * 150,
    "combining x5000": "e" + "\u0301" * 5000,
    "emoji ZWJ": "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 \U0001f525" * 8,
    "NUL": "a\x00b",
    "lone high surrogate": "x\ud800y",
    "lone low surrogate": "\udfff",
    "reversed pair": "\udc00\ud800",
    "noncharacters": "\uffff\ufffe\U0010ffff",
    "private use": "\ue000\U000f0000",
    "astral math": "\U0001d54f" * 60,
    "line separators": "a\u2028b\u2029c\x85d",
    "ANSI escape": "\x1b[31mred\x1b[0m\x07",
    "CR LF": "title\r\nX-Injected: 1",
    "bidi isolates": "\u2066\u2067x\u2069\u2069",
    "tag characters": "\U000e0041\U000e0042" * 10,
    "hangul filler": "\u3164\u115f",
    "markdown and HTML": "[x](javascript:alert(1)) **b** <script>alert(1)</script> "
    "![i](http://evil.invalid/p.png) <img src=x onerror=alert(1)>",
    "SQL": "'; DROP TABLE task; --",
    "format strings": "%s%n%d {0} ${x} {{7*7}}",
    "only whitespace": " \t\u3000\u00a0 ",
}

# Dates at and past the ends of what datetime and PostgreSQL hold, and malformed ones.
DATES: list[str] = [
    "0001-01-01",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59.999999-14:00",
    "0000-01-01",
    "10000-01-01",
    "+10000-01-01",
    "-0001-01-01",
    "2025-02-30",
    "2025-13-01",
    "2025-00-10",
    "2025-01-01T24:00:00Z",
    "2025-01-01T25:61:61Z",
    "2025-01-01T00:00:00+99:99",
    "2025-01-01T00:00:00+24:00",
    "2025-01-01T00:00:00",
    "2025-W01-1",
    "20250101",
    "2025-001",
    "2025-01-01T00:00:00.123456789Z",
    "  2025-01-01  ",
    "2025-01-01\x00",
    "１２３４-05-06",
    "tomorrow",
    "",
    "9" * 5000,
]

IDS: dict[str, Any] = {
    "0": 0,
    "-1": -1,
    "-2^63": -(2**63),
    "2^31": 2**31,
    "2^63-1": 2**63 - 1,
    "2^63": 2**63,
    "2^64": 2**64,
    "10^100": 10**100,
    "1.0": 1.0,
    "1.5": 1.5,
    "string 1": "1",
    "true": True,
    "null": None,
}
PATH_IDS = [
    "0",
    "-1",
    "9223372036854775807",
    "9223372036854775808",
    "1" + "0" * 100,
    "1.5",
    "1e3",
    "abc",
    "%00",
    "%2e%2e",
    "\uff11",
    "0x10",
    "+1",
    " 1",
    "1;2",
    "1%0d%0a",
]

# Messages for the offline model: long runs, repeats and punctuation its grammar scans.
CHAT_MESSAGES: list[str] = [
    "add a " + ", " * 1900 + "x",
    "add a , , , , , , , , , , , x",
    "." * 3999,
    "....",
    "add " + "." * 3000,
    "add buy milk" + "!" * 3000,
    "add " + "x" * 3990,
    "add " + "word " * 790,
    "add " + "add " * 990,
    "remind me to " * 300,
    "add call mom every " + "every " * 600,
    "add x " + "tomorrow " * 430,
    "add x due " + "next " * 790,
    "add x by " + "1/" * 1990,
    "add x at " + "12:" * 1300,
    "add x #" + "#a" * 1990,
    "add x tag " + "a, " * 1300,
    "show " + "my " * 1300 + "tasks",
    "show tasks due 9999-12-31",
    "show tasks due 0001-01-01",
    "show tasks tagged " + "z" * 3900,
    "add x due 0001-01-01",
    "add x due 9999-12-31 every day",
    "add x due 31/02/2025",
    "add x in 99999999999999999999 days",
    "add x in 10000 years",
    "complete 99999999999999999999",
    "complete task -1",
    "delete task 0",
    "delete task 9223372036854775808",
    "undo " * 700,
    "move task 1 to " + "next monday " * 300,
    "rename task 1 to " + "y" * 3900,
    "search for " + "(a+)+" * 600,
    "search for " + "a" * 3980,
    "\U0001f525" * 1900,
    "\u0301" * 3999,
    "add " + "\u202e" * 2000 + "x",
    "a\u200b" * 1999,
    "add task: " + "é" * 3980,
    "1. add x\n2. add y\n" * 200,
    "- " * 1999,
    "? " * 1999,
    ("and " * 990).strip(),
    "add " + " ".join(f"t{i}" for i in range(700)),
]


def _chatkit(target: Target, request: Any, *, raw: bool = False) -> tuple[Headers, bytes]:
    return ((*target.auth, ("Content-Type", JSON)), dump(request, raw=raw))


def _user_input(text: Any) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def chatkit_templates(target: Target) -> dict[str, dict[str, Any]]:
    """A well-formed request of each ChatKit type, aimed at the attacker's own ids."""
    thread, item = target.thread_id, target.item_id
    return {
        "threads.list": {"limit": 5, "order": "desc", "after": None},
        "items.list": {"thread_id": thread, "after": None, "limit": 5, "order": "asc"},
        "threads.get_by_id": {"thread_id": thread},
        "threads.update": {"thread_id": thread, "title": "renamed"},
        "threads.delete": {"thread_id": "thr_not_there"},
        "threads.create": {"input": _user_input("hi")},
        "threads.add_user_message": {"thread_id": thread, "input": _user_input("hi")},
        "items.feedback": {"thread_id": thread, "item_ids": [item], "kind": "positive"},
        "threads.retry_after_item": {"thread_id": thread, "item_id": item},
        "threads.custom_action": {
            "thread_id": thread,
            "item_id": target.widget_id,
            "action": {"type": "task.complete", "payload": {"task_id": target.task_id}},
        },
    }


def chatkit_cases(target: Target) -> Iterator[Case]:
    """/chatkit: sizes, every field of every request type with every wrong type, cursors."""

    def case(family: str, what: str, request: Any, **kw: Any) -> Case:
        headers, body = _chatkit(target, request, raw=kw.pop("raw", False))
        return Case(family, what, CHAT, "POST", "/chatkit", headers, body, **kw)

    templates = chatkit_templates(target)
    yield from _chatkit_body_cases(target)
    yield from _chatkit_size_cases(target, case)
    yield from _chatkit_type_cases(case, templates)
    yield from _chatkit_range_cases(target, case, templates)


def _chatkit_body_cases(target: Target) -> Iterator[Case]:
    listing = {"type": "threads.list", "params": {}}
    for name, body in {
        "empty body": b"",
        "1 byte {": b"{",
        "1 byte a": b"a",
        "1 space": b" ",
        "JSON null": b"null",
        "JSON array": b"[]",
        "JSON string": b'"threads.list"',
        "JSON number": b"1e999999",
        f"at limit ({BODY_LIMIT} bytes)": dump(listing).ljust(BODY_LIMIT),
        f"over limit ({BODY_LIMIT + 1} bytes)": dump(listing).ljust(BODY_LIMIT + 1),
        "deep nesting 100k": b"[" * 100_000 + b"]" * 100_000,
        "1 MB of spaces": dump(listing).ljust(MB),
    }.items():
        yield Case(
            "size",
            name,
            CHAT,
            "POST",
            "/chatkit",
            (*target.auth, ("Content-Type", JSON)),
            body,
            big_field=len(body) >= MB,
        )


def _chatkit_size_cases(target: Target, case: Callable[..., Case]) -> Iterator[Case]:
    for chars in (MESSAGE_LIMIT, MESSAGE_LIMIT + 1, 100_000):
        request = {"type": "threads.create", "params": {"input": _user_input("x" * chars)}}
        yield case("size", f"message of {chars} chars", request)
    big = "x" * MB
    yield case(
        "size",
        "1 MB message",
        {"type": "threads.create", "params": {"input": _user_input(big)}},
        big_field=True,
    )
    yield case(
        "size",
        "1 MB thread title",
        {"type": "threads.update", "params": {"thread_id": target.thread_id, "title": big}},
        big_field=True,
    )
    yield case(
        "size",
        "1 MB thread id",
        {"type": "threads.get_by_id", "params": {"thread_id": big}},
        big_field=True,
    )
    yield case(
        "size",
        "1 MB quoted text",
        {
            "type": "threads.create",
            "params": {"input": {**_user_input("add x"), "quoted_text": big}},
        },
        big_field=True,
    )
    yield case(
        "size",
        "100k item ids",
        {
            "type": "items.feedback",
            "params": {
                "thread_id": target.thread_id,
                "item_ids": ["i"] * 100_000,
                "kind": "positive",
            },
        },
        big_field=True,
    )
    head = b'{"type": "threads.create", "params": {"input": {"content": [{"type": "input_text", '
    yield Case(
        "size",
        "5 MB streamed message",
        CHAT,
        "POST",
        "/chatkit",
        (*target.auth, ("Content-Type", JSON)),
        head + b'"text": "',
        upload_mb=5,
        big_field=True,
        may_hang_up=True,
    )


def _chatkit_type_cases(
    case: Callable[..., Case], templates: dict[str, dict[str, Any]]
) -> Iterator[Case]:
    for kind, params in templates.items():
        for field in params:
            for value_name, value in WRONG_TYPES.items():
                request = {"type": kind, "params": {**params, field: value}}
                yield case("types", f"{kind} {field}={value_name}", request)
        for value_name, value in WRONG_TYPES.items():
            yield case("types", f"{kind} params={value_name}", {"type": kind, "params": value})
        yield case(
            "types",
            f"{kind} unknown field",
            {"type": kind, "params": {**params, "extra": 1}, "extra": {"x": 1}},
        )
    for value_name, value in WRONG_TYPES.items():
        yield case("types", f"type={value_name}", {"type": value, "params": {}})
    for field, value in [
        ("content", WRONG_TYPES["array"]),
        ("content", []),
        ("content", [{"type": "input_tag", "id": "x", "text": "t", "data": {}}]),
        ("content", [{"type": "image", "url": "http://evil.invalid"}]),
        ("attachments", ["att_1"]),
        ("inference_options", {"model": 7}),
        ("inference_options", {"tool_choice": {"id": "x" * 10_000}}),
    ]:
        request = {
            "type": "threads.create",
            "params": {"input": {**_user_input("hi"), field: value}},
        }
        yield case("types", f"threads.create input.{field} odd", request)


def _chatkit_range_cases(
    target: Target, case: Callable[..., Case], templates: dict[str, dict[str, Any]]
) -> Iterator[Case]:
    for kind in ("threads.list", "items.list"):
        for name, cursor in CHATKIT_CURSORS.items():
            request = {"type": kind, "params": {**templates[kind], "after": cursor}}
            yield case("cursor", f"{kind} after={name}", request, big_field=len(cursor) >= MB)
        for limit in (0, -1, 10**12, 2**63, 1001):
            request = {"type": kind, "params": {**templates[kind], "limit": limit}}
            yield case("range", f"{kind} limit={limit}", request)
    for name, text in UNICODE.items():
        for raw in (False, True):
            how = "raw UTF-8" if raw else "escaped"
            request = {
                "type": "threads.update",
                "params": {"thread_id": target.thread_id, "title": text[:200]},
            }
            yield case("unicode", f"thread title {name} ({how})", request, raw=raw)
            request = {"type": "threads.get_by_id", "params": {"thread_id": text}}
            yield case("unicode", f"thread id {name} ({how})", request, raw=raw)
        request = {"type": "threads.create", "params": {"input": _user_input(f"add {text}")}}
        yield case("offline model", f"chat message add {name}", request)


CHATKIT_CURSORS: dict[str, str] = {
    "empty": "",
    "garbage": "!!!!",
    "NUL": "thr_\x00",
    "percent": "%00%ff",
    "base64 junk": "eyJhIjoxfQ==",
    "lone surrogate": "\ud800",
    "1 MB": "t" * MB,
    "path": "../../etc/passwd",
    "SQL": "' OR 1=1 --",
}


def offline_model_cases(target: Target) -> Iterator[Case]:
    """Chat turns whose text is built to make the offline model's grammar work hard."""
    for text in CHAT_MESSAGES:
        request = {"type": "threads.create", "params": {"input": _user_input(text)}}
        headers, body = _chatkit(target, request)
        summary = repr(text[:40]) + (f"... ({len(text)} chars)" if len(text) > 40 else "")
        yield Case("offline model", summary, CHAT, "POST", "/chatkit", headers, body)


def encoding_bodies(
    valid: Any,
) -> dict[str, tuple[str | None, bytes] | tuple[str | None, bytes, Headers]]:
    """(content type, body, extra headers) variants of one valid JSON request, badly encoded."""
    text = json.dumps(valid)
    utf8 = text.encode()
    return {
        "invalid UTF-8": (JSON, utf8[:-2] + b'\xff\xfe"}'),
        "invalid UTF-8 in string": (JSON, b'{"title": "\xc3\x28\xa0\xa1"}'),
        "overlong slash": (JSON, b'{"title": "\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf"}'),
        "CESU surrogate bytes": (JSON, b'{"title": "\xed\xa0\x80"}'),
        "UTF-8 BOM": (JSON, b"\xef\xbb\xbf" + utf8),
        "UTF-16 BOM": (JSON, text.encode("utf-16")),
        "UTF-16LE no BOM": (JSON, text.encode("utf-16-le")),
        "UTF-32": (JSON, text.encode("utf-32")),
        "charset=utf-16 on UTF-8": (JSON + "; charset=utf-16", utf8),
        "charset=bogus": (JSON + "; charset=x-bogus", utf8),
        "NUL byte raw": (JSON, utf8[:1] + b"\x00" + utf8[1:]),
        "NUL escaped key": (JSON, b'{"\\u0000": 1, ' + utf8[1:]),
        "lone surrogate key": (JSON, b'{"\\ud800": 1, ' + utf8[1:]),
        "duplicate keys": (JSON, utf8[:-1] + b", " + utf8[1:]),
        "NaN and Infinity": (JSON, b'{"a": NaN, "b": Infinity, "c": -Infinity}'),
        "trailing garbage": (JSON, utf8 + b"}}}"),
        "form-encoded": ("application/x-www-form-urlencoded", b"title=x&type=threads.list"),
        "text/plain JSON": ("text/plain", utf8),
        "multipart": (
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--b--\r\n',
        ),
        "no content type": (None, utf8),
        "gzip claim, plain body": (JSON, utf8, (("Content-Encoding", "gzip"),)),
        "gzip body": (JSON, gzip.compress(utf8), (("Content-Encoding", "gzip"),)),
        "gzip bomb 10 MB": (JSON, gzip.compress(b" " * 10 * MB), (("Content-Encoding", "gzip"),)),
        "br claim": (JSON, utf8, (("Content-Encoding", "br"),)),
    }


def encoding_cases(target: Target, mcp_call: dict[str, Any]) -> Iterator[Case]:
    """Every JSON endpoint of both servers, given each bad encoding of a valid body."""
    endpoints = [
        (CHAT, "/chatkit", {"type": "threads.list", "params": {}}, target.auth),
        (CHAT, "/api/tasks", {"title": "encoded"}, target.auth),
        (CHAT, f"/api/tasks/{target.task_id}/complete", {"completed": False}, target.auth),
        (MCP, "/mcp", mcp_call, (*target.auth, ("Accept", "application/json, text/event-stream"))),
    ]
    for server, path, valid, auth in endpoints:
        for name, variant in encoding_bodies(valid).items():
            content_type, body, *rest = variant
            headers: Headers = (
                auth if content_type is None else (*auth, ("Content-Type", content_type))
            )
            headers = (*headers, *(rest[0] if rest else ()))
            yield Case("encoding", name, server, "POST", path, headers, body)
