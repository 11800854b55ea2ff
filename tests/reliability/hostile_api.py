"""Hostile requests for the chat server's JSON API, page and event stream, odd headers, and
forged or garbled tokens at the doors of both servers."""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import jwt

from tests.e2e.stack import SECRET
from tests.reliability.hostile_inputs import (
    CHAT,
    DATES,
    JSON,
    MB,
    MCP,
    PATH_IDS,
    UNICODE,
    WRONG_TYPES,
    Case,
    Headers,
    Target,
    dump,
)
from tests.reliability.hostile_mcp import ACCEPT, tool_call

NEW_TASK = {
    "title": "panel",
    "due": "2030-01-01",
    "description": "d",
    "priority": "low",
    "tags": ["a"],
    "recurrence": "none",
}


def api_cases(target: Target) -> Iterator[Case]:
    """/api/tasks (GET, POST), /api/tasks/{id}/complete, DELETE /api/tasks/{id}."""
    post: Headers = (*target.auth, ("Content-Type", JSON))
    add = _adder(post)
    yield from _add_type_cases(add)
    yield from _add_size_cases(add, post)
    yield from _add_value_cases(add)
    yield from _list_cases(target)
    yield from _by_id_cases(target, post)


def _adder(post: Headers) -> Callable[..., Case]:
    """A case posting `body` (JSON unless bytes) to /api/tasks."""

    def add(family: str, what: str, body: Any, **kw: Any) -> Case:
        data = body if isinstance(body, bytes) else dump(body, raw=kw.pop("raw", False))
        return Case(family, what, CHAT, "POST", "/api/tasks", post, data, **kw)

    return add


def _add_type_cases(add: Callable[..., Case]) -> Iterator[Case]:
    for field in NEW_TASK:
        for value_name, value in WRONG_TYPES.items():
            yield add("types", f"add {field}={value_name}", {**NEW_TASK, field: value})
    for value_name, value in WRONG_TYPES.items():
        yield add("types", f"add body={value_name}", value)
    yield add("types", "add unknown field", {**NEW_TASK, "user_id": "victim"})
    yield add("types", "add tags as JSON text", {"title": "t", "tags": '["a"]'})


def _add_size_cases(add: Callable[..., Case], post: Headers) -> Iterator[Case]:
    for name, body in {
        "empty": b"",
        "1 byte": b"{",
        "deep nesting 100k": b"[" * 100_000 + b"]" * 100_000,
        "deep objects 20k": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    }.items():
        yield add("size", f"add body {name}", body)
    for field, chars in (
        ("title", 200),
        ("title", 201),
        ("title", 1000),
        ("title", 1001),
        ("description", 2000),
        ("description", 2001),
        ("description", 5001),
    ):
        yield add("size", f"add {field} of {chars} chars", {"title": "t", field: "x" * chars})
    big = "x" * MB
    for field, value in (
        ("title", big),
        ("description", big),
        ("due", big),
        ("tags", [big]),
        ("tags", ["t"] * 100_000),
        ("priority", big),
        ("recurrence", big),
    ):
        body = {"title": "t", field: value} if field != "title" else {"title": value}
        yield add("size", f"add 1 MB {field}", body, big_field=True)
    yield add(
        "range",
        "add priority a 5000-digit number",
        b'{"title": "t", "priority": ' + b"9" * 5000 + b"}",
    )
    yield add("size", "add 1 MB of spaces", dump(NEW_TASK).ljust(MB), big_field=True)
    head = b'{"title": "'
    yield Case(
        "size",
        "add 20 MB streamed title",
        CHAT,
        "POST",
        "/api/tasks",
        post,
        head,
        upload_mb=20,
        big_field=True,
        may_hang_up=True,
    )


def _add_value_cases(add: Callable[..., Case]) -> Iterator[Case]:
    for due in DATES:
        yield add(
            "range", f"add due={due[:40]!r}", {"title": "dated", "due": due, "recurrence": "daily"}
        )
    for name, text in UNICODE.items():
        for raw in (False, True):
            how = "raw UTF-8" if raw else "escaped"
            yield add("unicode", f"add title {name} ({how})", {"title": text}, raw=raw)
            yield add("unicode", f"add tag {name} ({how})", {"title": "t", "tags": [text]}, raw=raw)


def _list_cases(target: Target) -> Iterator[Case]:
    statuses = [
        "pending",
        "done",
        "",
        "ALL",
        "all\x00",
        "%00",
        "\u202eall",
        "a" * 5000,
        "all&status=completed",
    ]
    for status in statuses:
        yield Case(
            "range",
            f"list status={status[:20]!r}",
            CHAT,
            "GET",
            f"/api/tasks?status={quote(status)}",
            target.auth,
        )
    for query in (
        "status=all&status=pending",
        "limit=-1",
        "limit=1000000000000",
        "cursor=" + "c" * 10_000,
        "x=" + "y" * 60_000,
        "%ff%fe=%c0%af",
    ):
        yield Case("range", f"list ?{query[:30]}", CHAT, "GET", f"/api/tasks?{query}", target.auth)


def _by_id_cases(target: Target, post: Headers) -> Iterator[Case]:
    for path_id in [*PATH_IDS, str(target.foreign_task_id)]:
        yield Case(
            "range",
            f"complete id {path_id[:20]!r}",
            CHAT,
            "POST",
            f"/api/tasks/{path_id}/complete",
            post,
            b"{}",
        )
        yield Case(
            "range",
            f"delete id {path_id[:20]!r}",
            CHAT,
            "DELETE",
            f"/api/tasks/{path_id}",
            target.auth,
        )
    complete = f"/api/tasks/{target.task_id}/complete"
    for value_name, value in WRONG_TYPES.items():
        yield Case(
            "types",
            f"complete completed={value_name}",
            CHAT,
            "POST",
            complete,
            post,
            dump({"completed": value}),
        )
        yield Case(
            "types", f"complete body={value_name}", CHAT, "POST", complete, post, dump(value)
        )
    yield Case(
        "range",
        "complete completed=5000-digit number",
        CHAT,
        "POST",
        complete,
        post,
        b'{"completed": ' + b"9" * 5000 + b"}",
    )
    if target.far_recurring_task_id is not None:
        path = f"/api/tasks/{target.far_recurring_task_id}/complete"
        for completed in (True, False, True):
            yield Case(
                "range",
                f"complete recurring task due 9999-12-31 ({completed})",
                CHAT,
                "POST",
                path,
                post,
                dump({"completed": completed}),
            )
    yield Case(
        "size",
        "complete 1 MB body",
        CHAT,
        "POST",
        complete,
        post,
        dump({"completed": True, "x": "x" * MB}),
        big_field=True,
    )
    yield Case(
        "size",
        "complete 5 MB streamed",
        CHAT,
        "POST",
        complete,
        post,
        b'{"completed": true, "x": "',
        upload_mb=5,
        big_field=True,
        may_hang_up=True,
    )


def page_cases(target: Target) -> Iterator[Case]:
    """GET /, static files, health, metrics, unknown paths and methods."""
    gets = [
        "/",
        "/?ui=builtin",
        "/?ui=chatkit",
        "/?ui=" + "u" * 5000,
        "/?ui=%00",
        "/?ui=%3Cscript%3E",
        "/healthz",
        "/readyz",
        "/metrics",
        "/static/",
        "/static/../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2fapp.py",
        "/static/" + "a" * 5000,
        "/static/%00",
        "/api/tasks/",
        "/api",
        "/nope",
        "/docs",
        "/openapi.json",
        "/%ff%fe",
        "/" + "p/" * 2000,
        "/api/me?x=" + "y" * 30_000,
    ]
    for path in gets:
        yield Case("page", f"GET {path[:40]}", CHAT, "GET", path, target.auth)
    for method, path in (
        ("PUT", "/api/tasks"),
        ("PATCH", "/api/tasks/1"),
        ("TRACE", "/"),
        ("DELETE", "/chatkit"),
        ("GET", "/chatkit"),
        ("POST", "/healthz"),
        ("POST", "/api/me"),
        ("POST", "/api/events"),
        ("OPTIONS", "/chatkit"),
        ("HEAD", "/api/tasks"),
        ("DELETE", "/api/tasks"),
        ("PROPFIND", "/"),
    ):
        headers: Headers = (
            *target.auth,
            ("Content-Type", JSON),
            ("Origin", "https://evil.invalid"),
            ("Access-Control-Request-Method", "POST"),
        )
        yield Case(
            "page",
            f"{method} {path}",
            CHAT,
            method,
            path,
            headers,
            b"{}" if method in ("PUT", "PATCH", "POST", "DELETE") else None,
        )


def header_cases(target: Target) -> Iterator[Case]:
    """Odd Host, Origin, X-Timezone, X-Request-ID, cookies and header sizes on the chat server."""
    post: Headers = (*target.auth, ("Content-Type", JSON))
    listing = dump({"type": "threads.list", "params": {}})
    odd: dict[str, Headers] = {
        "Host evil": (("Host", "evil.invalid"),),
        "Host empty": (("Host", ""),),
        "Host with port junk": (("Host", "127.0.0.1:99999999"),),
        "Host IPv6 junk": (("Host", "[::1"),),
        "Origin evil": (("Origin", "https://evil.invalid"),),
        "Origin null": (("Origin", "null"),),
        "Origin junk": (("Origin", "http://[::1:80"),),
        "Origin 5 kB": (("Origin", "https://" + "o" * 5000),),
        "Sec-Fetch-Site cross-site": (("Sec-Fetch-Site", "cross-site"),),
        "X-Request-ID 5 kB": (("X-Request-ID", "r" * 5000),),
        "X-Request-ID newline": (("X-Request-ID", "a\tb c"),),
        "X-Request-ID binary": (("X-Request-ID", b"\xff\xfe\x80"),),
        "cookie 8 kB": (("Cookie", "taskchat_session=" + "c" * 8000),),
        "cookie garbage": (("Cookie", b"\xff=\xfe; ;;=;taskchat_session"),),
        "200 headers": tuple((f"X-H{i}", "v") for i in range(200)),
        "header 60 kB": (("X-Big", "b" * 60_000),),
    }
    for name, extra in odd.items():
        yield Case(
            "headers",
            name,
            CHAT,
            "POST",
            "/chatkit",
            (*post, *extra),
            listing,
            may_hang_up=name == "header 60 kB",
        )
    for zone in (
        "Mars/Olympus",
        "UTC+25",
        "../../../etc/passwd",
        "Etc/GMT+14",
        "posixrules",
        "localtime",
        "a" * 5000,
        "Europe/Paris\u202e",
        "",
        "America/New_York\u00a0",
    ):
        headers: Headers = (*post, ("X-Timezone", zone.encode("utf-8")))
        request = {
            "type": "threads.create",
            "params": {
                "input": {
                    "content": [{"type": "input_text", "text": "what is due today"}],
                    "attachments": [],
                    "inference_options": {},
                }
            },
        }
        yield Case(
            "headers", f"X-Timezone {zone[:20]!r}", CHAT, "POST", "/chatkit", headers, dump(request)
        )
    yield Case(
        "headers",
        "header 1 MB",
        CHAT,
        "GET",
        "/api/me",
        (*target.auth, ("X-Big", "b" * MB)),
        big_field=True,
        may_hang_up=True,
    )
    yield Case(
        "headers",
        "Authorization 1 MB",
        CHAT,
        "GET",
        "/api/me",
        (("Authorization", "Bearer " + "a" * MB),),
        big_field=True,
        may_hang_up=True,
    )


def _jwt(claims: dict[str, Any], key: str = SECRET, **headers: Any) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers=headers or None)


def _raw_jwt(header: str, payload: str, key: str = SECRET) -> str:
    """A token signed over JSON text PyJWT would never write (NaN, Infinity, huge ints)."""

    def part(text: str | bytes) -> str:
        data = text.encode() if isinstance(text, str) else text
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = f"{part(header)}.{part(payload)}"
    signature = hmac.new(key.encode(), signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{part(signature)}"


def hostile_tokens(target: Target) -> dict[str, str | None]:
    """Bearer values that are missing, malformed, forged, expired or strange inside."""
    now = int(time.time())
    later = now + 3600
    hs = '{"alg":"HS256","typ":"JWT"}'
    return {
        "no token": None,
        "garbage": "not-a-token",
        "4 segments": "a.b.c.d",
        "non-base64 segments": "###.$$$.%%%",
        "10 kB garbage": "x" * 10_000,
        "non-ASCII": "t\u00e9\u202e",
        "alg none": jwt.encode({"sub": "mallory", "exp": later}, None, algorithm="none"),
        "wrong key": _jwt({"sub": "mallory", "exp": later}, "another-secret-of-enough-length!!"),
        "expired": _jwt({"sub": "mallory", "exp": now - 10}),
        "no exp": _jwt({"sub": "mallory"}),
        "no sub": _jwt({"exp": later}),
        "sub int": _jwt({"sub": 7, "exp": later}),
        "sub list": _jwt({"sub": ["a"], "exp": later}),
        "sub object": _jwt({"sub": {"id": "a"}, "exp": later}),
        "sub empty": _jwt({"sub": "", "exp": later}),
        "sub 5 kB": _jwt({"sub": "s" * 5000, "exp": later}),
        "sub NUL": _jwt({"sub": "a\x00b", "exp": later}),
        "sub RTL": _jwt({"sub": "a\u202eb", "exp": later}),
        "sub lone surrogate": _raw_jwt(hs, f'{{"sub":"\\ud800","exp":{later}}}'),
        "exp string": _jwt({"sub": "mallory", "exp": "tomorrow"}),
        "exp float": _jwt({"sub": "mallory", "exp": later + 0.5}),
        "exp 1e308": _raw_jwt(hs, '{"sub":"mallory","exp":1e308}'),
        "exp 10^400": _raw_jwt(hs, '{"sub":"mallory","exp":1' + "0" * 400 + "}"),
        "exp Infinity": _raw_jwt(hs, '{"sub":"mallory","exp":Infinity}'),
        "exp NaN": _raw_jwt(hs, '{"sub":"mallory","exp":NaN}'),
        "exp true": _jwt({"sub": "mallory", "exp": True}),
        "exp null": _jwt({"sub": "mallory", "exp": None}),
        "nbf future": _jwt({"sub": "mallory", "exp": later, "nbf": later}),
        "nbf Infinity": _raw_jwt(hs, f'{{"sub":"mallory","exp":{later},"nbf":-Infinity}}'),
        "iat string": _jwt({"sub": "mallory", "exp": later, "iat": "x"}),
        "iat 10^400": _raw_jwt(hs, f'{{"sub":"mallory","exp":{later},"iat":1{"0" * 400}}}'),
        "aud list": _jwt({"sub": "mallory", "exp": later, "aud": ["x", {"a": 1}]}),
        "header crit": _jwt({"sub": "mallory", "exp": later}, crit=["exp"]),
        "header kid 5 kB": _jwt({"sub": "mallory", "exp": later}, kid="k" * 5000),
        "header not JSON": _raw_jwt("{not json", f'{{"sub":"m","exp":{later}}}'),
        "payload not JSON": _raw_jwt(hs, "[1, 2"),
        "payload a list": _raw_jwt(hs, "[1, 2]"),
        "payload 100k deep": _raw_jwt(hs, "[" * 100_000 + "]" * 100_000),
        "service token on chat": target.service_token,
        "user token, lowercase scheme": target.user_token,
    }


def token_cases(target: Target) -> Iterator[Case]:
    """Each hostile token at each door: /api/me, /chatkit, /api/tasks, /api/events, /mcp."""
    listing = dump({"type": "threads.list", "params": {}})
    mcp_body = dump(tool_call("list_tasks", {"limit": 1}))
    for name, bearer in hostile_tokens(target).items():
        scheme = "bearer" if "lowercase" in name else "Bearer"
        auth: Headers = () if bearer is None else (("Authorization", f"{scheme} {bearer}"),)
        json_post: Headers = (*auth, ("Content-Type", JSON))
        # A head far over any sane limit may be refused by closing the connection.
        huge = {"may_hang_up": bearer is not None and len(bearer) > 64_000}
        yield Case("tokens", f"{name}: /api/me", CHAT, "GET", "/api/me", auth, **huge)
        yield Case(
            "tokens", f"{name}: /chatkit", CHAT, "POST", "/chatkit", json_post, listing, **huge
        )
        yield Case("tokens", f"{name}: /api/tasks", CHAT, "GET", "/api/tasks", auth, **huge)
        yield Case(
            "tokens",
            f"{name}: /api/events",
            CHAT,
            "GET",
            "/api/events",
            auth,
            open_stream=True,
            **huge,
        )
        yield Case(
            "tokens", f"{name}: /mcp", MCP, "POST", "/mcp", (*json_post, ACCEPT), mcp_body, **huge
        )
    for scheme in ("Basic dXNlcjpwYXNz", "Bearer", "Token abc", "Bearer a b c", "Bearer\ttab"):
        for server, method, path, body in (
            (CHAT, "GET", "/api/me", None),
            (MCP, "POST", "/mcp", mcp_body),
        ):
            headers: Headers = (("Authorization", scheme), ("Content-Type", JSON), ACCEPT)
            yield Case(
                "tokens", f"Authorization {scheme!r}: {path}", server, method, path, headers, body
            )
    cookie = f"taskchat_session={target.user_token}"
    yield Case(
        "tokens",
        "session cookie without Origin: /chatkit",
        CHAT,
        "POST",
        "/chatkit",
        (("Cookie", cookie), ("Content-Type", JSON)),
        listing,
    )
    yield Case(
        "tokens",
        "session cookie: /api/events",
        CHAT,
        "GET",
        "/api/events",
        (("Cookie", cookie),),
        open_stream=True,
    )
    for query in ("?token=x", "?" + "q" * 20_000, "?last_event_id=-1"):
        yield Case(
            "tokens",
            f"/api/events{query[:20]}",
            CHAT,
            "GET",
            f"/api/events{query}",
            target.auth,
            open_stream=True,
        )
    yield Case(
        "tokens",
        "/api/events Last-Event-ID junk",
        CHAT,
        "GET",
        "/api/events",
        (*target.auth, ("Last-Event-ID", "\x7f" * 100)),
        open_stream=True,
    )
