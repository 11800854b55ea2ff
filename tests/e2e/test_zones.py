"""End to end: a user in Tokyo and one in Los Angeles add "tomorrow" tasks through one
running chat server at the same moment; each gets their own tomorrow."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from mcp_server.listing import TaskQuery, list_tasks
from shared.db import make_engine
from tests.e2e.stack import running_stack

pytestmark = pytest.mark.e2e

TOKYO, LOS_ANGELES = "Asia/Tokyo", "America/Los_Angeles"


def _tomorrow(zone: str) -> str:
    return (datetime.now(ZoneInfo(zone)) + timedelta(days=1)).date().isoformat()


def _server_zone() -> str:
    """A server zone whose tomorrow differs from one of the users' now, so that a server
    ignoring their zones would get one of them wrong, at any hour the test runs."""
    for zone in ("UTC", "Etc/GMT-14", "Etc/GMT+12"):
        if not _tomorrow(zone) == _tomorrow(TOKYO) == _tomorrow(LOS_ANGELES):
            return zone
    raise AssertionError("no zone differs")  # cannot happen: they span 26 hours


def test_users_in_tokyo_and_los_angeles_each_get_their_own_tomorrow(sqlite_url: str) -> None:
    server_zone = _server_zone()
    said = {TOKYO: TOKYO, LOS_ANGELES: LOS_ANGELES, "Mars/Base": server_zone}  # unknown: fallback
    expected = {zone: {_tomorrow(day_of)} for zone, day_of in said.items()}
    with running_stack(sqlite_url, TASKCHAT_TIMEZONE=server_zone) as stack:
        for zone in said:
            stack.client(timezone=zone).create(f"add call from {zone} tomorrow")
    for zone, day_of in said.items():
        expected[zone].add(_tomorrow(day_of))  # a midnight may have passed meanwhile
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:
            tasks = list_tasks(session, user_id="local", query=TaskQuery())["tasks"]
    finally:
        engine.dispose()
    assert [t["title"] for t in tasks] == [f"Call from {zone}" for zone in said]
    for task, zone in zip(tasks, said, strict=True):
        assert task["due"] in expected[zone], zone
