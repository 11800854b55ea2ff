"""Change subscriptions (mcp_server/changes.py), resource links (links.py) and the task app
page (apps.py), in process."""

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from mcp.server.subscriptions import ResourceUpdated, ServerEvent
from mcp.shared.exceptions import MCPError
from sqlalchemy import insert, select
from sqlmodel import Session

from mcp_server.apps import app_html
from mcp_server.changes import STREAMS_PER_USER, ChangeFeed
from mcp_server.links import links_of
from shared import events
from shared.db import make_engine
from shared.events import TaskEvent
from shared.migrate import upgrade_all


def feed() -> ChangeFeed:
    return ChangeFeed(make_engine("sqlite://"), "sqlite://")


def test_a_change_reaches_only_the_streams_of_its_user() -> None:
    changes = feed()
    ann: list[ServerEvent] = []
    bob: list[ServerEvent] = []
    changes.subscribe("ann", ann.append)
    stop_bob = changes.subscribe("bob", bob.append)
    changes.dispatch("ann", TaskEvent(task_id=7, status="updated"))
    assert ann == [ResourceUpdated(uri="task://7"), ResourceUpdated(uri="list://all")]
    assert bob == []
    stop_bob()
    stop_bob()  # again is harmless
    changes.dispatch("bob", TaskEvent(task_id=8, status="created"))
    assert bob == []


def test_a_user_holds_a_bounded_number_of_streams() -> None:
    changes = feed()
    for _ in range(STREAMS_PER_USER):
        changes.subscribe("ann", lambda _event: None)
    with pytest.raises(MCPError, match="at most 20 subscription streams per user"):
        changes.subscribe("ann", lambda _event: None)
    changes.subscribe("bob", lambda _event: None)  # others are not held back


async def test_follow_reads_changes_published_by_any_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tasks.db'}"
    engine = make_engine(url)
    upgrade_all(engine)
    heard: list[tuple[str, TaskEvent]] = []
    change = TaskEvent(task_id=3, status="deleted")
    with anyio.fail_after(20):  # a deadline for a broken feed, not a speed measure
        async with anyio.create_task_group() as group:

            async def hear() -> None:
                async for item in events.follow(engine, url, poll_seconds=0.01):
                    heard.append(item)
                    group.cancel_scope.cancel()

            group.start_soon(hear)
            # follow() starts after what is already stored: publish (as another process
            # would, through its own engine) until it hears one.
            other = make_engine(url)
            while not heard:
                with Session(other) as session:
                    events.publish(session, user_id="ann", events=[change])
                await anyio.sleep(0.05)
    assert heard == [("ann", change)]


def task(task_id: int) -> dict[str, object]:
    return {"id": task_id, "title": f"t{task_id}"}


def test_writes_link_each_task_they_left_in_place() -> None:
    change = {"task_id": 1, "status": "completed", "task": task(1), "next_task": task(2)}
    assert [link.uri for link in links_of(change)] == ["task://1", "task://2"]
    deleted = {"task_id": 1, "status": "deleted", "task": task(1), "next_task": None}
    assert links_of(deleted) == []
    batch = {"results": [{"ok": True, "status": "created", "task": task(3)},
                         {"ok": False, "error": "no", "code": "not_found"}]}
    [link] = links_of(batch)
    assert (link.uri, link.title, link.mime_type) == ("task://3", "t3", "application/json")
    assert links_of({"tasks": [task(4)], "next_cursor": None}) == []


def test_the_app_page_runs_only_its_own_inline_script_and_style() -> None:
    page = app_html()
    [csp] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    [script] = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert csp.startswith("default-src 'none';")
    assert "unsafe-inline" not in csp
    assert not re.search(r"\b(src|href)=", page.replace('htmlFor', ''))  # loads nothing


def test_old_events_are_pruned_with_a_write_at_most_once_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'tasks.db'}")
    upgrade_all(engine)
    table = events.TaskEventRow.__table__  # type: ignore[attr-defined]
    old = datetime.now(UTC) - events.KEEP_EVENTS - timedelta(seconds=1)
    with Session(engine) as session:
        session.execute(insert(table).values(user_id="ann", task_id=1, status="created",
                                             created_at=old))  # fmt: skip
        session.commit()

    def publish_and_count() -> int:
        with Session(engine) as session:
            events.publish(session, user_id="ann", events=[TaskEvent(task_id=2, status="updated")])
            return len(session.execute(select(table.c.id)).all())

    monkeypatch.setattr(events._Pruning, "at", 0.0)  # as in a process that has not pruned yet
    assert publish_and_count() == 1  # the old event went, the new one stays
    with Session(engine) as session:
        session.execute(insert(table).values(user_id="ann", task_id=1, status="created",
                                             created_at=old))  # fmt: skip
        session.commit()
    assert publish_and_count() == 3  # pruned a moment ago: not again within the minute
