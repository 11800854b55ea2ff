"""restore_task: a task deleted a moment ago comes back as it was, under its own id."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from mcp_server import calls, lists, tasks, trash
from mcp_server.access import Forbidden
from mcp_server.task_rules import utc_now
from mcp_server.trash import NothingToRestore
from shared.events import TaskEventRow
from tests.mcp_server.conftest import NOW, add

_events: Any = TaskEventRow.__table__  # type: ignore[attr-defined]


def test_a_deleted_task_comes_back_with_its_id_fields_reminders_and_subtasks(
    session: Session,
) -> None:
    parent = add(session, title="move house", description="by June", due="2025-03-12T09:00:00Z",
                 priority="high", tags=["home"], list="Personal", repeat="FREQ=WEEKLY",
                 reminders=[{"before": "PT30M"}])
    subs = [add(session, title=f"step {n}", parent_id=parent["id"]) for n in (1, 2)]
    tasks.set_completed(session, user_id="ann", task_id=subs[0]["id"], now=NOW)
    before = tasks.get_task(session, user_id="ann", task_id=parent["id"])

    tasks.delete_task(session, user_id="ann", task_id=parent["id"], subtasks="delete")
    change = trash.restore_task(session, user_id="ann", task_id=parent["id"],
                                now=NOW + timedelta(minutes=1))

    assert (change["status"], change["task_id"]) == ("created", parent["id"])
    assert tasks.get_task(session, user_id="ann", task_id=parent["id"]) == before


def test_a_task_can_be_restored_once_and_only_within_the_window(session: Session) -> None:
    task = add(session, title="once")
    other = add(session, title="late")
    for task_id in (task["id"], other["id"]):
        tasks.delete_task(session, user_id="ann", task_id=task_id)

    trash.restore_task(session, user_id="ann", task_id=task["id"])
    with pytest.raises(NothingToRestore, match="only a task you deleted in the last 10 minutes"):
        trash.restore_task(session, user_id="ann", task_id=task["id"])
    with pytest.raises(NothingToRestore):
        trash.restore_task(session, user_id="ann", task_id=other["id"],
                           now=utc_now() + trash.RESTORE_WINDOW + timedelta(seconds=1))


def test_another_user_cannot_restore_someone_elses_deleted_task(session: Session) -> None:
    task = add(session, user_id="ann", title="ann's")
    tasks.delete_task(session, user_id="ann", task_id=task["id"])

    with pytest.raises(NothingToRestore) as refused:
        trash.restore_task(session, user_id="bob", task_id=task["id"])

    assert refused.value.code == "not_found"
    assert tasks.list_tasks(session, user_id="bob")["tasks"] == []
    # ann's task is still hers to restore.
    restored = trash.restore_task(session, user_id="ann", task_id=task["id"])
    assert restored["task"]["title"] == "ann's"


def test_kept_subtasks_go_back_under_it_and_a_deleted_list_is_made_again(
    session: Session,
) -> None:
    parent = add(session, title="trip", list="Travel")
    sub = add(session, title="book hotel", parent_id=parent["id"])
    tasks.delete_task(session, user_id="ann", task_id=parent["id"], subtasks="keep")
    lists.delete_list(session, user_id="ann", name="Travel", move_tasks_to="Inbox")

    restored = trash.restore_task(session, user_id="ann", task_id=parent["id"])["task"]

    assert restored["list"] == "Travel"
    again = tasks.get_task(session, user_id="ann", task_id=parent["id"])
    assert [(s["id"], s["list"]) for s in again["subtasks"]] == [(sub["id"], "Travel")]


def test_a_restored_subtask_goes_back_under_its_parent(session: Session) -> None:
    parent = add(session, title="garden")
    sub = add(session, title="buy soil", parent_id=parent["id"])
    tasks.delete_task(session, user_id="ann", task_id=sub["id"])

    restored = trash.restore_task(session, user_id="ann", task_id=sub["id"])["task"]

    assert (restored["id"], restored["parent_id"]) == (sub["id"], parent["id"])


# --- in a shared list (mcp_server/access.py) ------------------------------------------------


def write(session: Session, fn: Callable[..., Any], user_id: str, **kwargs: Any) -> Any:
    """A write as a tool makes it: applied and committed by calls.apply."""
    return calls.apply(session, fn, user_id=user_id, call_id=None, **kwargs)


def heard_since(session: Session, after: int) -> set[tuple[str, int, str]]:
    rows = session.execute(select(_events).where(_events.c.id > after)).all()
    return {(row.user_id, row.task_id, row.status) for row in rows}


def last_event(session: Session) -> int:
    return int(session.execute(select(func.coalesce(func.max(_events.c.id), 0))).scalar_one())


@pytest.fixture
def groceries(session: Session) -> tasks.TaskDict:
    """ann's task "eggs" in her groceries list, shared with bob as editor and cat as viewer."""
    eggs = add(session, title="eggs", list="groceries", reminders=[{"before": "PT1H"}],
               due="2025-03-12T09:00:00Z")  # fmt: skip
    for member, role in (("bob", "editor"), ("cat", "viewer")):
        write(session, lists.share_list, "ann", name="groceries", member=member, role=role,
              now=NOW)  # fmt: skip
    return eggs


def test_an_editor_restores_a_task_they_deleted_into_the_owners_list_and_all_hear_it(
    session: Session, groceries: tasks.TaskDict
) -> None:
    write(session, tasks.delete_task, "bob", task_id=groceries["id"])
    mark = last_event(session)

    restored = write(session, trash.restore_task, "bob", task_id=groceries["id"])["task"]

    assert (restored["id"], restored["owner"], restored["list"], restored["changed_by"]) == (
        groceries["id"], "ann", "groceries", "bob"
    )  # fmt: skip
    assert restored["reminders"] == groceries["reminders"]
    assert heard_since(session, mark) == {
        (user, groceries["id"], "created") for user in ("ann", "bob", "cat")
    }
    # The owner did not delete it, so she has nothing to restore.
    write(session, tasks.delete_task, "bob", task_id=groceries["id"])
    with pytest.raises(NothingToRestore):
        write(session, trash.restore_task, "ann", task_id=groceries["id"])


def test_a_member_who_can_no_longer_change_the_list_cannot_restore_into_it(
    session: Session, groceries: tasks.TaskDict
) -> None:
    write(session, tasks.delete_task, "bob", task_id=groceries["id"])
    write(session, lists.share_list, "ann", name="groceries", member="bob", role="viewer",
          now=NOW)  # fmt: skip
    mark = last_event(session)
    with pytest.raises(Forbidden, match="as a viewer.*nothing was changed"):
        write(session, trash.restore_task, "bob", task_id=groceries["id"])
    assert heard_since(session, mark) == set()
    write(session, lists.unshare_list, "ann", name="groceries", member="bob")
    mark = last_event(session)
    with pytest.raises(Forbidden, match="gone or no longer shared with you; nothing was changed"):
        write(session, trash.restore_task, "bob", task_id=groceries["id"])

    assert heard_since(session, mark) == set()
    assert tasks.list_tasks(session, user_id="ann")["tasks"] == []
    assert tasks.list_tasks(session, user_id="bob")["tasks"] == []


def test_a_restore_of_ones_own_task_is_heard_on_ones_pages(session: Session) -> None:
    task = add(session, title="solo")
    write(session, tasks.delete_task, "ann", task_id=task["id"])
    mark = last_event(session)
    write(session, trash.restore_task, "ann", task_id=task["id"])
    assert heard_since(session, mark) == {("ann", task["id"], "created")}
