"""The calendar feed end to end: tasks made with the official MCP client as another agent
would, the feed turned on through the chat server's API, read with no sign-in, parsed with
`icalendar` and its repeats expanded with `recurring-ical-events` across a DST change."""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import icalendar
import pytest
import recurring_ical_events

from taskchat_cli.cli import main as taskchat
from tests.e2e.stack import SECRET, SERVICE_TOKEN, Stack, running_stack
from tests.e2e.test_live_events import agent, called, token

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    url = f"sqlite:///{tmp_path_factory.mktemp('feed')}/feed.db"
    with running_stack(
        url, JWT_SECRET=SECRET, MCP_SERVICE_TOKEN=SERVICE_TOKEN, RATE_LIMIT="1000/minute"
    ) as running:
        yield running


def api(stack: Stack, user_id: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(user_id)}"} if user_id else {}
    return httpx.Client(base_url=stack.chat_url, headers=headers, timeout=30)


JSON = {"Content-Type": "application/json"}


def when(component: icalendar.Component, name: str) -> date:
    """A DUE, DTSTART or DTEND as the date or datetime it holds."""
    value = component.decoded(name)
    assert isinstance(value, date), value
    return value


def utc(component: icalendar.Component, name: str) -> datetime:
    """A timed DUE, DTSTART or DTEND as a UTC datetime."""
    value = when(component, name)
    assert isinstance(value, datetime), value
    return value.astimezone(UTC)


async def add_tasks(stack: Stack, user_id: str) -> dict[str, Any]:
    """Ann's tasks: a weekly 9:00 Berlin task with a subtask, a dated one, a done one, an
    undated one."""
    async with agent(stack, user_id) as client:
        gym = await called(
            client, "add_task", title="Gym", due="2026-03-16T08:00:00Z", priority="high",
            tags=["health"], list="Fitness", repeat="FREQ=WEEKLY;BYDAY=MO",
            timezone="Europe/Berlin", reminders=[{"before": "PT30M"}],
            description="Legs day",
        )  # fmt: skip
        shoes = await called(
            client, "add_task", title="Pack shoes", due="2026-03-16", parent_id=gym["task_id"]
        )
        rent = await called(client, "add_task", title="Pay rent", due="2026-04-01", priority="low")
        done = await called(client, "add_task", title="Old thing", due="2026-01-01")
        await called(client, "complete_task", task_id=done["task_id"])
        await called(client, "add_task", title="Someday")
    return {"gym": gym["task"], "shoes": shoes["task"], "rent": rent["task"]}


async def test_the_feed_serves_open_dated_tasks_as_vtodos_with_rules_alarms_and_zones(
    stack: Stack,
) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    tasks = await add_tasks(stack, ann)
    with api(stack, ann) as http:
        made = http.post("/api/calendar-feed", headers=JSON)
    assert made.status_code == 200, made.text
    url = made.json()["url"]
    assert url.startswith(f"{stack.chat_url}/calendar/") and url.endswith(".ics")
    async with httpx.AsyncClient(timeout=30) as anyone:  # no sign-in: the URL is enough
        feed = await anyone.get(url)
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    assert feed.headers["cache-control"] == "no-store"
    calendar = icalendar.Calendar.from_ical(feed.content)

    todos = {str(todo["SUMMARY"]): todo for todo in calendar.walk("VTODO")}
    assert set(todos) == {"Gym", "Pack shoes", "Pay rent"}  # open and dated only
    gym, shoes, rent = todos["Gym"], todos["Pack shoes"], todos["Pay rent"]
    assert str(gym["UID"]) == f"task-{tasks['gym']['id']}@taskchat"
    assert utc(gym, "DUE") == datetime(2026, 3, 16, 8, tzinfo=UTC)  # 9:00 in Berlin
    assert gym["DUE"].params["TZID"] == "Europe/Berlin"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert gym["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO"
    assert gym["PRIORITY"] == 1 and rent["PRIORITY"] == 9
    assert gym["CATEGORIES"].to_ical() == b"health,Fitness"
    assert str(gym["DESCRIPTION"]) == "Legs day"
    [alarm] = gym.walk("VALARM")
    assert alarm["TRIGGER"].to_ical() == b"-PT30M"
    assert when(rent, "DUE") == date(2026, 4, 1)
    assert str(shoes["RELATED-TO"]) == str(gym["UID"])

    # 9:00 in Berlin every Monday: 08:00 UTC before the clocks change on March 29, 07:00 after.
    series = recurring_ical_events.of(calendar, components=["VTODO"]).between(
        (2026, 3, 16), (2026, 4, 8)
    )
    gyms = sorted(utc(t, "DUE") for t in series if str(t["SUMMARY"]) == "Gym")
    assert gyms == [
        datetime(2026, 3, 16, 8, tzinfo=UTC), datetime(2026, 3, 23, 8, tzinfo=UTC),
        datetime(2026, 3, 30, 7, tzinfo=UTC), datetime(2026, 4, 6, 7, tzinfo=UTC),
    ]  # fmt: skip


async def test_the_feed_as_events_gives_all_day_and_timed_events(stack: Stack) -> None:
    ann = f"ann-{uuid.uuid4().hex[:8]}"
    await add_tasks(stack, ann)
    with api(stack, ann) as http:
        url = http.post("/api/calendar-feed", headers=JSON).json()["url"]
    async with httpx.AsyncClient(timeout=30) as anyone:
        feed = await anyone.get(url, params={"events": "true"})
    calendar = icalendar.Calendar.from_ical(feed.content)
    assert calendar.walk("VTODO") == []
    events = {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {"Gym", "Pack shoes", "Pay rent"}
    rent = events["Pay rent"]
    assert (when(rent, "DTSTART"), when(rent, "DTEND")) == (date(2026, 4, 1), date(2026, 4, 2))
    gym = events["Gym"]
    assert utc(gym, "DTEND") - utc(gym, "DTSTART") == timedelta(minutes=30)
    series = recurring_ical_events.of(calendar).between((2026, 3, 28), (2026, 4, 1))
    assert [utc(e, "DTSTART") for e in series if str(e["SUMMARY"]) == "Gym"] == [
        datetime(2026, 3, 30, 7, tzinfo=UTC)
    ]


def test_a_new_url_revokes_the_old_one_and_delete_turns_the_feed_off(stack: Stack) -> None:
    ann, bob = f"ann-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:8]}"
    with api(stack, ann) as http, api(stack, bob) as bobs:
        first = http.post("/api/calendar-feed", headers=JSON).json()["url"]
        second = http.post("/api/calendar-feed", headers=JSON).json()["url"]
        assert first != second
        never = second.rsplit("/", 1)[0] + "/" + "x" * 43 + ".ics"
        revoked, current, unknown = (httpx.get(u, timeout=30) for u in (first, second, never))
        assert (revoked.status_code, current.status_code, unknown.status_code) == (404, 200, 404)
        # A revoked secret and one that never existed answer alike.
        assert revoked.json() == unknown.json() == {
            "error": "not_found", "message": "no calendar feed at this address"
        }
        # Bob's feed is his own, and his turning it off leaves Ann's alone.
        bobs_url = bobs.post("/api/calendar-feed", headers=JSON).json()["url"]
        assert bobs.request("DELETE", "/api/calendar-feed", headers=JSON).status_code == 200
        assert httpx.get(bobs_url, timeout=30).status_code == 404
        assert httpx.get(second, timeout=30).status_code == 200

        off = http.request("DELETE", "/api/calendar-feed", headers=JSON)
        assert (off.status_code, off.json()) == (200, {"enabled": False})
        assert httpx.get(second, timeout=30).status_code == 404


def test_turning_the_feed_on_needs_the_user_and_their_page(stack: Stack) -> None:
    with api(stack, None) as anonymous, api(stack, "ann") as http:
        assert anonymous.post("/api/calendar-feed", headers=JSON).status_code == 401
        assert anonymous.request("DELETE", "/api/calendar-feed", headers=JSON).status_code == 401
        cross_site = http.post(
            "/api/calendar-feed", headers={**JSON, "Origin": "https://evil.example"}
        )
        assert cross_site.status_code == 403
        assert http.post("/api/calendar-feed", data={"x": "1"}).status_code == 415


def test_guessing_feed_urls_is_rate_limited_per_address(sqlite_url: str) -> None:
    with (
        running_stack(sqlite_url, RATE_LIMIT="5/minute") as limited,
        httpx.Client(base_url=limited.chat_url, timeout=30) as http,
    ):
        statuses = [http.get(f"/calendar/{'y' * 43}.ics").status_code for _ in range(7)]
        limited_answer = http.get(f"/calendar/{'z' * 43}.ics")
    assert statuses == [404] * 5 + [429] * 2
    assert int(limited_answer.headers["retry-after"]) >= 1


def test_the_terminal_turns_the_feed_on_anew_and_off(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--url", stack.chat_url, "--token", token(f"ann-{uuid.uuid4().hex[:8]}")]
    assert taskchat([*common, "calendar-feed"]) == 0
    first = capsys.readouterr().out.strip()
    assert taskchat([*common, "calendar-feed"]) == 0
    second = capsys.readouterr().out.strip()
    assert first.startswith(f"{stack.chat_url}/calendar/") and second != first
    assert [httpx.get(url, timeout=30).status_code for url in (first, second)] == [404, 200]
    assert taskchat([*common, "calendar-feed", "--off"]) == 0
    assert capsys.readouterr().out.startswith("calendar feed turned off")
    assert httpx.get(second, timeout=30).status_code == 404
