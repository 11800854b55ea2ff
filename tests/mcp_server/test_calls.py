"""Writes applied once per call id: a resent write gets the first result and changes nothing."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from mcp import Client
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import calls, tasks
from mcp_server.calls import KEEP_CALLS, ToolCall
from mcp_server.models import TASK_TABLE
from mcp_server.server import build_server
from shared.contract import CALL_ID_META_KEY
from shared.db import make_engine
from shared.migrate import TASKS, upgrade_all
from shared.settings import Settings
from tests.mcp_server.conftest import in_own_task

CALLS: Any = ToolCall.__table__  # type: ignore[attr-defined]
# tool_call as tasks_0004 made it, before tasks_0006 added its fingerprint.
CALLS_0005 = sa.table(
    "tool_call", *(sa.column(name) for name in ("user_id", "call_id", "result", "created_at"))
)


def apply(engine: Engine, write: Any, call_id: str | None, user_id: str = "ann", **kwargs: Any):
    with Session(engine) as session:
        return calls.apply(session, write, user_id=user_id, call_id=call_id, **kwargs)


def titles(engine: Engine, user_id: str = "ann") -> list[str]:
    with Session(engine) as session:
        return [t["title"] for t in tasks.list_tasks(session, user_id=user_id)["tasks"]]


def new(title: str) -> tasks.NewTask:
    return tasks.NewTask(title=title)


def test_an_add_sent_twice_under_one_id_adds_one_task_and_answers_the_same(engine: Engine):
    first = apply(engine, tasks.add_task, "call-1", data=new("Buy milk"))
    again = apply(engine, tasks.add_task, "call-1", data=new("Buy milk"))

    assert again == first
    assert titles(engine) == ["Buy milk"]


def test_without_an_id_each_call_is_a_new_write(engine: Engine):
    apply(engine, tasks.add_task, None, data=new("Buy milk"))
    apply(engine, tasks.add_task, None, data=new("Buy milk"))
    assert titles(engine) == ["Buy milk", "Buy milk"]


def test_a_resent_delete_answers_deleted_not_not_found(engine: Engine):
    task_id = apply(engine, tasks.add_task, None, data=new("Old"))["task_id"]
    first = apply(engine, tasks.delete_task, "del-1", task_id=task_id)
    again = apply(engine, tasks.delete_task, "del-1", task_id=task_id)

    assert again == first and again["status"] == "deleted"
    # A new call for the same task is a new request, and the task is gone.
    with pytest.raises(tasks.TaskNotFound):
        apply(engine, tasks.delete_task, "del-2", task_id=task_id)


def test_a_resent_completion_of_a_recurring_task_keeps_its_next_occurrence(engine: Engine):
    made = apply(engine, tasks.add_task, None, data=tasks.NewTask(title="Rent", due="2025-04-01",
                 recurrence="monthly"))  # fmt: skip
    first = apply(engine, tasks.set_completed, "done-1", task_id=made["task_id"])
    again = apply(engine, tasks.set_completed, "done-1", task_id=made["task_id"])

    assert again == first and again["next_task"] is not None
    assert titles(engine) == ["Rent", "Rent"]  # the task and one next occurrence


def test_ids_belong_to_their_user(engine: Engine):
    ann = apply(engine, tasks.add_task, "same-id", data=new("Ann's"))
    bob = apply(engine, tasks.add_task, "same-id", user_id="bob", data=new("Bob's"))

    assert bob["title"] == "Bob's" and bob["task_id"] != ann["task_id"]
    assert titles(engine, "bob") == ["Bob's"]


def test_a_failed_write_records_nothing_so_a_resend_fails_the_same_way(engine: Engine):
    for _ in range(2):
        with pytest.raises(tasks.TaskNotFound):
            apply(engine, tasks.delete_task, "missing", task_id=999)
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(CALLS)).scalar_one() == 0


def test_an_id_sent_again_with_other_arguments_is_refused_and_changes_nothing(engine: Engine):
    apply(engine, tasks.add_task, "call-1", data=new("Buy milk"))
    with pytest.raises(calls.CallIdReused) as refused:
        apply(engine, tasks.add_task, "call-1", data=new("Buy bread"))
    assert str(refused.value) == (
        "call id 'call-1' was already used for another call (another tool or other "
        "arguments); send a new call under a new id"
    )
    assert titles(engine) == ["Buy milk"]


def test_an_id_sent_again_for_another_tool_is_refused_and_changes_nothing(engine: Engine):
    task_id = apply(engine, tasks.add_task, "call-1", data=new("Buy milk"))["task_id"]
    with pytest.raises(calls.CallIdReused):
        apply(engine, tasks.delete_task, "call-1", task_id=task_id)
    with pytest.raises(calls.CallIdReused):
        # Even a write that would fail on its own is told about the id first.
        apply(engine, tasks.delete_task, "call-1", task_id=999)
    assert titles(engine) == ["Buy milk"]


def test_the_fingerprint_is_the_same_for_the_same_call_whatever_the_key_order():
    one = calls.fingerprint("update_task", {"task_id": 7, "changes": {"title": "a", "due": ""}})
    other = calls.fingerprint("update_task", {"changes": {"due": "", "title": "a"}, "task_id": 7})
    assert one == other and len(one) == 64
    assert calls.fingerprint("update_task", {"task_id": 8, "changes": {}}) != one
    assert calls.fingerprint("delete_task", {"task_id": 7}) != calls.fingerprint(
        "set_completed", {"task_id": 7}
    )


def test_a_result_stored_before_fingerprints_is_returned_as_before(engine: Engine):
    """A row from before tasks_0006 has no fingerprint: any resend under its id gets it."""
    first = apply(engine, tasks.add_task, "before-upgrade", data=new("Buy milk"))
    with Session(engine) as session:
        session.execute(CALLS.update().values(fingerprint=None))
        session.commit()
    again = apply(engine, tasks.add_task, "before-upgrade", data=new("Buy bread"))
    assert again == first
    assert titles(engine) == ["Buy milk"]


def test_upgrading_to_tasks_0006_keeps_stored_results_and_their_ids(tmp_path: Any):
    engine = make_engine(f"sqlite:///{tmp_path / 'tasks.db'}")
    with engine.begin() as conn:
        command.upgrade(TASKS.config(conn), "tasks_0005")
        conn.execute(insert(CALLS_0005).values(
            user_id="ann", call_id="old", result='{"task_id": 1}',
            created_at=datetime.now(UTC)))  # fmt: skip
    upgrade_all(engine)
    with Session(engine) as session:
        row = session.execute(select(CALLS)).one()
    assert (row.call_id, row.result, row.fingerprint) == ("old", '{"task_id": 1}', None)
    assert apply(engine, tasks.delete_task, "old", task_id=1) == {"task_id": 1}
    engine.dispose()


def remember_an_old_call(engine: Engine, call_id: str) -> None:
    """Store a result for `call_id` from a minute past the keeping time."""
    old = datetime.now(UTC) - KEEP_CALLS - timedelta(minutes=1)
    with Session(engine) as session:
        session.execute(
            insert(CALLS).values(user_id="ann", call_id=call_id, result="{}", created_at=old)
        )
        session.commit()


def test_ids_older_than_the_keeping_time_are_forgotten(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(calls, "_forgotten_at", 0.0)  # as in a process that has not pruned yet
    remember_an_old_call(engine, "old")
    apply(engine, tasks.add_task, "new", data=new("Buy milk"))
    with Session(engine) as session:
        assert session.execute(select(CALLS.c.call_id)).scalars().all() == ["new"]

    # At most once a minute per process: a second old result stays until the next pruning.
    remember_an_old_call(engine, "old2")
    apply(engine, tasks.add_task, "newer", data=new("Buy bread"))
    with Session(engine) as session:
        assert sorted(session.execute(select(CALLS.c.call_id)).scalars()) == [
            "new",
            "newer",
            "old2",
        ]


@pytest.fixture
def shared_engine(database_url: str) -> Iterator[Engine]:
    """A database many connections share, on SQLite and on PostgreSQL."""
    engine = make_engine(database_url)
    upgrade_all(engine)
    yield engine
    engine.dispose()


def test_a_resend_racing_its_first_call_still_adds_one_task(shared_engine: Engine):
    racers = 6
    barrier = threading.Barrier(racers)
    results: list[Any] = []

    def send() -> None:
        barrier.wait()
        results.append(apply(shared_engine, tasks.add_task, "raced", data=new("Once")))

    threads = [threading.Thread(target=send) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == racers and all(result == results[0] for result in results)
    with Session(shared_engine) as session:
        count = select(func.count()).select_from(TASK_TABLE)
        assert session.execute(count).scalar_one() == 1


def test_the_call_id_check_names_what_is_wrong():
    assert calls.check_call_id("0f3c" * 8) == "0f3c" * 8
    for bad in ("", "x" * 101, 42, "tab\there", "caf\u00e9"):
        with pytest.raises(ValueError):
            calls.check_call_id(bad)


# -- through the tools ---------------------------------------------------------------------


@pytest.fixture
async def client(engine: Engine) -> Any:
    server = build_server(Settings(_env_file=None, jwt_secret=None), engine)
    async with in_own_task(Client(server)) as client:
        yield client


async def test_tools_apply_a_write_once_per_meta_call_id(client: Client, engine: Engine):
    meta: Any = {CALL_ID_META_KEY: "tool-call-1"}
    first = await client.call_tool("add_task", {"title": "Buy milk"}, meta=meta)
    again = await client.call_tool("add_task", {"title": "Buy milk"}, meta=meta)
    assert not again.is_error and again.structured_content == first.structured_content
    task_id = first.structured_content["task_id"]  # type: ignore[index]

    deleted = await client.call_tool("delete_task", {"task_id": task_id}, meta={
        CALL_ID_META_KEY: "tool-call-2"})  # fmt: skip
    resent = await client.call_tool("delete_task", {"task_id": task_id}, meta={
        CALL_ID_META_KEY: "tool-call-2"})  # fmt: skip
    assert not resent.is_error and resent.structured_content == deleted.structured_content
    assert titles(engine, "local") == []


async def test_tools_refuse_a_malformed_call_id_and_change_nothing(client: Client, engine: Engine):
    result = await client.call_tool("add_task", {"title": "x"}, meta={CALL_ID_META_KEY: ""})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert text == (
        "Error executing tool add_task: _meta['taskchat/call_id'] must be a string of 1 to "
        "100 characters"
    )
    assert titles(engine, "local") == []


async def test_tools_refuse_a_call_id_sent_again_with_other_arguments(
    client: Client, engine: Engine
):
    meta: Any = {CALL_ID_META_KEY: "tool-call-1"}
    first = await client.call_tool("add_task", {"title": "Buy milk"}, meta=meta)
    assert not first.is_error
    other = await client.call_tool("add_task", {"title": "Buy bread"}, meta=meta)
    assert other.is_error
    assert other.content[0].text == (  # type: ignore[union-attr]
        "Error executing tool add_task: call id 'tool-call-1' was already used for another "
        "call (another tool or other arguments); send a new call under a new id"
    )
    # The same call in other words (a default spelled out, keys in another order) is the
    # same call.
    same = await client.call_tool("add_task", {"priority": "medium", "title": "Buy milk"},
                                  meta=meta)  # fmt: skip
    assert not same.is_error and same.structured_content == first.structured_content
    assert titles(engine, "local") == ["Buy milk"]
