"""SQLStore against real databases: round trips, upserts, pages, isolation, restarts, time zones."""

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from chatkit.server import ChatKitServer, StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    CustomTask,
    FileAttachment,
    LockedStatus,
    Page,
    Thread,
    ThreadItem,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    Workflow,
    WorkflowItem,
)
from pydantic import TypeAdapter
from sqlalchemy import Engine, create_engine, func, inspect, select

from chat_server.conversation.store import SQLStore
from chat_server.conversation.store_tables import ChatThread, ChatThreadItem, threads_table
from shared.auth import Principal
from shared.db import make_engine
from shared.migrate import upgrade_all

ALICE = Principal("alice")
BOB = Principal("bob")
ITEM = TypeAdapter(ThreadItem)
NOW = datetime(2025, 3, 14, 9, 26, 53, 589793)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> SQLStore:
    return SQLStore(engine)


@pytest.fixture
def india_time() -> Iterator[None]:
    """Run with the machine's local zone set to UTC+05:30 (a POSIX TZ: no tzdata needed)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "IST-5:30"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def count(engine: Engine, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(getattr(table, column) == value)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def stored_created_at(engine: Engine, thread_id: str) -> datetime:
    """The thread's created_at column as the database holds it."""
    query = select(threads_table.c.created_at).where(threads_table.c.id == thread_id)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def item(thread_id: str, item_id: str, **fields: Any) -> ThreadItem:
    """A thread item from JSON-shaped fields, as chatkit would build it (naive local time)."""
    data = {"type": "assistant_message", "content": [{"text": item_id}], **fields}
    return ITEM.validate_python({"id": item_id, "thread_id": thread_id, "created_at": NOW, **data})


async def new_thread(
    store: SQLStore, user: Principal = ALICE, title: str | None = None
) -> ThreadMetadata:
    thread = ThreadMetadata(id=store.generate_thread_id(user), created_at=NOW, title=title)
    await store.save_thread(thread, user)
    return thread


async def thread_with_items(store: SQLStore, n: int, user: Principal = ALICE) -> ThreadMetadata:
    thread = await new_thread(store, user)
    for i in range(n):
        await store.add_thread_item(thread.id, item(thread.id, f"m{i}"), user)
    return thread


def ids(page: Page[Any]) -> list[str]:
    return [row.id for row in page.data]


def attachment(attachment_id: str, thread_id: str | None = None) -> FileAttachment:
    return FileAttachment(
        id=attachment_id, name="notes.txt", mime_type="text/plain", thread_id=thread_id
    )


def every_item_variant(thread_id: str) -> list[ThreadItem]:
    """One of each ThreadItem variant chatkit 1.6.5 defines, with its optional parts filled."""
    image = {
        "type": "image",
        "id": "atc_img",
        "name": "cat.png",
        "mime_type": "image/png",
        "preview_url": "https://example.test/cat.png",
        "thread_id": thread_id,
        "metadata": {"bucket": "uploads"},
        "upload_descriptor": {"url": "https://example.test/up", "method": "PUT"},
    }
    sources = [
        {"type": "url", "title": "Docs", "url": "https://example.test/docs", "attribution": "ex"},
        {"type": "file", "title": "Plan", "filename": "plan.pdf"},
        {"type": "entity", "title": "Task 7", "id": "task_7", "data": {"task_id": 7}},
    ]
    variants: list[dict[str, Any]] = [
        {
            "type": "user_message",
            "content": [
                {"type": "input_text", "text": "add buy milk"},
                {"type": "input_tag", "id": "t1", "text": "@groceries", "data": {"k": [1, 2]}},
            ],
            "attachments": [image],
            "quoted_text": "milk",
            "inference_options": {"tool_choice": {"id": "add_task"}, "model": "gpt-x"},
        },
        {
            "type": "assistant_message",
            "content": [
                {
                    "text": "Added “buy milk” ✓",
                    "annotations": [
                        {"source": source, "index": n} for n, source in enumerate(sources)
                    ],
                }
            ],
        },
        {
            "type": "client_tool_call",
            "status": "completed",
            "call_id": "call_1",
            "name": "pick_date",
            "arguments": {"default": "2025-03-15", "nested": {"a": None}},
            "output": {"date": "2025-03-16"},
        },
        {
            "type": "widget",
            "copy_text": "1 task",
            "widget": {
                "type": "Card",
                "children": [
                    {"type": "Text", "value": "buy milk", "italic": True},
                    {
                        "type": "Button",
                        "label": "Done",
                        "onClickAction": {"type": "task.complete", "payload": {"task_id": 7}},
                    },
                ],
            },
        },
        {"type": "generated_image", "image": {"id": "img_1", "url": "https://example.test/i"}},
        {
            "type": "structured_input",
            "status": "answered",
            "inputs": [
                {
                    "type": "multiple_choice",
                    "id": "q1",
                    "question": "Priority?",
                    "options": [{"value": "low"}, {"value": "high"}],
                    "answer": {"values": ["high"]},
                },
                {"type": "freeform", "id": "q2", "question": "Notes?", "description": "any"},
            ],
        },
        {
            "type": "workflow",
            "workflow": {
                "type": "custom",
                "expanded": True,
                "summary": {"duration": 3},
                "tasks": [
                    {"type": "custom", "title": "add_task", "content": "ok", "icon": "check"},
                    {"type": "web_search", "queries": ["milk"], "sources": [sources[0]]},
                    {"type": "thought", "content": "thinking", "status_indicator": "complete"},
                    {"type": "file", "sources": [sources[1]]},
                    {"type": "image", "title": "img"},
                ],
            },
        },
        {"type": "task", "task": {"type": "custom", "title": "Listing tasks"}},
        {"type": "hidden_context_item", "content": {"tool": "add_task", "result": [1, "x"]}},
        {"type": "sdk_hidden_context", "content": "The user cancelled the stream."},
        {"type": "end_of_turn"},
    ]
    return [
        ITEM.validate_python({"id": f"i{n}", "thread_id": thread_id, "created_at": NOW, **v})
        for n, v in enumerate(variants)
    ]


# -- round trips --------------------------------------------------------------------------


async def test_every_thread_item_variant_round_trips_unchanged(store: SQLStore) -> None:
    thread = await new_thread(store)
    originals = every_item_variant(thread.id)
    assert len({type(original) for original in originals}) == 11
    for original in originals:
        await store.add_thread_item(thread.id, original, ALICE)

    page = await store.load_thread_items(thread.id, None, 50, "asc", ALICE)

    assert page.data == originals
    assert [type(loaded) for loaded in page.data] == [type(o) for o in originals]
    for original in originals:
        assert await store.load_item(thread.id, original.id, ALICE) == original


async def test_history_is_the_last_items_oldest_first_without_the_skipped_types(
    store: SQLStore,
) -> None:
    thread = await new_thread(store)
    variants = every_item_variant(thread.id)
    for variant in variants:
        await store.add_thread_item(thread.id, variant, ALICE)
    everything = await store.load_history(thread.id, len(variants), ALICE)
    assert everything == variants
    kept = await store.load_history(thread.id, 8, ALICE, skip={"widget", "workflow"})
    assert [item.type for item in kept] == [
        "generated_image",
        "structured_input",
        "task",
        "hidden_context_item",
        "sdk_hidden_context",
        "end_of_turn",
    ]
    assert kept == [v for v in variants[-8:] if v.type not in ("widget", "workflow")]
    assert await store.load_history(thread.id, 8, BOB) == []


async def test_thread_metadata_round_trips_title_status_and_metadata(store: SQLStore) -> None:
    thread = ThreadMetadata(
        id="thr_meta",
        created_at=NOW,
        title="Groceries",
        status=LockedStatus(reason="archived"),
        allowed_image_domains=["example.test"],
        metadata={"previous_response_id": "resp_1", "n": 2},
    )
    await store.save_thread(thread, ALICE)

    loaded = await store.load_thread("thr_meta", ALICE)

    assert loaded == thread
    assert type(loaded) is ThreadMetadata


async def test_saving_a_full_thread_stores_only_its_metadata(store: SQLStore) -> None:
    full = Thread(id="thr_full", created_at=NOW, title="t", items=Page(data=[item("x", "m0")]))
    await store.save_thread(full, ALICE)

    loaded = await store.load_thread("thr_full", ALICE)

    assert type(loaded) is ThreadMetadata
    assert loaded == ThreadMetadata(id="thr_full", created_at=NOW, title="t")
    assert (await store.load_thread_items("thr_full", None, 10, "asc", ALICE)).data == []


async def test_attachments_are_never_stored(store: SQLStore) -> None:
    with pytest.raises(NotImplementedError, match="attachments are not supported"):
        await store.save_attachment(attachment("atc_1"), ALICE)
    with pytest.raises(NotFoundError, match="attachment atc_1 not found"):
        await store.load_attachment("atc_1", ALICE)
    with pytest.raises(NotFoundError, match="attachment atc_1 not found"):
        await store.delete_attachment("atc_1", ALICE)


# -- upserts ------------------------------------------------------------------------------


async def test_saving_a_thread_twice_keeps_one_row_with_the_latest_content(
    store: SQLStore, engine: Engine
) -> None:
    thread = await new_thread(store, title="first")
    thread.title = "second"
    thread.metadata = {"turns": 2}

    await store.save_thread(thread, ALICE)

    assert count(engine, ChatThread, id=thread.id) == 1
    loaded = await store.load_thread(thread.id, ALICE)
    assert (loaded.title, loaded.metadata) == ("second", {"turns": 2})


async def test_saving_an_item_twice_keeps_one_row_with_latest_content_in_its_place(
    store: SQLStore, engine: Engine
) -> None:
    thread = await thread_with_items(store, 3)

    await store.save_item(thread.id, item(thread.id, "m1", content=[{"text": "edited"}]), ALICE)

    assert count(engine, ChatThreadItem, thread_id=thread.id, id="m1") == 1
    page = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
    assert ids(page) == ["m0", "m1", "m2"]
    assert page.data[1].content == [AssistantMessageContent(text="edited")]  # type: ignore[union-attr]


async def test_adding_an_item_with_an_existing_id_updates_it_in_place(store: SQLStore) -> None:
    thread = await thread_with_items(store, 2)

    await store.add_thread_item(thread.id, item(thread.id, "m0", content=[{"text": "new"}]), ALICE)

    page = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
    assert ids(page) == ["m0", "m1"]
    assert page.data[0].content[0].text == "new"  # type: ignore[union-attr]


async def test_save_item_for_a_new_id_appends_it(store: SQLStore) -> None:
    thread = await thread_with_items(store, 1)

    await store.save_item(thread.id, item(thread.id, "late"), ALICE)

    assert ids(await store.load_thread_items(thread.id, None, 10, "asc", ALICE)) == ["m0", "late"]


async def test_the_same_item_id_in_two_threads_is_two_items(store: SQLStore) -> None:
    first, second = await new_thread(store), await new_thread(store)
    await store.add_thread_item(
        first.id, item(first.id, "msg_same", content=[{"text": "a"}]), ALICE
    )
    await store.add_thread_item(
        second.id, item(second.id, "msg_same", content=[{"text": "b"}]), ALICE
    )

    loaded_first = await store.load_item(first.id, "msg_same", ALICE)
    loaded_second = await store.load_item(second.id, "msg_same", ALICE)

    assert loaded_first.content[0].text == "a"  # type: ignore[union-attr]
    assert loaded_second.content[0].text == "b"  # type: ignore[union-attr]


async def test_concurrent_saves_of_one_thread_leave_one_row(
    store: SQLStore, engine: Engine
) -> None:
    thread = await new_thread(store)
    titles = [f"title {n}" for n in range(16)]

    await asyncio.gather(
        *(store.save_thread(thread.model_copy(update={"title": title}), ALICE) for title in titles)
    )

    assert count(engine, ChatThread, id=thread.id) == 1
    assert (await store.load_thread(thread.id, ALICE)).title in titles


async def test_concurrent_item_adds_all_land_in_distinct_places(store: SQLStore) -> None:
    thread = await new_thread(store)
    new_ids = {f"c{n}" for n in range(16)}

    await asyncio.gather(
        *(store.add_thread_item(thread.id, item(thread.id, i), ALICE) for i in new_ids)
    )

    page = await store.load_thread_items(thread.id, None, 50, "asc", ALICE)
    assert sorted(ids(page)) == sorted(new_ids)


async def test_an_item_for_another_thread_than_named_is_refused(store: SQLStore) -> None:
    thread = await new_thread(store)

    with pytest.raises(ValueError, match="item m0 belongs to thread thr_other, not thr_"):
        await store.add_thread_item(thread.id, item("thr_other", "m0"), ALICE)


# -- pagination ---------------------------------------------------------------------------


async def test_items_page_oldest_first_with_exact_cursors(store: SQLStore) -> None:
    thread = await thread_with_items(store, 7)

    first = await store.load_thread_items(thread.id, None, 3, "asc", ALICE)
    second = await store.load_thread_items(thread.id, first.after, 3, "asc", ALICE)
    third = await store.load_thread_items(thread.id, second.after, 3, "asc", ALICE)

    assert (ids(first), first.has_more, first.after) == (["m0", "m1", "m2"], True, "m2")
    assert (ids(second), second.has_more, second.after) == (["m3", "m4", "m5"], True, "m5")
    assert (ids(third), third.has_more, third.after) == (["m6"], False, None)


async def test_items_page_newest_first_with_exact_cursors(store: SQLStore) -> None:
    thread = await thread_with_items(store, 7)

    first = await store.load_thread_items(thread.id, None, 3, "desc", ALICE)
    second = await store.load_thread_items(thread.id, first.after, 3, "desc", ALICE)
    third = await store.load_thread_items(thread.id, second.after, 3, "desc", ALICE)

    assert (ids(first), first.has_more, first.after) == (["m6", "m5", "m4"], True, "m4")
    assert (ids(second), second.has_more, second.after) == (["m3", "m2", "m1"], True, "m1")
    assert (ids(third), third.has_more, third.after) == (["m0"], False, None)


async def test_a_page_that_ends_exactly_at_the_last_item_has_no_more(store: SQLStore) -> None:
    thread = await thread_with_items(store, 4)

    first = await store.load_thread_items(thread.id, None, 2, "asc", ALICE)
    last = await store.load_thread_items(thread.id, first.after, 2, "asc", ALICE)

    assert (ids(first), first.has_more, first.after) == (["m0", "m1"], True, "m1")
    assert (ids(last), last.has_more, last.after) == (["m2", "m3"], False, None)


async def test_items_with_equal_timestamps_keep_insertion_order(store: SQLStore) -> None:
    thread = await new_thread(store)
    for item_id in ["z", "a", "m"]:  # same created_at, ids in no sorted order
        await store.add_thread_item(thread.id, item(thread.id, item_id), ALICE)

    page = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)

    assert ids(page) == ["z", "a", "m"]


async def test_threads_list_newest_first_for_desc_and_oldest_first_for_asc(
    store: SQLStore,
) -> None:
    made = [(await new_thread(store, title=f"t{n}")).id for n in range(5)]
    await new_thread(store, BOB)

    desc_1 = await store.load_threads(2, None, "desc", ALICE)
    desc_2 = await store.load_threads(2, desc_1.after, "desc", ALICE)
    desc_3 = await store.load_threads(2, desc_2.after, "desc", ALICE)
    asc_1 = await store.load_threads(3, None, "asc", ALICE)
    asc_2 = await store.load_threads(3, asc_1.after, "asc", ALICE)

    assert (ids(desc_1), desc_1.has_more, desc_1.after) == (made[4:2:-1], True, made[3])
    assert (ids(desc_2), desc_2.has_more, desc_2.after) == (made[2:0:-1], True, made[1])
    assert (ids(desc_3), desc_3.has_more, desc_3.after) == ([made[0]], False, None)
    assert (ids(asc_1), asc_1.has_more, asc_1.after) == (made[:3], True, made[2])
    assert (ids(asc_2), asc_2.has_more, asc_2.after) == (made[3:], False, None)
    assert [t.title for t in desc_1.data] == ["t4", "t3"]


async def test_re_saving_a_thread_does_not_move_it_in_the_list(store: SQLStore) -> None:
    older, newer = await new_thread(store), await new_thread(store)
    older.title = "renamed"

    await store.save_thread(older, ALICE)

    assert ids(await store.load_threads(10, None, "desc", ALICE)) == [newer.id, older.id]


async def test_an_empty_thread_gives_an_empty_page(store: SQLStore) -> None:
    thread = await new_thread(store)

    page = await store.load_thread_items(thread.id, None, 10, "desc", ALICE)

    assert (page.data, page.has_more, page.after) == ([], False, None)
    assert (await store.load_threads(10, None, "desc", BOB)).data == []


async def test_an_unknown_or_foreign_after_cursor_is_not_found(store: SQLStore) -> None:
    thread = await thread_with_items(store, 2)
    bobs = await thread_with_items(store, 1, BOB)

    with pytest.raises(NotFoundError, match="item nope not found in thread"):
        await store.load_thread_items(thread.id, "nope", 10, "asc", ALICE)
    with pytest.raises(NotFoundError, match=f"thread {bobs.id} not found"):
        await store.load_threads(10, bobs.id, "desc", ALICE)
    with pytest.raises(NotFoundError, match="thread thr_nope not found"):
        await store.load_threads(10, "thr_nope", "asc", ALICE)


async def test_a_bad_order_or_limit_is_refused_with_a_clear_message(store: SQLStore) -> None:
    thread = await new_thread(store)

    with pytest.raises(ValueError, match="order must be 'asc' or 'desc', not 'up'"):
        await store.load_thread_items(thread.id, None, 10, "up", ALICE)
    with pytest.raises(ValueError, match="limit must be at least 1, not 0"):
        await store.load_threads(0, None, "asc", ALICE)


# -- user isolation -----------------------------------------------------------------------


async def test_another_user_cannot_load_or_list_a_thread(store: SQLStore) -> None:
    thread = await thread_with_items(store, 2)

    with pytest.raises(NotFoundError, match=f"thread {thread.id} not found"):
        await store.load_thread(thread.id, BOB)
    with pytest.raises(NotFoundError, match=f"thread {thread.id} not found"):
        await store.load_thread_items(thread.id, None, 10, "asc", BOB)
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, "m0", BOB)
    assert (await store.load_threads(10, None, "desc", BOB)).data == []


async def test_another_user_cannot_save_over_a_thread(store: SQLStore) -> None:
    thread = await new_thread(store, title="alice's")

    with pytest.raises(NotFoundError, match=f"thread {thread.id} not found"):
        await store.save_thread(thread.model_copy(update={"title": "bob's"}), BOB)

    assert (await store.load_thread(thread.id, ALICE)).title == "alice's"
    assert (await store.load_threads(10, None, "desc", BOB)).data == []


async def test_another_user_cannot_add_save_or_delete_items(
    store: SQLStore, engine: Engine
) -> None:
    thread = await thread_with_items(store, 1)
    before = await store.load_item(thread.id, "m0", ALICE)

    with pytest.raises(NotFoundError):
        await store.add_thread_item(thread.id, item(thread.id, "bob_new"), BOB)
    with pytest.raises(NotFoundError):
        await store.save_item(thread.id, item(thread.id, "m0", content=[{"text": "bob"}]), BOB)
    with pytest.raises(NotFoundError):
        await store.delete_thread_item(thread.id, "m0", BOB)

    assert await store.load_item(thread.id, "m0", ALICE) == before
    assert count(engine, ChatThreadItem, thread_id=thread.id) == 1


async def test_another_user_cannot_delete_a_thread(store: SQLStore) -> None:
    thread = await thread_with_items(store, 1)

    with pytest.raises(NotFoundError, match=f"thread {thread.id} not found"):
        await store.delete_thread(thread.id, BOB)

    assert (await store.load_thread(thread.id, ALICE)).id == thread.id
    assert ids(await store.load_thread_items(thread.id, None, 10, "asc", ALICE)) == ["m0"]


async def test_ownership_checks_answer_only_for_the_owner(store: SQLStore) -> None:
    thread = await thread_with_items(store, 2)

    assert await store.thread_exists(thread.id, ALICE)
    assert not await store.thread_exists(thread.id, BOB)
    assert not await store.thread_exists("thr_missing", ALICE)
    assert await store.item_exists(thread.id, "m1", ALICE)
    assert not await store.item_exists(thread.id, "m1", BOB)
    assert not await store.item_exists(thread.id, "m9", ALICE)
    assert await store.missing_items(thread.id, ["m0", "m9", "m1", "m9"], ALICE) == ["m9"]
    assert await store.missing_items(thread.id, ["m0"], BOB) == ["m0"]
    assert await store.missing_items(thread.id, [], ALICE) == []


# -- deletes ------------------------------------------------------------------------------


async def test_deleting_a_thread_deletes_its_items(store: SQLStore, engine: Engine) -> None:
    doomed = await thread_with_items(store, 3)
    kept = await thread_with_items(store, 2)

    await store.delete_thread(doomed.id, ALICE)

    assert not await store.thread_exists(doomed.id, ALICE)
    assert count(engine, ChatThreadItem, thread_id=doomed.id) == 0
    assert ids(await store.load_thread_items(kept.id, None, 10, "asc", ALICE)) == ["m0", "m1"]
    assert ids(await store.load_threads(10, None, "asc", ALICE)) == [kept.id]


async def test_deleting_an_item_removes_only_that_item(store: SQLStore) -> None:
    thread = await thread_with_items(store, 3)

    await store.delete_thread_item(thread.id, "m1", ALICE)

    assert ids(await store.load_thread_items(thread.id, None, 10, "asc", ALICE)) == ["m0", "m2"]
    with pytest.raises(NotFoundError, match=f"item m1 not found in thread {thread.id}"):
        await store.load_item(thread.id, "m1", ALICE)


async def test_deleting_an_item_already_gone_is_a_no_op(store: SQLStore) -> None:
    thread = await thread_with_items(store, 1)

    await store.delete_thread_item(thread.id, "never_saved", ALICE)

    assert ids(await store.load_thread_items(thread.id, None, 10, "asc", ALICE)) == ["m0"]


async def test_deleting_what_does_not_exist_is_not_found(store: SQLStore) -> None:
    with pytest.raises(NotFoundError, match="thread thr_missing not found"):
        await store.delete_thread("thr_missing", ALICE)
    with pytest.raises(NotFoundError, match="thread thr_missing not found"):
        await store.delete_thread_item("thr_missing", "m0", ALICE)
    with pytest.raises(NotFoundError, match="attachment atc_missing not found"):
        await store.delete_attachment("atc_missing", ALICE)


async def test_writing_items_into_a_missing_thread_is_not_found(store: SQLStore) -> None:
    with pytest.raises(NotFoundError, match="thread thr_missing not found"):
        await store.add_thread_item("thr_missing", item("thr_missing", "m0"), ALICE)
    with pytest.raises(NotFoundError, match="thread thr_missing not found"):
        await store.load_thread_items("thr_missing", None, 10, "asc", ALICE)


# -- restarts and time --------------------------------------------------------------------


async def test_a_new_engine_and_store_see_everything(database_url: str) -> None:
    first_engine = make_engine(database_url)
    upgrade_all(first_engine)
    first = SQLStore(first_engine)
    thread = await new_thread(first, title="survives")
    originals = every_item_variant(thread.id)
    for original in originals:
        await first.add_thread_item(thread.id, original, ALICE)
    first_engine.dispose()

    second_engine = make_engine(database_url)
    upgrade_all(second_engine)  # idempotent on an existing schema
    second = SQLStore(second_engine)
    try:
        assert await second.load_thread(thread.id, ALICE) == thread
        assert (await second.load_thread_items(thread.id, None, 50, "asc", ALICE)).data == originals
        assert ids(await second.load_threads(10, None, "desc", ALICE)) == [thread.id]
    finally:
        second_engine.dispose()


async def test_naive_times_are_local_stored_as_utc_and_come_back_naive_local(
    store: SQLStore, engine: Engine, india_time: None
) -> None:
    thread = ThreadMetadata(id="thr_tz", created_at=datetime(2025, 1, 15, 10, 0, 0, 123456))
    await store.save_thread(thread, ALICE)
    await store.add_thread_item("thr_tz", item("thr_tz", "m0", created_at=thread.created_at), ALICE)

    stored_at = stored_created_at(engine, "thr_tz")
    loaded_thread = await store.load_thread("thr_tz", ALICE)
    loaded_item = await store.load_item("thr_tz", "m0", ALICE)

    assert stored_at == datetime(2025, 1, 15, 4, 30, 0, 123456, tzinfo=UTC)
    assert loaded_thread.created_at == datetime(2025, 1, 15, 10, 0, 0, 123456)
    assert loaded_thread.created_at.tzinfo is None
    assert loaded_item.created_at == datetime(2025, 1, 15, 10, 0, 0, 123456)
    # What chatkit does with a loaded workflow item; aware values would raise TypeError.
    assert datetime.now() - loaded_item.created_at > timedelta(0)


async def test_aware_times_are_stored_as_utc_and_come_back_as_naive_local(
    store: SQLStore, engine: Engine, india_time: None
) -> None:
    berlin = timezone(timedelta(hours=1))
    created = datetime(2025, 1, 15, 10, 0, tzinfo=berlin)
    await store.save_thread(ThreadMetadata(id="thr_aware", created_at=created), ALICE)

    stored_at = stored_created_at(engine, "thr_aware")
    loaded = await store.load_thread("thr_aware", ALICE)

    assert stored_at == datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    assert loaded.created_at == datetime(2025, 1, 15, 14, 30)


def test_generated_thread_ids_are_long_and_distinct(engine: Engine) -> None:
    store = SQLStore(engine)
    made = {store.generate_thread_id(ALICE) for _ in range(1000)}

    assert len(made) == 1000
    assert all(thread_id.startswith("thr_") and len(thread_id) == 36 for thread_id in made)


def test_the_tables_have_the_indexes_pagination_needs(engine: Engine) -> None:
    schema = inspect(engine)

    def indexed(table: str) -> set[tuple[str | None, ...]]:
        found = {tuple(index["column_names"]) for index in schema.get_indexes(table)}
        unique = schema.get_unique_constraints(table)
        return found | {tuple(constraint["column_names"]) for constraint in unique}

    assert ("user_id", "seq") in indexed("chat_thread")
    assert ("id",) in indexed("chat_thread")
    assert ("user_id", "thread_id", "seq") in indexed("chat_thread_item")
    assert ("thread_id", "id") in indexed("chat_thread_item")


def test_deleting_a_thread_cleans_up_even_without_sqlite_foreign_keys(sqlite_url: str) -> None:
    # A plain engine: SQLite leaves foreign keys (and so ON DELETE CASCADE) off by default.
    engine = create_engine(sqlite_url)
    upgrade_all(engine)
    store = SQLStore(engine)

    async def scenario() -> None:
        thread = await thread_with_items(store, 2)
        await store.delete_thread(thread.id, ALICE)

    try:
        asyncio.run(scenario())
        assert count(engine, ChatThreadItem) == 0
    finally:
        engine.dispose()


# -- driven by chatkit itself -------------------------------------------------------------


class EchoServer(ChatKitServer[Principal]):
    """Answers each message with a workflow item and an assistant message that echoes it."""

    async def respond(
        self, thread: ThreadMetadata, input_user_message: UserMessageItem | None, context: Principal
    ) -> AsyncIterator[ThreadStreamEvent]:
        # Reads back from the store what chatkit just saved, as real agents do.
        history = await self.store.load_thread_items(thread.id, None, 20, "desc", context)
        said = history.data[0].content[0].text  # type: ignore[union-attr]
        if thread.title is None:
            thread.title = f"About {said}"
        workflow = WorkflowItem(
            id=self.store.generate_item_id("workflow", thread, context),
            thread_id=thread.id,
            created_at=datetime.now(),
            workflow=Workflow(type="custom", tasks=[CustomTask(title="echo")]),
        )
        yield ThreadItemDoneEvent(item=workflow)
        # chatkit subtracts a loaded item's created_at from datetime.now() (end_workflow).
        loaded = await self.store.load_item(thread.id, workflow.id, context)
        assert datetime.now() - loaded.created_at >= timedelta(0)
        yield ThreadItemDoneEvent(
            item=AssistantMessageItem(
                id=self.store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=datetime.now(),
                content=[AssistantMessageContent(text=f"echo: {said}")],
            )
        )


async def call(server: EchoServer, request: dict[str, Any], user: Principal = ALICE) -> Any:
    """Run one ChatKit request; the parsed JSON answer (or the last event of a stream)."""
    result = await server.process(json.dumps(request), user)
    if isinstance(result, StreamingResult):
        events = [json.loads(chunk.removeprefix(b"data: ")) async for chunk in result]
        return events
    return json.loads(result.json)


def user_input(text_: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text_}],
        "attachments": [],
        "inference_options": {},
    }


async def test_chatkit_conversation_round_trips_through_the_store(store: SQLStore) -> None:
    server = EchoServer(store)

    created = await call(server, {"type": "threads.create", "params": {"input": user_input("hi")}})
    thread_id = created[0]["thread"]["id"]
    await call(
        server,
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input("again")},
        },
    )

    listed = await call(server, {"type": "threads.list", "params": {"limit": 10, "order": "desc"}})
    items = await call(
        server, {"type": "items.list", "params": {"thread_id": thread_id, "limit": 3}}
    )
    full = await call(server, {"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
    others = await call(server, {"type": "threads.list", "params": {"limit": 10}}, BOB)

    assert [thread["id"] for thread in listed["data"]] == [thread_id]
    assert listed["data"][0]["title"] == "About hi"
    assert [item["type"] for item in full["items"]["data"]] == [
        "user_message",
        "workflow",
        "assistant_message",
    ] * 2
    assert [c["text"] for c in full["items"]["data"][5]["content"]] == ["echo: again"]
    assert (len(items["data"]), items["has_more"]) == (3, True)
    assert items["after"] == items["data"][-1]["id"]
    assert others["data"] == []

    await call(server, {"type": "threads.delete", "params": {"thread_id": thread_id}})

    assert not await store.thread_exists(thread_id, ALICE)


async def test_a_write_meeting_another_writers_lock_waits_for_it_off_the_event_loop(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    upgrade_all(engine)
    store = SQLStore(engine)
    thread = await new_thread(store)
    other = make_engine(sqlite_url)
    try:
        with other.connect() as holder:
            holder.exec_driver_sql("BEGIN IMMEDIATE")  # holds SQLite's write lock
            saving = asyncio.create_task(
                store.add_thread_item(thread.id, item(thread.id, "waited"), ALICE)
            )
            # The loop keeps running while the write waits for the lock in a worker thread.
            for _ in range(20):
                await asyncio.sleep(0.01)
            assert not saving.done()
            assert await store.thread_exists(thread.id, ALICE)  # a read does not wait
            holder.exec_driver_sql("COMMIT")
        await saving
        page = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
        assert ids(page) == ["waited"]
    finally:
        store.close()
        other.dispose()
        engine.dispose()
