"""mcp_server/tasks.py against a real database: writes, ownership, completion, recurrence."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from mcp_server import tasks
from mcp_server.tasks import InvalidTaskInput, NewTask, TaskNotFound
from shared.db import make_engine
from shared.migrate import upgrade_all
from tests.mcp_server.conftest import NOW, add

NEW = "list, parent_id, repeat, repeat_from, timezone, skip, reminders, assignee"


def test_add_task_returns_the_contract_shape(session: Session):
    change = tasks.add_task(
        session,
        user_id="ann",
        data=NewTask(
            title="  Buy milk ",
            description=" 2 litres ",
            due="2025-03-11",
            priority="high",
            tags=["#Errands", "home", "errands"],
            recurrence="weekly",
        ),
        now=NOW,
    )
    assert change == {
        "task_id": 1,
        "status": "created",
        "title": "Buy milk",
        "task": {
            "id": 1,
            "title": "Buy milk",
            "description": "2 litres",
            "completed": False,
            "completed_at": None,
            "priority": "high",
            "tags": ["errands", "home"],
            "due": "2025-03-11",
            "recurrence": "weekly",
            "created_at": "2025-03-10T12:00:00Z",
            "updated_at": "2025-03-10T12:00:00Z",
            "list": "Inbox",
            "list_id": 1,
            "parent_id": None,
            "open_subtasks": 0,
            "repeat": "FREQ=WEEKLY",
            "repeat_from": "due",
            "repeat_text": "every week",
            "timezone": None,
            "reminders": [],
            "owner": "ann",
            "assignee": None,
            "changed_by": "ann",
        },
        "next_task": None,
    }


def test_defaults_are_medium_priority_no_tags_no_due_no_recurrence(session: Session):
    task = add(session, title="plain")
    assert (task["priority"], task["tags"], task["due"], task["recurrence"]) == (
        "medium",
        [],
        None,
        "none",
    )


def test_timed_due_is_shown_in_utc_whole_seconds(session: Session):
    assert add(session, due="2025-03-10T17:30:59.9+02:00")["due"] == "2025-03-10T15:30:59Z"


def test_get_task_returns_the_stored_task(session: Session):
    task = add(session, title="read", tags=["books"])
    assert tasks.get_task(session, user_id="ann", task_id=task["id"]) == {**task, "subtasks": []}


def test_missing_task_is_not_found_with_its_id(session: Session):
    with pytest.raises(TaskNotFound) as caught:
        tasks.get_task(session, user_id="ann", task_id=999)
    assert str(caught.value) == "Task 999 not found"


def test_someone_elses_task_is_not_found_by_any_operation(session: Session):
    bobs = add(session, user_id="bob", title="bob's")
    operations = [
        lambda: tasks.get_task(session, user_id="ann", task_id=bobs["id"]),
        lambda: tasks.update_task(
            session, user_id="ann", task_id=bobs["id"], changes={"title": "mine now"}
        ),
        lambda: tasks.set_completed(session, user_id="ann", task_id=bobs["id"]),
        lambda: tasks.set_completed(session, user_id="ann", task_id=bobs["id"], completed=False),
        lambda: tasks.delete_task(session, user_id="ann", task_id=bobs["id"]),
    ]
    for operation in operations:
        with pytest.raises(TaskNotFound, match=f"^Task {bobs['id']} not found$"):
            operation()
    assert tasks.get_task(session, user_id="bob", task_id=bobs["id"]) == {**bobs, "subtasks": []}
    assert tasks.list_tasks(session, user_id="ann")["tasks"] == []


def test_update_changes_only_the_given_fields(session: Session):
    task = add(session, title="old", description="keep", priority="low", tags=["a"])
    later = NOW + timedelta(hours=1)
    change = tasks.update_task(
        session, user_id="ann", task_id=task["id"], changes={"title": " new "}, now=later
    )
    assert change["status"] == "updated"
    assert change["title"] == "new"
    assert change["task"] == {**task, "title": "new", "updated_at": "2025-03-10T13:00:00Z"}


def test_update_with_empty_values_clears_description_due_tags_and_recurrence(session: Session):
    task = add(session, description="notes", due="2025-04-01", tags=["a"], recurrence="daily")
    change = tasks.update_task(
        session,
        user_id="ann",
        task_id=task["id"],
        changes={"description": "", "due": "", "tags": [], "recurrence": "none"},
        now=NOW,
    )
    assert change["task"] == {
        **task,
        "description": None,
        "due": None,
        "tags": [],
        "recurrence": "none",
        "repeat": None,
        "repeat_text": None,
    }


def test_update_with_null_leaves_every_field_as_it_was(session: Session):
    task = add(session, description="notes", due="2025-04-01", tags=["a"], recurrence="daily")
    nulls = dict.fromkeys(("description", "due", "priority", "tags", "recurrence"), None)
    change = tasks.update_task(
        session, user_id="ann", task_id=task["id"], changes={**nulls, "title": "new"}, now=NOW
    )
    assert change["task"] == {**task, "title": "new"}


def test_update_sets_every_field(session: Session):
    task = add(session)
    changes = {
        "title": "t2",
        "description": "d2",
        "due": "2025-05-01T08:00:00Z",
        "priority": "high",
        "tags": ["x", "#Y"],
        "recurrence": "monthly",
    }
    updated = tasks.update_task(session, user_id="ann", task_id=task["id"], changes=changes)
    assert {k: updated["task"][k] for k in changes} == {
        **changes,
        "tags": ["x", "y"],
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "nothing to update: give at least one of title, description, due, priority, tags, "
         f"recurrence, {NEW}"),
        ({"title": ""}, "title must not be empty"),
        ({"title": None, "priority": None}, "nothing to update: give at least one of title, "
         f"description, due, priority, tags, recurrence, {NEW}"),
        ({"title": "  "}, "title must not be empty"),
        ({"priority": "urgent"}, "priority must be one of low, medium, high (got 'urgent')"),
        ({"due": "soon"}, "due: 'soon' is not an ISO 8601 date or date-time"),
        ({"tags": ["ok", "not ok"]}, "tag 'not ok' may only contain letters a-z, digits, '_' "
         "and '-'"),
        ({"completed": True}, "cannot update completed; updatable fields: title, description, "
         f"due, priority, tags, recurrence, {NEW}"),
        ({"title": "fine", "user_id": "bob"}, "cannot update user_id; updatable fields: title, "
         f"description, due, priority, tags, recurrence, {NEW}"),
    ],
)  # fmt: skip
def test_bad_update_is_refused_and_changes_nothing(session: Session, changes, message):
    task = add(session, title="keep me", tags=["a"])
    with pytest.raises(InvalidTaskInput) as caught:
        tasks.update_task(session, user_id="ann", task_id=task["id"], changes=changes)
    assert str(caught.value) == message
    assert tasks.get_task(session, user_id="ann", task_id=task["id"]) == {**task, "subtasks": []}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": " "}, "title must not be empty"),
        ({"title": "x" * 201}, "title must be at most 200 characters (got 201)"),
        ({"description": "d" * 2001}, "description must be at most 2000 characters (got 2001)"),
        ({"due": "next blursday"}, "due: 'next blursday' is not an ISO 8601 date or date-time"),
        ({"priority": "urgent"}, "priority must be one of low, medium, high (got 'urgent')"),
        ({"tags": ["x" * 33]}, f"tag '{'x' * 33}' is longer than 32 characters"),
        ({"recurrence": "hourly"}, "recurrence must be one of none, daily, weekly, monthly, "
         "yearly (got 'hourly')"),
    ],
)  # fmt: skip
def test_bad_new_task_is_refused_and_nothing_is_stored(session: Session, fields, message):
    with pytest.raises(InvalidTaskInput) as caught:
        add(session, **fields)
    assert str(caught.value) == message
    assert tasks.list_tasks(session, user_id="ann")["tasks"] == []


def test_completing_sets_completed_at_and_reopening_clears_it(session: Session):
    task = add(session)
    done = tasks.set_completed(session, user_id="ann", task_id=task["id"], now=NOW)
    assert (done["status"], done["task"]["completed"], done["task"]["completed_at"]) == (
        "completed",
        True,
        "2025-03-10T12:00:00Z",
    )
    assert done["next_task"] is None
    reopened = tasks.set_completed(
        session, user_id="ann", task_id=task["id"], completed=False, now=NOW
    )
    assert reopened["status"] == "reopened"
    assert reopened["task"] == {**task, "completed": False, "completed_at": None}


def test_completing_twice_changes_nothing_the_second_time(session: Session):
    task = add(session, due="2025-03-10", recurrence="daily")
    first = tasks.set_completed(session, user_id="ann", task_id=task["id"], now=NOW)
    second = tasks.set_completed(
        session, user_id="ann", task_id=task["id"], now=NOW + timedelta(hours=2)
    )
    assert second == {**first, "next_task": None}
    assert len(tasks.list_tasks(session, user_id="ann")["tasks"]) == 2


def test_completing_a_recurring_task_creates_the_next_occurrence(session: Session):
    task = add(
        session,
        title="pay rent",
        description="flat 3",
        due="2025-01-31",
        priority="high",
        tags=["home"],
        recurrence="monthly",
    )
    change = tasks.set_completed(session, user_id="ann", task_id=task["id"], now=NOW)
    assert change["task"]["completed"] is True
    assert change["next_task"] == {
        **task,
        "id": task["id"] + 1,
        "due": "2025-02-28",
        "created_at": "2025-03-10T12:00:00Z",
        "updated_at": "2025-03-10T12:00:00Z",
    }
    stored = tasks.get_task(session, user_id="ann", task_id=change["next_task"]["id"])
    assert stored == {**change["next_task"], "subtasks": []}


def test_next_occurrence_of_a_timed_due_keeps_its_time(session: Session):
    task = add(session, due="2025-03-10T09:30:00Z", recurrence="weekly")
    change = tasks.set_completed(session, user_id="ann", task_id=task["id"], now=NOW)
    assert change["next_task"]["due"] == "2025-03-17T09:30:00Z"


def test_recurring_task_without_due_recurs_from_the_completion_day(session: Session):
    task = add(session, recurrence="daily")
    change = tasks.set_completed(session, user_id="ann", task_id=task["id"], now=NOW)
    assert change["next_task"]["due"] == "2025-03-11"


def test_reopening_keeps_the_next_occurrence(session: Session):
    task = add(session, due="2025-03-10", recurrence="yearly")
    tasks.set_completed(session, user_id="ann", task_id=task["id"], now=NOW)
    reopened = tasks.set_completed(session, user_id="ann", task_id=task["id"], completed=False)
    assert reopened["next_task"] is None
    dues = [t["due"] for t in tasks.list_tasks(session, user_id="ann")["tasks"]]
    assert dues == ["2025-03-10", "2026-03-10"]


def test_delete_returns_the_task_as_it_was_and_removes_it(session: Session):
    task = add(session, title="bin")
    change = tasks.delete_task(session, user_id="ann", task_id=task["id"])
    assert change == {
        "task_id": task["id"],
        "status": "deleted",
        "title": "bin",
        "task": task,
        "next_task": None,
    }
    with pytest.raises(TaskNotFound):
        tasks.delete_task(session, user_id="ann", task_id=task["id"])


def test_a_deleted_newest_task_id_is_never_given_to_the_next_task(session: Session):
    # An old widget's button or "delete task N" must never reach a different task.
    add(session, title="older")
    newest = add(session, title="newest")
    tasks.delete_task(session, user_id="ann", task_id=newest["id"])

    assert add(session, title="next")["id"] > newest["id"]


def test_writes_leave_the_commit_to_their_caller(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'tasks.db'}")  # a connection per session
    upgrade_all(engine)

    def titles() -> list[str]:
        with Session(engine) as other:
            return [t["title"] for t in tasks.list_tasks(other, user_id="ann")["tasks"]]

    with Session(engine) as session:
        add(session, title="durable")
        assert titles() == []
        session.commit()
    assert titles() == ["durable"]
    engine.dispose()


def test_completion_times_are_utc(session: Session):
    task = add(session)
    local = datetime(2025, 3, 10, 14, 0, tzinfo=UTC).astimezone()
    done = tasks.set_completed(session, user_id="ann", task_id=task["id"], now=local)
    assert done["task"]["completed_at"] == "2025-03-10T14:00:00Z"
