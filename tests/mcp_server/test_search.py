"""list_tasks(search=...) through the trigram index, on SQLite and PostgreSQL: substrings as
before, the index kept current, users kept apart, FTS syntax read as text, typos on
PostgreSQL."""

from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import lists, search, tasks, trash
from mcp_server.server import build_server
from mcp_server.tasks import TaskQuery
from shared.db import make_engine
from shared.migrate import upgrade_all
from shared.settings import Settings
from tests.mcp_server.conftest import NOW, add, in_own_task

# Each one is FTS5 query syntax (or breaks it) when not quoted.
SYNTAX = ['"', 'a"b', "AND", "milk OR bread", "NEAR(milk bread)", "mil*", "^milk", "-milk",
          "title:milk", "(milk", "'", "\\", "{title}: x", "+", "%", "_", "''''"]  # fmt: skip


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    """A migrated database, once SQLite (a file) and once PostgreSQL."""
    engine = make_engine(database_url)
    upgrade_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db, expire_on_commit=False) as session:
        yield session


def found(session: Session, term: str, user_id: str = "ann", **query: Any) -> list[str]:
    """Titles of the first page of `user_id`'s search for `term`."""
    page = tasks.list_tasks(
        session, user_id=user_id, query=TaskQuery(search=term, **query), now=NOW
    )
    return [task["title"] for task in page["tasks"]]


def every_page(session: Session, term: str, **query: Any) -> list[str]:
    """Titles of every page of ann's search, following next_cursor with `limit` 1."""
    seen: list[str] = []
    cursor = None
    while True:
        page = tasks.list_tasks(
            session,
            user_id="ann",
            query=TaskQuery(search=term, limit=1, cursor=cursor, **query),
            now=NOW,
        )
        seen += [task["title"] for task in page["tasks"]]
        if (cursor := page["next_cursor"]) is None:
            return seen


def test_a_search_finds_the_substring_in_title_or_description_in_any_case(session: Session) -> None:
    add(session, title="Buy MILK")
    add(session, title="call mum", description="about the milkman")
    add(session, title="water plants")
    add(session, title="100% done_ish")
    assert found(session, "milk") == ["Buy MILK", "call mum"]
    assert found(session, " MilkMan ") == ["call mum"]
    assert found(session, "uy mi") == ["Buy MILK"]  # across words, inside them
    assert found(session, "lk") == ["Buy MILK", "call mum"]  # shorter than a trigram
    assert found(session, "% d") == ["100% done_ish"]
    assert found(session, "e_i") == ["100% done_ish"]
    assert found(session, "e_x") == []
    assert found(session, "yoghurt") == []


def test_fts_syntax_in_a_search_is_matched_as_text_never_an_error(session: Session) -> None:
    odd = "say \"hi\" AND (then) NEAR(x) ^a -b c* title:d {e}: 50%_ \\ 'q'"
    add(session, title="milk bread")
    add(session, title="milk OR bread? mil*")
    add(session, title=odd)
    for term in SYNTAX:
        found(session, term)  # no exception, whatever it finds
    assert found(session, "milk OR bread") == ["milk OR bread? mil*"]
    assert found(session, "mil*") == ["milk OR bread? mil*"]
    assert found(session, '"hi" AND') == [odd]
    assert found(session, "NEAR(x) ^a -b c* title:d {e}: 50%_ \\ 'q'") == [odd]


async def test_a_search_with_fts_syntax_through_the_mcp_tool_is_no_error(db: Engine) -> None:
    server = build_server(Settings(_env_file=None, jwt_secret=None), db)
    async with in_own_task(Client(server)) as client:
        await client.call_tool("add_task", {"title": 'a "quoted" NEAR(task)'})
        for term in SYNTAX:
            result = await client.call_tool("list_tasks", {"search": term})
            assert not result.is_error, (term, result.content)
        result = await client.call_tool("list_tasks", {"search": '"quoted" NEAR('})
        assert [t["title"] for t in result.structured_content["tasks"]] == ['a "quoted" NEAR(task)']


def test_the_index_follows_every_change_of_title_and_description(session: Session) -> None:
    task = add(session, title="paint the fence")
    assert found(session, "fence") == ["paint the fence"]
    tasks.update_task(session, user_id="ann", task_id=task["id"], changes={"title": "mow"})
    assert found(session, "fence") == []
    assert found(session, "mow") == ["mow"]
    changes = {"description": "the back lawn"}
    tasks.update_task(session, user_id="ann", task_id=task["id"], changes=changes)
    assert found(session, "back lawn") == ["mow"]
    tasks.set_completed(session, user_id="ann", task_id=task["id"])
    assert found(session, "back lawn") == ["mow"]
    tasks.update_task(session, user_id="ann", task_id=task["id"], changes={"description": ""})
    assert found(session, "back lawn") == []
    tasks.delete_task(session, user_id="ann", task_id=task["id"])
    assert found(session, "mow") == []
    trash.restore_task(session, user_id="ann", task_id=task["id"])
    assert found(session, "mow") == ["mow"]


def test_a_search_sees_the_callers_tasks_and_shared_lists_only(session: Session) -> None:
    add(session, title="ann's plumber")
    add(session, user_id="bob", title="bob's plumber", list="house")
    add(session, user_id="bob", title="bob's other plumber")
    add(session, user_id="cat", title="cat's plumber", list="house")
    assert found(session, "plumber") == ["ann's plumber"]
    assert found(session, "bob's") == []
    lists.share_list(session, user_id="bob", name="house", member="ann", role="viewer", now=NOW)
    assert found(session, "plumber") == ["ann's plumber", "bob's plumber"]
    assert found(session, "plumber", user_id="bob") == ["bob's plumber", "bob's other plumber"]
    assert found(session, "plumber", user_id="dan") == []


def test_a_search_keeps_every_filter_sort_and_page(session: Session) -> None:
    for n in range(6):
        add(session, title=f"errand {n}", priority=["low", "high"][n % 2])
    add(session, title="chore")
    for sort in ("created", "due", "priority", "title"):
        for order in ("asc", "desc"):
            first = found(session, "errand", sort=sort, order=order)
            assert every_page(session, "errand", sort=sort, order=order) == first
            assert len(first) == 6
    assert found(session, "errand", priority="high") == ["errand 1", "errand 3", "errand 5"]


def test_a_term_many_tasks_hold_is_found_by_scanning_with_the_same_answer(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(4):
        add(session, title=f"errand {n}")
    add(session, title="chore")
    indexed = every_page(session, "rand")
    monkeypatch.setattr(search, "MAX_HITS", 2)
    assert every_page(session, "rand") == indexed == [f"errand {n}" for n in range(4)]


def test_a_typo_finds_words_like_it_on_postgresql_only_when_nothing_holds_it(
    session: Session,
) -> None:
    add(session, title="call the plumber")
    add(session, title="fix it", description="kitchen sink")
    add(session, title="the plumber's bill")
    add(session, title="paint")
    add(session, user_id="bob", title="bob's plumber")
    postgres = session.connection().dialect.name == "postgresql"
    plumbers = ["call the plumber", "the plumber's bill"]
    assert found(session, "plumbr") == (plumbers if postgres else [])
    assert every_page(session, "plumbr") == (plumbers if postgres else [])
    assert found(session, "kitchen snk") == (["fix it"] if postgres else [])
    assert found(session, "plumbr", user_id="carl") == []
    # Once a task holds the term itself, only what holds it is found.
    add(session, title="ring the plumbr (sic)")
    assert every_page(session, "plumbr") == ["ring the plumbr (sic)"]


def test_a_page_past_the_last_match_stays_empty_instead_of_guessing(session: Session) -> None:
    add(session, title="errand one")
    last = add(session, title="errand two")
    add(session, title="errrand three")  # like "errand" on PostgreSQL; does not hold it
    page = tasks.list_tasks(session, user_id="ann", query=TaskQuery(search="errand", limit=1))
    assert [task["title"] for task in page["tasks"]] == ["errand one"]
    tasks.delete_task(session, user_id="ann", task_id=last["id"])
    query = TaskQuery(search="errand", limit=1, cursor=page["next_cursor"])
    assert tasks.list_tasks(session, user_id="ann", query=query) == {
        "tasks": [],
        "next_cursor": None,
    }
