"""tasks_0007: an old database's tasks land in each owner's Inbox with their repeat rules."""

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import lists, tasks
from shared.migrate import ENVIRONMENTS, TASKS, locked, upgrade


def _upgrade(engine: Engine) -> None:
    for env in ENVIRONMENTS:
        upgrade(engine, env)


def test_a_release_database_puts_every_task_in_its_owners_inbox_with_its_rule(
    release_database: str, engine: Engine
) -> None:
    _upgrade(engine)

    with Session(engine) as session:
        ann = tasks.list_tasks(session, user_id="ann")["tasks"]
        bob = tasks.list_tasks(session, user_id="bob")["tasks"]
        ann_lists = lists.list_lists(session, user_id="ann")["lists"]
    assert {(t["title"], t["list"], t["parent_id"]) for t in ann} == {
        ("Buy milk", "Inbox", None), ("Call mom", "Inbox", None), ("Pay rent", "Inbox", None),
        ("Water plants", "Inbox", None),
    }  # fmt: skip
    assert [(t["title"], t["list"]) for t in bob] == [("Bob's task", "Inbox")]
    assert ann[0]["list_id"] != bob[0]["list_id"]
    assert [(item["name"], item["open"], item["done"]) for item in ann_lists] == [("Inbox", 3, 1)]
    rent = next(t for t in ann if t["title"] == "Pay rent")
    assert (rent["recurrence"], rent["repeat"], rent["repeat_from"], rent["repeat_text"]) == (
        "monthly", "FREQ=MONTHLY", "due", "every month",
    )  # fmt: skip
    milk = next(t for t in ann if t["title"] == "Buy milk")
    assert (milk["repeat"], milk["recurrence"], milk["repeat_text"]) == (None, "none", None)


def test_old_monthly_and_yearly_tasks_keep_falling_back_to_the_months_last_day(
    engine: Engine,
) -> None:
    # Upgrade to tasks_0006, write old-style rows, then upgrade past tasks_0007.
    with locked(engine) as conn:
        command.upgrade(TASKS.config(conn), "tasks_0006")
    old = [
        ("rent", "2025-01-31 00:00:00", True, "monthly"),
        ("report", "2025-01-30 09:00:00", False, "monthly"),
        ("leap", "2024-02-29 00:00:00", True, "yearly"),
        ("gym", "2025-03-10 07:00:00", False, "weekly"),
        ("water", None, False, "daily"),
    ]
    with engine.begin() as conn:
        for title, due, is_date, recurrence in old:
            conn.execute(
                text(
                    "INSERT INTO task (user_id, title, completed, priority, tags, due_at, "
                    "due_is_date, recurrence, created_at, updated_at) VALUES ('ann', "
                    ":title, false, 1, '', :due, :is_date, :recurrence, :now, :now)"
                ),
                {"title": title, "is_date": is_date, "recurrence": recurrence,
                 "now": datetime(2025, 1, 1, tzinfo=UTC),
                 "due": None if due is None else datetime.fromisoformat(due).replace(tzinfo=UTC)},
            )  # fmt: skip
    _upgrade(engine)

    with Session(engine) as session:
        found = {t["title"]: t for t in tasks.list_tasks(session, user_id="ann")["tasks"]}
        assert {title: (t["repeat"], t["recurrence"]) for title, t in found.items()} == {
            "rent": ("FREQ=MONTHLY;BYMONTHDAY=31,-1;BYSETPOS=1", "monthly"),
            "report": ("FREQ=MONTHLY;BYMONTHDAY=30,-1;BYSETPOS=1", "monthly"),
            "leap": ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29,-1;BYSETPOS=1", "yearly"),
            "gym": ("FREQ=WEEKLY", "weekly"),
            "water": ("FREQ=DAILY", "daily"),
        }
        dues = []
        task_id = found["rent"]["id"]
        for _ in range(3):
            change = tasks.set_completed(session, user_id="ann", task_id=task_id)
            assert change["next_task"] is not None
            dues.append(change["next_task"]["due"])
            task_id = change["next_task"]["id"]
        assert dues == ["2025-02-28", "2025-03-31", "2025-04-30"]
        leap = tasks.set_completed(session, user_id="ann", task_id=found["leap"]["id"])
        assert leap["next_task"] is not None and leap["next_task"]["due"] == "2025-02-28"
        report = tasks.set_completed(session, user_id="ann", task_id=found["report"]["id"])
        assert report["next_task"] is not None
        assert report["next_task"]["due"] == "2025-02-28T09:00:00Z"
