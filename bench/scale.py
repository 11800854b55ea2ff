"""Scale: listing cost with 1,000 and with 100,000 rows for one user, on SQLite and PostgreSQL.

For each database and size, a fresh database gets its rows by bulk insert (executemany, not
the tools): N tasks, N threads, and one thread with N items, all for one user. Then, in
interleaved rounds, one caller measures the same calls the servers make:
  list_tasks   shared/tasks.list_tasks through run_db (as the MCP tool runs it), 50 per page,
               by creation, due date (latest first; tasks share due dates in runs of 100,
               and every fifth has none), priority and title; first page and 90% deep
  threads.list SQLStore.load_threads, 20 per page, newest first; first page and 90% deep
  items.list   SQLStore.load_thread_items, 50 per page, oldest first; first page and 90% deep
  search       list_tasks(search=...) for a word RARE tasks hold at every size (a selective
               search), and on PostgreSQL the same word with a typo (found by similarity)
Keyset pagination should keep the big/small ratio near 1.

Run: .venv/bin/python -m bench.scale [--quick] [--sizes 1000,100000] [--databases sqlite,postgres]
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata
from sqlalchemy import Table, func, insert, select
from sqlalchemy.engine import Engine

import chat_server.conversation.store_tables  # noqa: F401  (registers the chat tables)
from bench.common import (
    Samples,
    base_parser,
    check,
    database,
    describe_machine,
    finish,
    fmt,
    ms,
    postgres_available,
    rounds,
    table,
    write_json,
)
from chat_server.conversation.store import SQLStore
from chat_server.conversation.store_tables import items_table, threads_table
from mcp_server import tasks
from mcp_server.listing import CursorSecret
from mcp_server.lists import list_id_for
from mcp_server.models import Task, utc_text
from mcp_server.task_rules import encode_cursor
from shared.auth import Principal
from shared.db import make_engine, run_db
from shared.migrate import upgrade_all

USER = Principal("scale-user")
TASKS: Table = Task.metadata.tables["task"]
ITEMS_THREAD = "thr_items"
BATCH = 5_000
DEPTH = 0.9
START = datetime(2024, 1, 1, tzinfo=UTC)
Call = Callable[[], Awaitable[Any]]


def _batches(count: int, make: Callable[[int], dict[str, Any]]) -> Any:
    for start in range(0, count, BATCH):
        yield [make(i) for i in range(start, min(start + BATCH, count))]


def fill(engine: Engine, count: int) -> None:
    """Bulk-insert `count` tasks, threads and items (in one thread) for USER."""
    upgrade_all(engine)
    task_table = TASKS
    thread_json = ThreadMetadata(id="x", created_at=START.replace(tzinfo=None), title="A thread")
    thread_data = thread_json.model_dump_json()
    item = AssistantMessageItem(
        id="x",
        thread_id=ITEMS_THREAD,
        created_at=START.replace(tzinfo=None),
        content=[AssistantMessageContent(text="Added task 7: Buy milk — due tomorrow.")],
    )
    item_data = item.model_dump_json()
    with engine.begin() as conn:
        inbox = list_id_for(conn, USER.user_id, None, create=True, now=START)

    def task_row(i: int) -> dict[str, Any]:
        moment = START + timedelta(seconds=i)
        return {
            "user_id": USER.user_id,
            "title": f"Task {i:07d} {'abcdefgh'[i % 8]}",
            "description": RARE_TEXT if i % (count // RARE) == 0 else "some words about it",
            "completed": i % 3 == 0,
            "priority": i % 3,
            "tags": ["home", "errands"][: i % 3],
            "due_at": moment + timedelta(days=3),
            "due_is_date": True,
            "recurrence": "none",
            "list_id": inbox,
            "created_at": moment,
            "updated_at": moment,
        }

    def thread_row(i: int) -> dict[str, Any]:
        moment = START + timedelta(seconds=i)
        return {
            "id": f"thr_{i:08d}",
            "user_id": USER.user_id,
            "created_at": moment,
            "data": thread_data.replace('"id":"x"', f'"id":"thr_{i:08d}"'),
        }

    def item_row(i: int) -> dict[str, Any]:
        moment = START + timedelta(seconds=i)
        return {
            "id": f"msg_{i:08d}",
            "user_id": USER.user_id,
            "thread_id": ITEMS_THREAD,
            "created_at": moment,
            "data": item_data.replace('"id":"x"', f'"id":"msg_{i:08d}"'),
        }

    with engine.begin() as conn:
        for rows in _batches(count, task_row):
            conn.execute(insert(task_table), rows)
        for rows in _batches(count, thread_row):
            conn.execute(insert(threads_table), rows)
        conn.execute(
            insert(threads_table),
            [
                {
                    "id": ITEMS_THREAD,
                    "user_id": USER.user_id,
                    "created_at": START,
                    "data": thread_data.replace('"id":"x"', f'"id":"{ITEMS_THREAD}"'),
                }
            ],
        )
        for rows in _batches(count, item_row):
            conn.execute(insert(items_table), rows)
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: fresh statistics, and the rows queued
        # in the search index's pending list (GIN's fast update) moved into the index.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


SORTS = {  # sort -> the order its pages are asked in
    "created": "asc",
    "due": "desc",
    "priority": "asc",
    "title": "asc",
}


def deep_task_cursor(engine: Engine, sort: str, order: str, count: int) -> str:
    """The cursor list_tasks would return for the page that starts DEPTH into the list."""
    t = TASKS
    key = {
        "created": t.c.created_at,
        "due": t.c.due_at,
        "priority": t.c.priority,
        "title": func.lower(t.c.title),
    }[sort]
    # The cursor holds what list_tasks shows: timestamps as its UTC text.
    shown = {"created": utc_text(t.c.created_at), "due": utc_text(t.c.due_at)}.get(sort, key)
    ordering = [key.desc().nulls_last(), t.c.id.desc()] if order == "desc" else [key, t.c.id]
    query = (
        select(shown, t.c.id)
        .where(t.c.user_id == USER.user_id)
        .order_by(*ordering)
        .offset(int(count * DEPTH))
        .limit(1)
    )
    with engine.connect() as conn:
        value, task_id = conn.execute(query).one()
        secret = CursorSecret().get(conn)
    return encode_cursor(secret, sort, order, value, task_id)


RARE = 10
"""Tasks holding RARE_TEXT, at every size: what a selective search finds."""
RARE_TEXT = "call the plumber"
SEARCHES = {  # what a search asks for -> the databases it is measured on
    "plumber": ("sqlite", "postgres"),
    # A typo: nothing holds it, so PostgreSQL looks for words like it (pg_trgm).
    "plumbr": ("postgres",),
}
PAGE = 50
"""Tasks and thread items per page, as the browser page asks for them."""
THREAD_PAGE = 20
"""Threads per page, as the ChatKit sidebar asks for them."""
MIN_ROWS = 1000
"""The smallest table measured: below it every page is the first."""


def searches(engine: Engine) -> dict[str, Call]:
    """The measured searches (the same at every size: RARE tasks match)."""

    def search(term: str) -> Call:
        query = tasks.TaskQuery(search=term, limit=PAGE)

        async def call() -> Any:
            page = await run_db(engine, tasks.list_tasks, user_id=USER.user_id, query=query)
            assert len(page["tasks"]) == RARE, len(page["tasks"])

        return call

    kind = "sqlite" if engine.dialect.name == "sqlite" else "postgres"
    return {
        f"list_tasks search {term!r}, {RARE} match": search(term)
        for term, kinds in SEARCHES.items()
        if kind in kinds
    }


def calls(engine: Engine, count: int) -> dict[str, Call]:
    """The measured calls against one filled database."""
    store = SQLStore(engine)
    deep = int(count * DEPTH)
    # threads.list is newest first, so 90% deep is an old thread; items are oldest first.
    deep_thread = f"thr_{count - 1 - deep:08d}"
    deep_item = f"msg_{deep:08d}"

    def list_tasks(sort: str, cursor: str | None) -> Call:
        query = tasks.TaskQuery(sort=sort, order=SORTS[sort], limit=PAGE, cursor=cursor)

        async def call() -> Any:
            page = await run_db(engine, tasks.list_tasks, user_id=USER.user_id, query=query)
            assert len(page["tasks"]) == PAGE, len(page["tasks"])

        return call

    def threads(after: str | None) -> Call:
        async def call() -> Any:
            page = await store.load_threads(THREAD_PAGE, after, "desc", USER)
            assert len(page.data) == THREAD_PAGE

        return call

    def items(after: str | None) -> Call:
        async def call() -> Any:
            page = await store.load_thread_items(ITEMS_THREAD, after, PAGE, "asc", USER)
            assert len(page.data) == PAGE

        return call

    measured: dict[str, Call] = {}
    for sort, order in SORTS.items():
        name = f"list_tasks by {sort} {order}"
        measured[f"{name}, first page"] = list_tasks(sort, None)
        measured[f"{name}, 90% deep"] = list_tasks(
            sort, deep_task_cursor(engine, sort, order, count)
        )
    return {
        **measured,
        **searches(engine),
        "threads.list, first page": threads(None),
        "threads.list, 90% deep": threads(deep_thread),
        "items.list, first page": items(None),
        "items.list, 90% deep": items(deep_item),
    }


async def measure(args: Any, engines: dict[tuple[str, int], Engine]) -> dict[tuple, Samples]:
    cells = [
        (kind, size, name)
        for (kind, size), engine in engines.items()
        for name in calls(engine, size)
    ]
    prepared = {(kind, size): calls(engine, size) for (kind, size), engine in engines.items()}
    results = {cell: Samples() for cell in cells}
    for kind, size, name in cells:  # warm caches and connection pools
        for _ in range(args.warmup):
            await prepared[kind, size][name]()
    for _, order in rounds(args.rounds, cells):
        for kind, size, name in order:
            call = prepared[kind, size][name]
            latencies = []
            start = time.perf_counter()
            for _ in range(args.calls):
                begin = time.perf_counter()
                await call()
                latencies.append(time.perf_counter() - begin)
            results[kind, size, name].add_round(latencies, time.perf_counter() - start)
    return results


def report(args: Any, results: dict[tuple, Samples]) -> dict[str, Any]:
    small, big = min(args.sizes), max(args.sizes)
    headers = [
        "database",
        "call",
        *(f"{s:,} rows p50 ms" for s in (small, big)),
        *(f"{s:,} rows p95 ms" for s in (small, big)),
        f"{big:,} ÷ {small:,} (p50)",
    ]
    rows, out = [], {}
    for kind in args.databases:
        names = [name for k, size, name in results if k == kind and size == small]
        for name in names:
            a, b = results[kind, small, name], results[kind, big, name]
            ratio = b.p50 / a.p50
            rows.append(
                [
                    kind,
                    name,
                    fmt(ms(a.p50)),
                    fmt(ms(b.p50)),
                    fmt(ms(a.p95)),
                    fmt(ms(b.p95)),
                    fmt(ratio),
                ]
            )
            out[f"{kind}/{name}"] = {"small": a.summary(), "big": b.summary(), "ratio": ratio}
    print(
        table(
            f"Listing cost by rows per user ({args.rounds} rounds of {args.calls} calls)",
            headers,
            rows,
        )
    )
    return {"sizes": [small, big], "cells": out}


async def run(args: Any) -> None:
    print(describe_machine("before"))
    with ExitStack() as stack:
        engines = {}
        for kind in args.databases:
            for size in args.sizes:
                url = stack.enter_context(database(kind))
                engine = make_engine(url)
                stack.callback(engine.dispose)
                started = time.perf_counter()
                await asyncio.to_thread(fill, engine, size)
                took = time.perf_counter() - started
                print(f"filled {kind} with {size:,} tasks, threads and items in {took:.1f} s")
                engines[kind, size] = engine
        results = await measure(args, engines)
    print(describe_machine("after"))
    out = report(args, results)
    problems: list[str] = []
    for name, cell in out["cells"].items():
        check(cell["ratio"] > 0, f"{name}: no ratio", problems)
    write_json(args, {"benchmark": "scale", **out})
    finish(problems)


def main(argv: list[str] | None = None) -> None:
    """Parse options and run the benchmark."""
    parser = base_parser(__doc__)
    parser.add_argument("--sizes", help="two row counts, comma-separated (default 1000,100000)")
    parser.add_argument("--databases", help="sqlite,postgres (default: both if reachable)")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 5)
    sizes = args.sizes or ("1000,10000" if args.quick else "1000,100000")
    args.sizes = sorted(int(s) for s in sizes.split(","))
    if len(args.sizes) != len(("small", "large")) or args.sizes[0] < MIN_ROWS:
        parser.error("--sizes takes two row counts of at least 1000, like 1000,100000")
    default = "sqlite,postgres" if postgres_available() else "sqlite"
    args.databases = (args.databases or default).split(",")
    args.calls = 20 if args.quick else 100
    args.warmup = 3 if args.quick else 20
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
