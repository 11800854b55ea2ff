"""list_tasks: filters, sorts, keyset pagination (on SQLite and PostgreSQL), bad queries."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session

from mcp_server import tasks
from mcp_server.tasks import CursorSecret, InvalidTaskInput, TaskQuery
from shared.contract import ORDERS, SORTS
from shared.db import make_engine
from shared.migrate import upgrade_all
from tests.mcp_server.conftest import NOW, add
from tests.mcp_server.test_task_rules import signed


def titles(session: Session, user_id: str = "ann", **query: object) -> list[str]:
    page = tasks.list_tasks(session, user_id=user_id, query=TaskQuery(**query), now=NOW)  # type: ignore[arg-type]
    return [task["title"] for task in page["tasks"]]


def all_pages(session: Session, **query: object) -> list[str]:
    """Follow next_cursor to the end; every page but the last is full."""
    seen: list[str] = []
    cursor = None
    limit = query["limit"]
    while True:
        page = tasks.list_tasks(
            session,
            user_id="ann",
            query=TaskQuery(**query, cursor=cursor),
            now=NOW,  # type: ignore[arg-type]
        )
        seen += [task["title"] for task in page["tasks"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        assert len(page["tasks"]) == limit


def test_lists_only_the_callers_tasks_oldest_first(session: Session):
    add(session, title="a1", now=NOW)
    add(session, user_id="bob", title="b1")
    add(session, title="a2", now=NOW + timedelta(seconds=1))
    assert titles(session) == ["a1", "a2"]
    assert titles(session, user_id="bob") == ["b1"]
    assert titles(session, user_id="carl") == []


def test_empty_list_has_no_cursor(session: Session):
    assert tasks.list_tasks(session, user_id="ann") == {"tasks": [], "next_cursor": None}


def test_status_filter(session: Session):
    add(session, title="open")
    done = add(session, title="done")
    tasks.set_completed(session, user_id="ann", task_id=done["id"])
    assert titles(session, status="pending") == ["open"]
    assert titles(session, status="completed") == ["done"]
    assert titles(session, status="all") == ["open", "done"]


def test_search_is_a_case_insensitive_substring_of_title_or_description(session: Session):
    add(session, title="Buy MILK")
    add(session, title="call mum", description="about the milkman")
    add(session, title="water plants")
    add(session, title="100% done_ish")
    assert titles(session, search="milk") == ["Buy MILK", "call mum"]
    assert titles(session, search="  Milk ") == ["Buy MILK", "call mum"]
    # LIKE wildcards in the search text are matched literally.
    assert titles(session, search="%") == ["100% done_ish"]
    assert titles(session, search="e_i") == ["100% done_ish"]
    assert titles(session, search="") == ["Buy MILK", "call mum", "water plants", "100% done_ish"]


def test_tag_filter_matches_whole_normalised_tags_only(session: Session):
    add(session, title="a", tags=["home", "x_y"])
    add(session, title="b", tags=["homework"])
    add(session, title="c", tags=["xzy"])
    add(session, title="d")
    assert titles(session, tag="home") == ["a"]
    assert titles(session, tag="#HOME") == ["a"]
    assert titles(session, tag="x_y") == ["a"]
    assert titles(session, tag="work") == []


def test_bad_tag_filter_is_refused(session: Session):
    with pytest.raises(InvalidTaskInput, match="^tag 'no way' may only contain"):
        titles(session, tag="no way")


def test_priority_filter(session: Session):
    add(session, title="l", priority="low")
    add(session, title="h", priority="high")
    assert titles(session, priority="high") == ["h"]
    with pytest.raises(InvalidTaskInput, match=r"^priority must be one of low, medium, high"):
        titles(session, priority="urgent")


def test_due_bounds_are_inclusive_and_a_date_covers_its_whole_day(session: Session):
    add(session, title="9th", due="2025-03-09")
    add(session, title="10th", due="2025-03-10")
    add(session, title="10th 23:59", due="2025-03-10T23:59:59Z")
    add(session, title="11th 00:00", due="2025-03-11T00:00:00Z")
    add(session, title="no due")
    assert titles(session, due_before="2025-03-10") == ["9th", "10th", "10th 23:59"]
    assert titles(session, due_after="2025-03-10") == ["10th", "10th 23:59", "11th 00:00"]
    assert titles(session, due_after="2025-03-10", due_before="2025-03-10") == [
        "10th",
        "10th 23:59",
    ]
    assert titles(session, due_before="2025-03-10T23:59:59Z") == ["9th", "10th", "10th 23:59"]
    assert titles(session, due_after="2025-03-11T01:00:00+01:00") == ["11th 00:00"]


def test_bad_due_bound_is_refused_by_name(session: Session):
    with pytest.raises(InvalidTaskInput) as caught:
        titles(session, due_after="tomorrow")
    assert str(caught.value) == "due_after: 'tomorrow' is not an ISO 8601 date or date-time"


def test_overdue_rules(session: Session):
    # NOW is 2025-03-10 12:00 UTC.
    add(session, title="yesterday", due="2025-03-09")
    add(session, title="today", due="2025-03-10")
    add(session, title="an hour ago", due="2025-03-10T11:00:00Z")
    add(session, title="in an hour", due="2025-03-10T13:00:00Z")
    add(session, title="no due")
    done = add(session, title="done late", due="2025-03-01")
    tasks.set_completed(session, user_id="ann", task_id=done["id"])
    assert titles(session, overdue=True) == ["yesterday", "an hour ago"]
    assert titles(session, overdue=False) == ["today", "in an hour", "no due", "done late"]


def in_zone(session: Session, now: datetime, **query: object) -> list[str]:
    page = tasks.list_tasks(session, user_id="ann", query=TaskQuery(**query), now=now)  # type: ignore[arg-type]
    return [task["title"] for task in page["tasks"]]


def test_days_are_the_named_time_zones_days(session: Session):
    add(session, title="date nov 27", due="2026-11-27")
    add(session, title="tokyo nov 28 8am", due="2026-11-28T08:00:00+09:00")  # 27th 23:00 UTC
    add(session, title="la nov 27 6pm", due="2026-11-27T18:00:00-08:00")  # 28th 02:00 UTC
    tokyo_night = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # the 28th, 03:30 in Tokyo
    la_evening = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # the 27th, 17:00 in Los Angeles

    # In Tokyo the 27th is over: its date-only task is overdue, though the UTC day is not.
    assert in_zone(session, tokyo_night, overdue=True, timezone="Asia/Tokyo") == ["date nov 27"]
    assert in_zone(session, tokyo_night, overdue=True) == []
    # In Los Angeles it is still the 27th, although UTC has reached the 28th (a date-time due
    # is overdue once its moment has passed, in every zone).
    la_overdue = in_zone(session, la_evening, overdue=True, timezone="America/Los_Angeles")
    assert la_overdue == ["tokyo nov 28 8am"]
    assert in_zone(session, la_evening, overdue=True) == ["date nov 27", "tokyo nov 28 8am"]
    # A day window: date-only dues by their date, date-time dues by the zone's day.
    tokyo_27 = in_zone(session, tokyo_night, due_after="2026-11-27", due_before="2026-11-27",
                       timezone="Asia/Tokyo")  # fmt: skip
    assert tokyo_27 == ["date nov 27"]
    tokyo_28 = in_zone(session, tokyo_night, due_after="2026-11-28", due_before="2026-11-28",
                       timezone="Asia/Tokyo")  # fmt: skip
    assert tokyo_28 == ["tokyo nov 28 8am", "la nov 27 6pm"]
    la_27 = in_zone(session, la_evening, due_after="2026-11-27", due_before="2026-11-27",
                    timezone="America/Los_Angeles")  # fmt: skip
    assert la_27 == ["date nov 27", "tokyo nov 28 8am", "la nov 27 6pm"]
    utc_27 = in_zone(session, la_evening, due_after="2026-11-27", due_before="2026-11-27")
    assert utc_27 == ["date nov 27", "tokyo nov 28 8am"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd", "America", "", "x" * 65])
def test_a_time_zone_that_is_not_one_is_refused(session: Session, zone: str):
    with pytest.raises(InvalidTaskInput, match="timezone: .* is not an IANA time zone name"):
        titles(session, overdue=True, timezone=zone)


def test_date_only_task_is_overdue_from_the_day_after(session: Session):
    add(session, title="due 10th", due="2025-03-10")
    late_on_the_day = NOW.replace(hour=23, minute=59, second=59)
    next_day = NOW.replace(hour=0) + timedelta(days=1)
    for now, expected in ((late_on_the_day, []), (next_day, ["due 10th"])):
        page = tasks.list_tasks(session, user_id="ann", query=TaskQuery(overdue=True), now=now)
        assert [t["title"] for t in page["tasks"]] == expected


def test_filters_combine(session: Session):
    add(session, title="milk", tags=["shop"], priority="high", due="2025-03-01")
    add(session, title="milk again", tags=["shop"], priority="low", due="2025-03-01")
    add(session, title="bread", tags=["shop"], priority="high", due="2025-03-01")
    assert titles(session, search="milk", tag="shop", priority="high", overdue=True) == ["milk"]


# Nine tasks mixing priorities, titles, dated, timed and missing dues.
SAMPLE_ROWS = [
    ("Echo", "high", "2025-03-12"),
    ("alpha", "low", None),
    ("Delta", "medium", "2025-03-10T08:00:00Z"),
    ("bravo", "high", "2025-03-10"),
    ("charlie", "low", "2025-03-11T00:00:00Z"),
    ("foxtrot", "medium", None),
    ("Golf", "high", "2025-03-10"),
    ("hotel", "low", None),
    ("india", "medium", "2025-03-09T23:00:00+02:00"),
]


@pytest.fixture
def sample(session: Session) -> Session:
    """Nine tasks mixing priorities, titles, dated, timed and missing dues, all in one second."""
    for title, priority, due in SAMPLE_ROWS:
        add(session, title=title, priority=priority, due=due)
    return session


SORTED = {
    ("created", "asc"): ["Echo", "alpha", "Delta", "bravo", "charlie", "foxtrot", "Golf", "hotel",
                         "india"],
    ("due", "asc"): ["india", "bravo", "Golf", "Delta", "charlie", "Echo", "alpha", "foxtrot",
                     "hotel"],
    ("due", "desc"): ["Echo", "charlie", "Delta", "Golf", "bravo", "india", "hotel", "foxtrot",
                      "alpha"],
    ("priority", "asc"): ["alpha", "charlie", "hotel", "Delta", "foxtrot", "india", "Echo",
                          "bravo", "Golf"],
    ("priority", "desc"): ["Golf", "bravo", "Echo", "india", "foxtrot", "Delta", "hotel",
                           "charlie", "alpha"],
    ("title", "asc"): ["alpha", "bravo", "charlie", "Delta", "Echo", "foxtrot", "Golf", "hotel",
                       "india"],
}  # fmt: skip
SORTED[("created", "desc")] = SORTED[("created", "asc")][::-1]
SORTED[("title", "desc")] = SORTED[("title", "asc")][::-1]


@pytest.mark.parametrize(("sort", "order"), sorted(SORTED))
def test_sort_orders(sample: Session, sort: str, order: str):
    assert titles(sample, sort=sort, order=order) == SORTED[(sort, order)]


@pytest.mark.parametrize("limit", [1, 2, 4])
@pytest.mark.parametrize(("sort", "order"), sorted(SORTED))
def test_pages_cover_the_sorted_list_exactly_once(sample: Session, sort, order, limit):
    assert all_pages(sample, sort=sort, order=order, limit=limit) == SORTED[(sort, order)]


@pytest.fixture
def any_session(database_url: str) -> Iterator[Session]:
    """A session on SQLite and on PostgreSQL."""
    engine = make_engine(database_url)
    upgrade_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_pagination_agrees_on_sqlite_and_postgresql(any_session: Session):
    session = any_session
    for i, (title, priority, due) in enumerate(SAMPLE_ROWS):
        # Every other task in the same second: ties on created_at break by id.
        add(session, title=title, priority=priority, due=due, now=NOW + timedelta(seconds=i // 2))
    for (sort, order), expected in SORTED.items():
        for limit in (1, 2, 4):
            assert all_pages(session, sort=sort, order=order, limit=limit) == expected, (
                sort,
                order,
                limit,
            )


def test_pages_stay_consistent_when_tasks_are_added_between_pages(session: Session):
    for i in range(4):
        add(session, title=f"t{i}")
    first = tasks.list_tasks(session, user_id="ann", query=TaskQuery(limit=2))
    add(session, title="t4")
    second = tasks.list_tasks(
        session, user_id="ann", query=TaskQuery(limit=2, cursor=first["next_cursor"])
    )
    assert [t["title"] for t in first["tasks"] + second["tasks"]] == ["t0", "t1", "t2", "t3"]


def test_limit_caps_the_page(session: Session):
    for i in range(3):
        add(session, title=f"t{i}")
    page = tasks.list_tasks(session, user_id="ann", query=TaskQuery(limit=2))
    assert [t["title"] for t in page["tasks"]] == ["t0", "t1"]
    assert page["next_cursor"] is not None
    assert tasks.list_tasks(session, user_id="ann", query=TaskQuery(limit=3))["next_cursor"] is None


def test_a_cursor_never_reveals_another_users_tasks(session: Session):
    for i in range(3):
        add(session, title=f"ann{i}")
        add(session, user_id="bob", title=f"bob{i}")
    cursor = tasks.list_tasks(session, user_id="ann", query=TaskQuery(limit=1))["next_cursor"]
    page = tasks.list_tasks(session, user_id="bob", query=TaskQuery(limit=5, cursor=cursor))
    # The position applies, the owner does not travel with it: only bob's tasks come back.
    assert [t["title"] for t in page["tasks"]] == ["bob0", "bob1", "bob2"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": 0}, "limit must be between 1 and 200 (got 0)"),
        ({"limit": 201}, "limit must be between 1 and 200 (got 201)"),
        ({"sort": "size"}, "sort must be one of created, due, priority, title (got 'size')"),
        ({"order": "up"}, "order must be one of asc, desc (got 'up')"),
        ({"status": "done"}, "status must be one of all, pending, completed (got 'done')"),
        ({"cursor": "bogus"}, "cursor is invalid (changed or cut short?); start again without a "
         "cursor"),
    ],
)  # fmt: skip
def test_bad_query_is_refused(session: Session, query, message):
    with pytest.raises(InvalidTaskInput) as caught:
        titles(session, **query)
    assert str(caught.value) == message


def test_cursor_from_another_sort_is_refused(session: Session):
    for i in range(3):
        add(session, title=f"t{i}")
    cursor = tasks.list_tasks(session, user_id="ann", query=TaskQuery(limit=1))["next_cursor"]
    with pytest.raises(InvalidTaskInput) as caught:
        titles(session, sort="title", cursor=cursor)
    assert str(caught.value) == (
        "cursor belongs to sort=created order=asc, not sort=title order=asc; "
        "start again without a cursor"
    )


# -- due dates at the ends of the supported range -------------------------------------------

EXTREMES = [
    ("first day", "1900-01-01"),
    ("first second", "1900-01-01T00:00:00Z"),
    ("last day", "9999-12-30"),
    ("last second", "9999-12-30T23:59:59Z"),
    ("ordinary", "2025-03-10"),
]


def test_tasks_due_at_the_ends_of_the_range_are_stored_listed_and_sorted(any_session: Session):
    session = any_session
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL hands instants back in the session's zone: 14 hours ahead of UTC must
        # still fit in year 9999 (completing a task reads its due back as a datetime).
        session.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))
    for title, due in EXTREMES:
        add(session, title=title, due=due, recurrence="yearly" if title == "ordinary" else "none")
    shown = {t["title"]: t["due"] for t in tasks.list_tasks(session, user_id="ann")["tasks"]}
    assert shown == {
        "first day": "1900-01-01",
        "first second": "1900-01-01T00:00:00Z",
        "last day": "9999-12-30",
        "last second": "9999-12-30T23:59:59Z",
        "ordinary": "2025-03-10",
    }
    by_due = ["first day", "first second", "ordinary", "last day", "last second"]
    assert all_pages(session, sort="due", order="asc", limit=1) == by_due
    assert all_pages(session, sort="due", order="desc", limit=2) == by_due[::-1]
    # A date window holds the zone's days: the extreme instants fall on the day before or
    # after in zones far from UTC, and the bounds' own arithmetic stays within years 1..9999.
    everything = {"due_after": "1900-01-01", "due_before": "9999-12-30"}
    assert titles(session, **everything) == [title for title, _ in EXTREMES]
    assert titles(session, **everything, timezone="Pacific/Kiritimati") == [
        "first day", "last day", "ordinary"
    ]  # fmt: skip
    assert titles(session, **everything, timezone="Etc/GMT+12") == [
        "first day", "last day", "last second", "ordinary"
    ]  # fmt: skip
    assert titles(session, due_after="9999-12-30T23:59:59Z") == ["last second"]
    assert titles(session, due_before="1900-01-01", timezone="Pacific/Kiritimati") == [
        "first day", "first second"
    ]  # fmt: skip
    listed = tasks.list_tasks(session, user_id="ann")["tasks"]
    last = next(task for task in listed if task["title"] == "last second")
    assert tasks.set_completed(session, user_id="ann", task_id=last["id"])["task"]["completed"]


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ({"due_after": "0001-01-01", "timezone": "Pacific/Kiritimati"}, "due_after", "0001-01-01"),
        ({"due_after": "0001-01-01", "timezone": "Asia/Tokyo"}, "due_after", "0001-01-01"),
        ({"due_before": "0001-01-01", "timezone": "Asia/Tokyo"}, "due_before", "0001-01-01"),
        ({"due_before": "9999-12-31", "timezone": "Etc/GMT+12"}, "due_before", "9999-12-31"),
        ({"due_before": "9999-12-31T23:59:59-23:59"}, "due_before", "9999-12-31T23:59:59-23:59"),
        ({"due_after": "0001-01-01T00:00:00+14:00"}, "due_after", "0001-01-01T00:00:00+14:00"),
    ],
)
def test_a_due_bound_outside_the_range_is_refused_by_name(session: Session, query, field, value):
    with pytest.raises(InvalidTaskInput) as caught:
        titles(session, **query)
    assert str(caught.value) == (
        f"{field}: {value!r} is outside the supported range, 1900-01-01 to 9999-12-30 (UTC)"
    )


def test_completing_a_repeating_task_past_the_last_supported_year_ends_the_series(any_session):
    session = any_session
    task = add(session, title="last", due="9999-06-01", recurrence="yearly")
    change = tasks.set_completed(session, user_id="ann", task_id=task["id"])
    assert (change["task"]["completed"], change["next_task"]) == (True, None)


def test_an_occurrence_after_the_last_supported_date_is_refused(any_session):
    session = any_session
    task = add(session, title="last", due="9999-12-30", recurrence="daily")
    with pytest.raises(InvalidTaskInput, match="^the next occurrence of this task .every day."):
        tasks.set_completed(session, user_id="ann", task_id=task["id"])


# -- the cursor secret ---------------------------------------------------------------------

OTHER_SECRET = "another-deployments-cursor-secret-" + "x" * 10


def test_a_cursor_made_by_one_instance_pages_on_another(database_url: str):
    first, second = make_engine(database_url), make_engine(database_url)
    try:
        upgrade_all(first)
        with Session(first) as session:
            for i in range(3):
                add(session, title=f"t{i}")
            session.commit()
            page = tasks.list_tasks(
                session, user_id="ann", query=TaskQuery(limit=1), cursor_secret=CursorSecret()
            )
        query = TaskQuery(limit=5, cursor=page["next_cursor"])
        with Session(second) as session:
            rest = tasks.list_tasks(
                session, user_id="ann", query=query, cursor_secret=CursorSecret()
            )
            assert [t["title"] for t in rest["tasks"]] == ["t1", "t2"]
            with pytest.raises(InvalidTaskInput, match=r"^cursor is invalid \("):
                tasks.list_tasks(
                    session, user_id="ann", query=query, cursor_secret=CursorSecret(OTHER_SECRET)
                )
    finally:
        first.dispose()
        second.dispose()


def test_a_configured_secret_signs_cursors_every_instance_accepts(session: Session):
    for i in range(3):
        add(session, title=f"t{i}")
    configured = CursorSecret(OTHER_SECRET)
    cursor = tasks.list_tasks(
        session, user_id="ann", query=TaskQuery(limit=1), cursor_secret=configured
    )["next_cursor"]
    query = TaskQuery(cursor=cursor)
    again = tasks.list_tasks(
        session, user_id="ann", query=query, cursor_secret=CursorSecret(OTHER_SECRET)
    )
    assert [t["title"] for t in again["tasks"]] == ["t1", "t2"]
    # The database's own secret is another one.
    with pytest.raises(InvalidTaskInput, match=r"^cursor is invalid \("):
        tasks.list_tasks(session, user_id="ann", query=query)


def test_processes_finding_the_secret_missing_at_once_all_get_the_same_one(database_url: str):
    engine = make_engine(database_url)
    upgrade_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM deployment_secret"))  # as an operator changing it
    engine.dispose()
    starters = 4
    barrier = threading.Barrier(starters)
    found: list[bytes] = []

    def start() -> None:
        engine = make_engine(database_url)  # an engine each, as separate processes have
        try:
            barrier.wait()
            found.append(CursorSecret().load(engine))
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(found) == starters and len(set(found)) == 1
    assert len(found[0]) >= 32
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM deployment_secret")).scalar() == 1
    engine.dispose()


def test_a_new_database_gets_a_secret_of_its_own(tmp_path):
    secrets = []
    for name in ("a.db", "b.db"):
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        upgrade_all(engine)
        secrets.append(CursorSecret().load(engine))
        engine.dispose()
    assert secrets[0] != secrets[1]


# -- forged cursors --------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
KEYS = st.one_of(
    JSON,
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),
    st.integers(min_value=-3, max_value=5),
)
FIELDS = st.tuples(
    st.sampled_from(SORTS) | st.text(max_size=3),
    st.sampled_from(ORDERS) | JSON,
    KEYS,
    st.integers(min_value=-(2**70), max_value=2**70) | JSON,
).map(list)
PAYLOADS = st.one_of(
    FIELDS.map(lambda fields: json.dumps(fields).encode()),
    FIELDS.map(lambda fields: json.dumps(fields, ensure_ascii=False).encode()),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
)


def test_a_signed_cursor_around_any_payload_pages_or_is_refused_as_a_cursor(database_url: str):
    engine = make_engine(database_url)
    upgrade_all(engine)
    secret = CursorSecret("forged-cursor-test-secret-" + "f" * 10)
    with Session(engine) as session:
        for title, priority, due in SAMPLE_ROWS:
            add(session, title=title, priority=priority, due=due)
        session.commit()

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=PAYLOADS, sort=st.sampled_from(SORTS), order=st.sampled_from(ORDERS))
    def lists_or_refuses(payload: bytes, sort: str, order: str) -> None:
        with Session(engine) as session:
            check = secret.load(engine)
            cursor = signed(payload, check)
            if payload[:1] == b"[":
                try:  # page with the sort the cursor names, so its key is what gets checked
                    named = json.loads(payload)
                    if named[0] in SORTS and named[1] in ORDERS:
                        sort, order = named[0], named[1]
                except (ValueError, RecursionError, IndexError, KeyError, TypeError):
                    pass
            query = TaskQuery(sort=sort, order=order, limit=3, cursor=cursor)
            try:
                tasks.list_tasks(session, user_id="ann", query=query, cursor_secret=secret)
            except InvalidTaskInput as refused:
                assert str(refused).startswith(("cursor is invalid (", "cursor belongs to sort="))

    try:
        lists_or_refuses()
    finally:
        engine.dispose()
