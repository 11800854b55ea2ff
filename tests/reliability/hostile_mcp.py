"""Hostile requests for the MCP task server: every tool's every argument with wrong types,
out-of-range ids, limits and dates, forged cursors, odd `_meta`, and malformed JSON-RPC."""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from typing import Any

from shared.contract import CALL_ID_META_KEY, USER_META_KEY
from tests.reliability.hostile_inputs import (
    DATES,
    IDS,
    JSON,
    MB,
    MCP,
    UNICODE,
    WRONG_TYPES,
    Case,
    Headers,
    Target,
    dump,
)

ACCEPT = ("Accept", "application/json, text/event-stream")
# The stack runs with this CURSOR_SECRET, so the cases can sign any payload as if the secret
# had leaked: whatever a signed cursor holds, the server must refuse it cleanly.
CURSOR_SECRET = "hostile-cursor-secret-of-at-least-32-bytes"
CURSOR_CHECK_BYTES = 16  # mcp_server/task_rules.py


def rpc(method: Any, params: Any = None, rpc_id: Any = 1, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": rpc_id, "method": method, **extra}
    if params is not None:
        message["params"] = params
    return message


def tool_call(name: str, arguments: Any, meta: Any = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if meta is not None:
        params["_meta"] = meta
    return rpc("tools/call", params)


def forge_cursor(payload: Any) -> str:
    """A cursor the server's own check accepts, around any JSON payload."""
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )
    check = hmac.new(CURSOR_SECRET.encode(), data, hashlib.sha256).digest()[:CURSOR_CHECK_BYTES]
    return base64.urlsafe_b64encode(check + data).rstrip(b"=").decode()


def tool_templates(target: Target) -> dict[str, dict[str, Any]]:
    """Well-formed arguments of each tool; write tools aim at ids that never change state
    the other cases rely on (the victim's task, which must stay unreachable)."""
    return {
        "add_task": {
            "title": "hostile",
            "description": "d",
            "due": "2030-01-01",
            "priority": "low",
            "tags": ["a"],
            "recurrence": "none",
        },
        "list_tasks": {
            "status": "all",
            "search": "x",
            "tag": "a",
            "priority": "low",
            "due_before": "2030-01-01",
            "due_after": "2020-01-01",
            "overdue": False,
            "timezone": "UTC",
            "sort": "due",
            "order": "asc",
            "limit": 5,
            "cursor": None,
        },
        "get_task": {"task_id": target.task_id},
        "update_task": {
            "task_id": target.foreign_task_id,
            "title": "t",
            "description": "d",
            "due": "2030-01-01",
            "priority": "high",
            "tags": ["b"],
            "recurrence": "weekly",
        },
        "complete_task": {"task_id": target.foreign_task_id, "completed": True},
        "delete_task": {"task_id": target.foreign_task_id},
    }


def _forged_cursors(cursor: str) -> dict[str, str]:
    return {
        "empty": "",
        "one char": "a",
        "padding only": "====",
        "not base64": "!!!!",
        "NUL": "\x00",
        "lone surrogate": "\ud800",
        "valid, last char changed": cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),
        "valid, cut in half": cursor[: len(cursor) // 2],
        "valid twice": cursor + cursor,
        "1 MB": "A" * MB,
        "signed: not a list": forge_cursor({"a": 1}),
        "signed: 3 items": forge_cursor(["due", "asc", None]),
        "signed: key not a date": forge_cursor(["due", "asc", "not a date", 1]),
        "signed: key year 0001 -14:00": forge_cursor(
            ["due", "asc", "0001-01-01T00:00:00+14:00", 1]
        ),
        "signed: key 9999 -23:59": forge_cursor(["due", "asc", "9999-12-31T23:59:59-23:59", 1]),
        "signed: key naive": forge_cursor(["due", "asc", "2025-01-01T00:00:00", 1]),
        "signed: key a number": forge_cursor(["due", "asc", 1e308, 1]),
        "signed: key an object": forge_cursor(["due", "asc", {"a": 1}, 1]),
        "signed: id 10^30": forge_cursor(["due", "asc", None, 10**30]),
        "signed: id -2^63-1": forge_cursor(["due", "asc", None, -(2**63) - 1]),
        "signed: id a string": forge_cursor(["due", "asc", None, "1"]),
        "signed: id true": forge_cursor(["due", "asc", None, True]),
        "signed: id 1.5": forge_cursor(["due", "asc", None, 1.5]),
        "signed: other sort": forge_cursor(["title", "asc", "a", 1]),
        "signed: 100 kB key": forge_cursor(["due", "asc", "2025-01-01" + "0" * 100_000, 1]),
        "signed: title key 401 chars": forge_cursor(["title", "asc", "t" * 401, 1]),
        "signed: title key lone surrogate": forge_cursor(["title", "asc", "\ud800", 1]),
        "signed: title key NUL": forge_cursor(["title", "asc", "a\x00", 1]),
        "signed: priority key 99": forge_cursor(["priority", "asc", 99, 1]),
        "signed: created key year 1": forge_cursor(
            ["created", "asc", "0001-01-01T00:00:00+00:00", 1]
        ),
        "signed: sort unknown": forge_cursor(["owner", "asc", "x", 1]),
    }


def tool_cases(target: Target) -> Iterator[Case]:
    """tools/call: wrong types, ranges, dates, unicode, sizes and cursors for every tool."""
    headers: Headers = (*target.auth, ACCEPT, ("Content-Type", JSON))

    def case(family: str, what: str, message: Any, **kw: Any) -> Case:
        body = dump(message, raw=kw.pop("raw", False))
        return Case(family, what, MCP, "POST", "/mcp", headers, body, **kw)

    yield from _type_cases(target, case)
    yield from _range_cases(target, case)
    yield from _unicode_cases(case)
    yield from _size_cases(target, case, headers)
    yield from _cursor_cases(target, case)


def _type_cases(target: Target, case: Callable[..., Case]) -> Iterator[Case]:
    templates = tool_templates(target)
    for tool, args in templates.items():
        for field in args:
            for value_name, value in WRONG_TYPES.items():
                call = tool_call(tool, {**args, field: value})
                yield case("types", f"{tool} {field}={value_name}", call)
        for value_name, value in WRONG_TYPES.items():
            yield case("types", f"{tool} arguments={value_name}", tool_call(tool, value))
        yield case("types", f"{tool} no arguments", tool_call(tool, {}))
        yield case("types", f"{tool} unknown argument", tool_call(tool, {**args, "owner": "x"}))
        yield case(
            "types",
            f"{tool} tags as JSON text",
            tool_call(tool, {**args, "tags": '["a", {"b": 1}'}),
        )
    for tool in ("get_task", "update_task", "complete_task", "delete_task"):
        for name, task_id in IDS.items():
            call = tool_call(tool, {**templates[tool], "task_id": task_id})
            yield case("range", f"{tool} task_id={name}", call)


def _range_cases(target: Target, case: Callable[..., Case]) -> Iterator[Case]:
    for limit in (0, -1, 201, 10**12, 2**63, 10**100):
        call = tool_call("list_tasks", {"limit": limit})
        yield case("range", f"list_tasks limit={limit}", call)
    for due in DATES:
        yield case(
            "range",
            f"add_task due={due[:40]!r}",
            tool_call("add_task", {"title": "dated", "due": due, "recurrence": "monthly"}),
        )
        yield case(
            "range",
            f"update_task due={due[:40]!r}",
            tool_call("update_task", {"task_id": target.task_id, "due": due}),
        )
        for bound in ("due_before", "due_after"):
            call = tool_call("list_tasks", {bound: due, "overdue": True})
            yield case("range", f"list_tasks {bound}={due[:40]!r}", call)
    if target.far_recurring_task_id is not None:
        for completed in (True, False, True):
            call = tool_call(
                "complete_task", {"task_id": target.far_recurring_task_id, "completed": completed}
            )
            yield case("range", f"complete recurring task due 9999-12-31 ({completed})", call)
    for zone in (
        "Mars/Olympus",
        "UTC+25",
        "../../etc/passwd",
        "Etc/GMT+14",
        "localtime",
        "posixrules",
        "\x00",
        "A" * 64,
        "A" * 65,
        "\ud800",
        "Europe/Paris\n",
    ):
        yield case(
            "range",
            f"list_tasks timezone={zone[:20]!r}",
            tool_call("list_tasks", {"timezone": zone, "due_before": "2030-01-01"}),
        )


def _unicode_cases(case: Callable[..., Case]) -> Iterator[Case]:
    for name, text in UNICODE.items():
        for raw in (False, True):
            how = "raw UTF-8" if raw else "escaped"
            for tool, field in (
                ("add_task", "title"),
                ("add_task", "description"),
                ("add_task", "tags"),
                ("list_tasks", "search"),
                ("list_tasks", "tag"),
            ):
                value: Any = [text] if field == "tags" else text
                args = {"title": "u", field: value} if tool == "add_task" else {field: value}
                yield case(
                    "unicode", f"{tool} {field} {name} ({how})", tool_call(tool, args), raw=raw
                )


def _size_cases(target: Target, case: Callable[..., Case], headers: Headers) -> Iterator[Case]:
    big = "x" * MB
    for tool, args in (
        ("add_task", {"title": big}),
        ("add_task", {"title": "b", "description": big}),
        ("add_task", {"title": "b", "tags": [big]}),
        ("add_task", {"title": "b", "tags": ["t"] * 100_000}),
        ("add_task", {"title": "b", "due": big}),
        ("list_tasks", {"search": big}),
        ("list_tasks", {"tag": big}),
        ("list_tasks", {"timezone": big}),
        ("list_tasks", {"cursor": big}),
        ("update_task", {"task_id": target.task_id, "title": big}),
        ("get_task", {"task_id": big}),
        ("list_tasks", {"limit": big}),
    ):
        field = next(iter(args)) if len(args) == 1 else list(args)[-1]
        yield case("size", f"{tool} 1 MB {field}", tool_call(tool, args), big_field=True)
    yield case(
        "range", "get_task task_id of 4000 digits", tool_call("get_task", {"task_id": 10**4000})
    )
    digits = b"9" * 5000  # past Python's 4300-digit limit for int(str)
    for tool in ("get_task", "delete_task"):
        body = (
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s",'
            % (tool.encode())
            + b'"arguments":{"task_id":'
            + digits
            + b"}}}"
        )
        yield Case("range", f"{tool} task_id of 5000 digits", MCP, "POST", "/mcp", headers, body)
    for title_chars in (200, 201):
        yield case(
            "size",
            f"add_task title of {title_chars} chars",
            tool_call("add_task", {"title": "t" * title_chars}),
        )
    for count in (20, 21):
        yield case(
            "size",
            f"add_task {count} tags",
            tool_call("add_task", {"title": "t", "tags": [f"t{i}" for i in range(count)]}),
        )


def _cursor_cases(target: Target, case: Callable[..., Case]) -> Iterator[Case]:
    for name, cursor in _forged_cursors(target.cursor).items():
        for sort in ("due", "created", "title", "priority"):
            call = tool_call("list_tasks", {"sort": sort, "limit": 1, "cursor": cursor})
            yield case(
                "cursor", f"list_tasks sort={sort} cursor {name}", call, big_field=len(cursor) >= MB
            )


def meta_cases(target: Target) -> Iterator[Case]:
    """`_meta` for the acting user and the call id, from a user token and the service token."""
    service: Headers = (
        ("Authorization", f"Bearer {target.service_token}"),
        ACCEPT,
        ("Content-Type", JSON),
    )
    user: Headers = (*target.auth, ACCEPT, ("Content-Type", JSON))
    users: dict[str, Any] = {
        **WRONG_TYPES,
        **{f"user {k}": v for k, v in UNICODE.items()},
        "user 201 chars": "u" * 201,
        "user 1 MB": "u" * MB,
    }
    for name, value in users.items():
        meta = {USER_META_KEY: value}
        for who, headers in (("service", service), ("user", user)):
            yield Case(
                "meta",
                f"{who} token, _meta user={name}",
                MCP,
                "POST",
                "/mcp",
                headers,
                dump(tool_call("list_tasks", {"limit": 1}, meta)),
                big_field=name == "user 1 MB",
            )
    call_ids: dict[str, Any] = {
        **WRONG_TYPES,
        "101 chars": "c" * 101,
        "NUL": "c\x00",
        "non-ASCII": "c\u00e9",
        "1 MB": "c" * MB,
    }
    for name, value in call_ids.items():
        meta = {CALL_ID_META_KEY: value, USER_META_KEY: "meta-victim"}
        yield Case(
            "meta",
            f"service token, call id={name}",
            MCP,
            "POST",
            "/mcp",
            service,
            dump(tool_call("add_task", {"title": "c"}, meta)),
            big_field=name == "1 MB",
        )
    for value_name, value in WRONG_TYPES.items():
        yield Case(
            "meta",
            f"_meta={value_name}",
            MCP,
            "POST",
            "/mcp",
            user,
            dump(tool_call("list_tasks", {}, value)),
        )


def jsonrpc_cases(target: Target) -> Iterator[Case]:
    """Malformed JSON-RPC: methods, ids, versions, batches, notifications, huge params."""
    headers: Headers = (*target.auth, ACCEPT, ("Content-Type", JSON))
    listing = tool_call("list_tasks", {"limit": 1})
    messages: dict[str, Any] = {
        "missing method": {"jsonrpc": "2.0", "id": 1},
        "missing jsonrpc": {"id": 1, "method": "ping"},
        "jsonrpc 1.0": {**rpc("ping"), "jsonrpc": "1.0"},
        "jsonrpc number": {**rpc("ping"), "jsonrpc": 2.0},
        "empty object": {},
        "result and error": {"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": 1}},
        "a response to nothing": {"jsonrpc": "2.0", "id": 99, "result": {}},
        "an error to nothing": {"jsonrpc": "2.0", "id": 99, "error": {"code": -1, "message": "x"}},
        "notification tools/call": {k: v for k, v in listing.items() if k != "id"},
        "notification unknown": {"jsonrpc": "2.0", "method": "notifications/bogus"},
        "notification cancelled": {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": 1},
        },
        "batch empty": [],
        "batch of one": [listing],
        "batch of 100": [listing] * 100,
        "batch of 5000 numbers": [1] * 5000,
        "batch nested": [[listing]],
        "params array": rpc("tools/call", ["list_tasks", {}]),
        "params string": rpc("tools/call", "list_tasks"),
        "params number": rpc("tools/call", 1),
        "tools/call no name": rpc("tools/call", {"arguments": {}}),
        "tools/call name null": rpc("tools/call", {"name": None, "arguments": {}}),
        "tools/call unknown tool": rpc("tools/call", {"name": "drop_tables", "arguments": {}}),
        "tools/call name 100k": rpc("tools/call", {"name": "n" * 100_000, "arguments": {}}),
        "tools/call name with NUL": rpc("tools/call", {"name": "list_tasks\x00", "arguments": {}}),
        "tools/call 50k arguments": tool_call("list_tasks", {f"k{i}": i for i in range(50_000)}),
        "initialize empty": rpc("initialize", {}),
        "initialize odd version": rpc(
            "initialize",
            {
                "protocolVersion": "1999-01-01",
                "capabilities": {},
                "clientInfo": {"name": "x", "version": "1"},
            },
        ),
        "initialize 1 MB name": rpc(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "n" * MB, "version": "1"},
            },
        ),
        "logging/setLevel bogus": rpc("logging/setLevel", {"level": "everything"}),
        "resources/read": rpc("resources/read", {"uri": "file:///etc/passwd"}),
        "prompts/get": rpc("prompts/get", {"name": "x"}),
        "completion/complete": rpc("completion/complete", {"ref": {}, "argument": {}}),
        "tools/list cursor junk": rpc("tools/list", {"cursor": "\x00" * 10}),
        "server/discover": rpc("server/discover", {}),
        "ping with params": rpc("ping", {"x": [1] * 1000}),
        # Raw: too deep for the json module to write.
        "deep _meta": b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":'
        b'"list_tasks","arguments":{},"_meta":' + b"[" * 5000 + b"]" * 5000 + b"}}",
    }
    for method in (
        "",
        "foo",
        "tools/cal",
        "rpc.discover",
        "$/cancelRequest",
        "TOOLS/LIST",
        "tools/list\x00",
        "m" * 100_000,
        None,
        123,
        ["ping"],
        {"a": 1},
    ):
        messages[f"method={str(method)[:20]!r}"] = rpc(method, {})
    for name, rpc_id in {
        **IDS,
        "object": {"a": 1},
        "array": [1],
        "string 1 MB": "i" * MB,
        "empty string": "",
        "NUL string": "\x00",
    }.items():
        messages[f"id={name}"] = {**listing, "id": rpc_id}
    for name, message in messages.items():
        body = message if isinstance(message, bytes) else dump(message)
        yield Case("json-rpc", name, MCP, "POST", "/mcp", headers, body, big_field=len(body) >= MB)
    for name, body in {
        "empty body": b"",
        "1 byte": b"{",
        "JSON null": b"null",
        "deep nesting 100k": b"[" * 100_000 + b"]" * 100_000,
        "1 MB of spaces": dump(listing).ljust(MB),
    }.items():
        yield Case("size", name, MCP, "POST", "/mcp", headers, body, big_field=len(body) >= MB)
    head = dump(tool_call("add_task", {"title": "x"}))[:-3] + b', "description": "'
    yield Case(
        "size",
        "50 MB streamed description",
        MCP,
        "POST",
        "/mcp",
        headers,
        head,
        upload_mb=50,
        big_field=True,
        may_hang_up=True,
    )
    yield from _transport_cases(target, dump(listing))


def _transport_cases(target: Target, body: bytes) -> Iterator[Case]:
    """The streamable HTTP transport's own checks: methods, Accept, sessions, versions."""
    base: Headers = (*target.auth, ("Content-Type", JSON))
    variants: dict[str, tuple[str, Headers]] = {
        "no Accept": ("POST", base),
        "Accept only JSON": ("POST", (*base, ("Accept", JSON))),
        "Accept */*": ("POST", (*base, ("Accept", "*/*"))),
        "Accept 10 kB": ("POST", (*base, ("Accept", ", ".join(["a/b"] * 2000)))),
        "bogus protocol version": ("POST", (*base, ACCEPT, ("Mcp-Protocol-Version", "x" * 200))),
        "old protocol version": ("POST", (*base, ACCEPT, ("Mcp-Protocol-Version", "2024-11-05"))),
        "unknown session id": ("POST", (*base, ACCEPT, ("Mcp-Session-Id", "nope"))),
        "session id with controls": ("POST", (*base, ACCEPT, ("Mcp-Session-Id", b"\x01\x7f"))),
        "Mcp-Name mismatch": (
            "POST",
            (*base, ACCEPT, ("Mcp-Protocol-Version", "2026-07-28"), ("Mcp-Name", "get_task")),
        ),
        "Host evil": ("POST", (*base, ACCEPT, ("Host", "evil.invalid"))),
        "Origin evil": ("POST", (*base, ACCEPT, ("Origin", "https://evil.invalid"))),
        "Origin null": ("POST", (*base, ACCEPT, ("Origin", "null"))),
        "GET": ("GET", (*target.auth, ("Accept", "text/event-stream"))),
        "DELETE": ("DELETE", (*target.auth, ("Mcp-Session-Id", "nope"))),
        "PUT": ("PUT", (*base, ACCEPT)),
        "PATCH": ("PATCH", (*base, ACCEPT)),
        "OPTIONS": (
            "OPTIONS",
            (("Origin", "https://evil.invalid"), ("Access-Control-Request-Method", "POST")),
        ),
        "HEAD": ("HEAD", target.auth),
    }
    for name, (method, headers) in variants.items():
        has_body = method in ("POST", "PUT", "PATCH")
        yield Case(
            "transport",
            name,
            MCP,
            method,
            "/mcp",
            headers,
            body if has_body else None,
            open_stream=method == "GET",
        )
    for path in (
        "/mcp/",
        "/mcp/x",
        "/MCP",
        "/healthz?x=" + "y" * 5000,
        "/metrics",
        "/.well-known/oauth-protected-resource",
        "/../mcp",
        "/mcp%00",
        "/%ff",
    ):
        yield Case("transport", f"GET {path[:30]}", MCP, "GET", path, target.auth, open_stream=True)
