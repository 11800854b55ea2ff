"""A client's VTODO read as task tool arguments, and a task served back as an item."""

from typing import Any

import pytest

from chat_server.caldav.todos import changes, fields_of, is_done, item_text, todo_in

PHONE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VTODO\r\n"
    "UID:abc-1\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:Gym\r\nDESCRIPTION:Legs\r\n"
    "DUE;TZID=Europe/Berlin:20260316T090000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\n"
    "PRIORITY:2\r\nCATEGORIES:health,Home\r\nSTATUS:NEEDS-ACTION\r\n"
    "END:VTODO\r\nEND:VCALENDAR\r\n"
)


def task(**fields: Any) -> Any:
    base = {
        "id": 7, "title": "Gym", "description": "Legs", "completed": False,
        "completed_at": None, "priority": "high", "tags": ["health"],
        "due": "2026-03-16T08:00:00Z", "recurrence": "none", "list": "Home",
        "created_at": "2026-03-01T00:00:00Z", "updated_at": "2026-03-02T00:00:00Z",
        "repeat": "FREQ=WEEKLY;BYDAY=MO", "timezone": "Europe/Berlin", "reminders": [],
    }  # fmt: skip
    return {**base, **fields}


def test_a_phones_vtodo_reads_as_the_fields_a_task_holds() -> None:
    fields = fields_of(todo_in(PHONE), "Home")

    assert fields == {
        "title": "Gym", "description": "Legs", "due": "2026-03-16T08:00:00Z",
        "priority": "high", "tags": ["health"], "repeat": "FREQ=WEEKLY;BYDAY=MO",
        "timezone": "Europe/Berlin",
    }  # fmt: skip
    assert not is_done(todo_in(PHONE))
    assert is_done(todo_in(PHONE.replace("NEEDS-ACTION", "COMPLETED")))


def test_only_what_the_client_changed_is_sent_to_update_task() -> None:
    same = fields_of(todo_in(PHONE), "Home")
    assert changes(task(), same) == {}

    renamed = fields_of(todo_in(PHONE.replace("SUMMARY:Gym", "SUMMARY:Swim")), "Home")
    assert changes(task(), renamed) == {"title": "Swim"}

    no_due = PHONE.replace("DUE;TZID=Europe/Berlin:20260316T090000\r\n", "")
    assert changes(task(), fields_of(todo_in(no_due), "Home")) == {"due": "", "repeat": ""}


def test_an_item_without_a_vtodo_is_refused() -> None:
    with pytest.raises(ValueError, match="only VTODO items"):
        todo_in(PHONE.replace("VTODO", "VEVENT"))
    with pytest.raises(ValueError, match="not an iCalendar object"):
        todo_in("hello")


def test_a_task_made_by_a_client_is_served_under_the_clients_uid() -> None:
    text = item_text(task(), uid="abc-1", domain="taskchat")
    assert "UID:abc-1" in text and "task-7@taskchat" not in text
    # Served and read back, the task says the same.
    assert changes(task(), fields_of(todo_in(text), "Home")) == {}
    assert "UID:task-7@taskchat" in item_text(task(), uid=None, domain="taskchat")
