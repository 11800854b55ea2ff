"""Reminders on tasks: durations, validation, fire times, and the next occurrence's copy."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from mcp_server import tasks
from mcp_server.models import REMINDER_TABLE
from mcp_server.reminders import parse_duration
from mcp_server.task_rules import InvalidTaskInput
from shared import channels
from tests.mcp_server.conftest import NOW, add

_r = REMINDER_TABLE
USER = "ann"  # conftest.add's user


def fire_times(session: Session, task_id: int) -> list[datetime]:
    rows = session.connection().execute(
        select(_r.c.fire_at).where(_r.c.task_id == task_id).order_by(_r.c.position)
    )
    return [moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment for (moment,) in rows]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("PT30M", timedelta(minutes=30)), ("P1D", timedelta(days=1)), ("P1W", timedelta(weeks=1)),
     ("PT1H30M", timedelta(hours=1, minutes=30)), ("pt0s", timedelta(0)),
     ("P1DT2H", timedelta(days=1, hours=2))],
)  # fmt: skip
def test_durations_of_weeks_days_hours_minutes_and_seconds_are_read(
    text: str, expected: timedelta
) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "P1Y", "P1M", "30M", "P1DT", "PT-5M", "P999W"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidTaskInput, match="reminders: before"):
        parse_duration(text)


def test_a_task_keeps_its_reminders_and_fires_them_relative_to_its_due(session: Session) -> None:
    task = add(session, due="2025-03-11T09:00:00Z",
               reminders=[{"before": "PT30M"}, {"at": "2025-03-10T20:00:00+01:00"}])  # fmt: skip

    assert task["reminders"] == [{"before": "PT30M"}, {"at": "2025-03-10T20:00:00+01:00"}]
    assert fire_times(session, task["id"]) == [
        datetime(2025, 3, 11, 8, 30, tzinfo=UTC), datetime(2025, 3, 10, 19, 0, tzinfo=UTC)
    ]


def test_a_date_only_due_counts_from_the_start_of_its_day_in_the_tasks_zone(
    session: Session,
) -> None:
    task = add(session, due="2025-03-11", timezone="Europe/Berlin", reminders=[{"before": "P1D"}])

    assert fire_times(session, task["id"]) == [datetime(2025, 3, 9, 23, 0, tzinfo=UTC)]


def test_a_before_reminder_needs_a_due_date(session: Session) -> None:
    with pytest.raises(InvalidTaskInput, match="needs a due date"):
        add(session, reminders=[{"before": "PT30M"}])


@pytest.mark.parametrize(
    "reminder",
    [{"at": "2025-03-10T09:00:00"}, {"at": "2025-03-10"}, {"before": "PT1M", "at": "x"}, {}],
)
def test_malformed_reminders_are_refused(session: Session, reminder: dict[str, str]) -> None:
    with pytest.raises(InvalidTaskInput, match="reminders"):
        add(session, due="2025-03-11", reminders=[reminder])


def test_moving_the_due_moves_its_reminders_and_null_leaves_them(session: Session) -> None:
    task = add(session, due="2025-03-11T09:00:00Z", reminders=[{"before": "PT1H"}])
    tasks.update_task(session, user_id="ann", task_id=task["id"],
                      changes={"due": "2025-03-12T09:00:00Z"}, now=NOW)  # fmt: skip

    assert fire_times(session, task["id"]) == [datetime(2025, 3, 12, 8, 0, tzinfo=UTC)]
    changed = tasks.update_task(session, user_id="ann", task_id=task["id"],
                                changes={"title": "renamed"}, now=NOW)  # fmt: skip
    assert changed["task"]["reminders"] == [{"before": "PT1H"}]


def test_an_empty_list_clears_the_reminders(session: Session) -> None:
    task = add(session, due="2025-03-11T09:00:00Z", reminders=[{"before": "PT1H"}])
    changed = tasks.update_task(session, user_id="ann", task_id=task["id"],
                                changes={"reminders": []}, now=NOW)  # fmt: skip

    assert changed["task"]["reminders"] == []
    assert fire_times(session, task["id"]) == []


def test_removing_the_due_of_a_task_with_a_before_reminder_is_refused(session: Session) -> None:
    task = add(session, due="2025-03-11T09:00:00Z", reminders=[{"before": "PT1H"}])

    with pytest.raises(InvalidTaskInput, match="needs a due date"):
        tasks.update_task(session, user_id="ann", task_id=task["id"], changes={"due": ""})


def test_the_next_occurrence_of_a_repeating_task_carries_its_reminders(session: Session) -> None:
    task = add(session, due="2025-03-11T09:00:00Z", repeat="FREQ=DAILY",
               reminders=[{"before": "PT15M"}, {"at": "2025-03-11T07:00:00Z"}])  # fmt: skip
    change = tasks.set_completed(session, user_id="ann", task_id=task["id"], now=NOW)

    following = change["next_task"]
    assert following is not None
    assert following["reminders"] == [{"before": "PT15M"}, {"at": "2025-03-12T07:00:00+00:00"}]
    assert fire_times(session, following["id"]) == [
        datetime(2025, 3, 12, 8, 45, tzinfo=UTC), datetime(2025, 3, 12, 7, 0, tzinfo=UTC)
    ]


def test_deleting_a_task_deletes_its_reminders(session: Session) -> None:
    task = add(session, due="2025-03-11T09:00:00Z", reminders=[{"before": "PT1H"}])
    tasks.delete_task(session, user_id="ann", task_id=task["id"])

    assert fire_times(session, task["id"]) == []


def test_a_new_task_with_a_due_time_gets_its_owners_default_reminders(session: Session) -> None:
    channels.set_default_reminders(session, user_id=USER, now=NOW,
                                   reminders=[{"before": "PT0S"}, {"before": "pt10m"}])  # fmt: skip
    timed = add(session, due="2025-03-11T09:00:00Z")
    dated = add(session, title="date only", due="2025-03-11")
    undated = add(session, title="no due")
    chosen = add(session, title="own reminders", due="2025-03-11T09:00:00Z",
                 reminders=[{"before": "P1D"}])  # fmt: skip
    declined = add(session, title="none", due="2025-03-11T09:00:00Z", reminders=[])
    others = tasks.add_task(session, user_id="bob", now=NOW, data=tasks.NewTask(
        title="bob's", due="2025-03-11T09:00:00Z"))["task"]  # fmt: skip

    assert timed["reminders"] == [{"before": "PT0S"}, {"before": "PT10M"}]
    assert fire_times(session, timed["id"]) == [datetime(2025, 3, 11, 9, 0, tzinfo=UTC),
                                                datetime(2025, 3, 11, 8, 50, tzinfo=UTC)]
    assert [dated["reminders"], undated["reminders"], declined["reminders"]] == [[], [], []]
    assert chosen["reminders"] == [{"before": "P1D"}]
    assert others["reminders"] == []

    channels.set_default_reminders(session, user_id=USER, reminders=[], now=NOW)
    assert add(session, title="after", due="2025-03-11T09:00:00Z")["reminders"] == []


@pytest.mark.parametrize(
    "reminders",
    [[{"at": "2025-03-11T09:00:00Z"}], [{"before": "P1Y"}], [{"before": "PT1M"}] * 4,
     [{"before": "PT1M", "at": "2025-03-11T09:00:00Z"}], ["PT1M"]],
)  # fmt: skip
def test_a_default_is_before_the_due_only_and_at_most_three(
    session: Session, reminders: list[object]
) -> None:
    with pytest.raises(channels.ChannelError, match="reminders"):
        channels.set_default_reminders(session, user_id=USER, reminders=reminders, now=NOW)
