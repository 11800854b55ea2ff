"""Shared lists through the tool bodies (mcp_server/lists.py, tasks.py, listing.py): who sees
and changes what, the refusals, assignment, who changed a task, and the live events."""

from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import calls, lists, tasks
from mcp_server.access import Forbidden
from mcp_server.lists import ListNotFound, NotAMember
from mcp_server.server import build_server
from mcp_server.task_rules import InvalidTaskInput, TaskError, TaskNotFound
from shared.events import TaskEventRow
from shared.settings import Settings
from tests.mcp_server.conftest import NOW, in_own_task

_events: Any = TaskEventRow.__table__  # type: ignore[attr-defined]


def write(session: Session, fn: Callable[..., Any], user_id: str, **kwargs: Any) -> Any:
    """A write as a tool makes it: applied and committed by calls.apply."""
    return calls.apply(session, fn, user_id=user_id, call_id=None, **kwargs)


def add(session: Session, user_id: str, title: str, **fields: Any) -> tasks.TaskDict:
    data = tasks.NewTask(title=title, **fields)
    return write(session, tasks.add_task, user_id, data=data, now=NOW)["task"]  # type: ignore[no-any-return]


def share(session: Session, owner: str, name: Any, member: str, role: str = "editor") -> Any:
    return write(session, lists.share_list, owner, name=name, member=member, role=role, now=NOW)


def seen(session: Session, user_id: str, **query: Any) -> list[str]:
    page = tasks.list_tasks(
        session, user_id=user_id, query=tasks.TaskQuery(limit=200, subtasks="all", **query)
    )
    return sorted(task["title"] for task in page["tasks"])


def heard(session: Session, after: int = 0) -> set[tuple[str, int, str]]:
    rows = session.execute(select(_events).where(_events.c.id > after)).all()
    return {(row.user_id, row.task_id, row.status) for row in rows}


def last_event(session: Session) -> int:
    return max((row.id for row in session.execute(select(_events.c.id))), default=0)


@pytest.fixture
def groceries(session: Session) -> int:
    """ann's groceries list, holding milk, shared with bob as editor and cat as viewer."""
    milk = add(session, "ann", "milk", list="groceries")
    share(session, "ann", "groceries", "bob", "editor")
    share(session, "ann", "groceries", "cat", "viewer")
    return milk["list_id"]


def test_members_see_a_shared_lists_tasks_with_its_owner_and_nobody_else_does(
    session: Session, groceries: int
) -> None:
    add(session, "ann", "ann's own")
    add(session, "dan", "dan's own")
    assert seen(session, "bob") == ["milk"]
    assert seen(session, "cat") == ["milk"]
    assert seen(session, "dan") == ["dan's own"]
    assert seen(session, "ann") == ["ann's own", "milk"]
    task = tasks.list_tasks(session, user_id="bob")["tasks"][0]
    assert (task["list"], task["list_id"], task["owner"], task["assignee"]) == (
        "groceries", groceries, "ann", None
    )
    with pytest.raises(TaskNotFound):
        tasks.get_task(session, user_id="dan", task_id=task["id"])
    with pytest.raises(ListNotFound):
        tasks.list_tasks(session, user_id="dan", query=tasks.TaskQuery(list=groceries))


def test_list_lists_shows_shared_lists_after_ones_own_with_owner_and_role(
    session: Session, groceries: int
) -> None:
    add(session, "bob", "bob's", list="groceries")  # bob's own list of the same name
    shown = [
        (item["name"], item["owner"], item["role"], item["shared"], item["open"])
        for item in lists.list_lists(session, user_id="bob", now=NOW)["lists"]
    ]
    assert shown == [
        ("groceries", "bob", "owner", False, 1),
        ("Inbox", "bob", "owner", False, 0),  # made by this first list_lists
        ("groceries", "ann", "editor", True, 1),
    ]
    ann = {item["name"]: item for item in lists.list_lists(session, user_id="ann")["lists"]}
    assert (ann["groceries"]["role"], ann["groceries"]["shared"]) == ("owner", True)
    # A name is always one's own list; a shared one is named by its id.
    assert seen(session, "bob", list="groceries") == ["bob's"]
    assert seen(session, "bob", list=groceries) == ["milk"]
    assert seen(session, "bob", list=str(groceries)) == ["milk"]  # as a string-only client
    with pytest.raises(ListNotFound):
        seen(session, "cat", list="groceries")


def test_an_editor_adds_changes_completes_and_deletes_and_each_change_says_who(
    session: Session, groceries: int
) -> None:
    eggs = add(session, "bob", "eggs", list=groceries)
    assert (eggs["owner"], eggs["changed_by"], eggs["list"]) == ("ann", "bob", "groceries")
    done = write(session, tasks.set_completed, "bob", task_id=eggs["id"], now=NOW)["task"]
    assert (done["completed"], done["changed_by"]) == (True, "bob")
    renamed = write(session, tasks.update_task, "ann", task_id=eggs["id"],
                    changes={"title": "6 eggs"}, now=NOW)["task"]  # fmt: skip
    assert renamed["changed_by"] == "ann"
    write(session, tasks.delete_task, "bob", task_id=eggs["id"])
    assert seen(session, "ann") == ["milk"]


def test_a_viewers_writes_are_refused_clearly_and_change_nothing(
    session: Session, groceries: int
) -> None:
    milk = tasks.list_tasks(session, user_id="cat")["tasks"][0]
    attempts: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (tasks.update_task, {"task_id": milk["id"], "changes": {"title": "oat milk"}}),
        (tasks.set_completed, {"task_id": milk["id"]}),
        (tasks.delete_task, {"task_id": milk["id"]}),
        (tasks.add_task, {"data": tasks.NewTask(title="x", list=groceries)}),
        (tasks.add_task, {"data": tasks.NewTask(title="x", parent_id=milk["id"])}),
    ]
    for fn, kwargs in attempts:
        with pytest.raises(Forbidden, match="shared with you as a viewer.*nothing was changed"):
            write(session, fn, "cat", **kwargs)
    assert tasks.get_task(session, user_id="ann", task_id=milk["id"]) == {
        **milk, "subtasks": []
    }  # fmt: skip


def test_only_the_owner_shares_renames_or_deletes_a_list(session: Session, groceries: int) -> None:
    owner_only: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (lists.share_list, {"member": "dan", "role": "viewer"}),
        (lists.rename_list, {"new_name": "food"}),
        (lists.delete_list, {"delete_tasks": True}),
    ]
    for fn, kwargs in owner_only:
        with pytest.raises(Forbidden, match=r"only the owner of list 'groceries' \(ann\)"):
            write(session, fn, "bob", name=groceries, **kwargs)
    with pytest.raises(Forbidden, match="only the owner"):
        write(session, lists.unshare_list, "bob", name=groceries, member="cat")
    # Someone it is not shared with learns nothing about it.
    with pytest.raises(ListNotFound):
        write(session, lists.rename_list, "dan", name=groceries, new_name="mine")
    members = lists.list_members(session, user_id="cat", name=groceries)["members"]
    assert members == [
        {"user_id": "ann", "role": "owner"},
        {"user_id": "bob", "role": "editor"},
        {"user_id": "cat", "role": "viewer"},
    ]


def test_sharing_again_changes_the_role_and_bad_shares_are_refused(
    session: Session, groceries: int
) -> None:
    share(session, "ann", groceries, "cat", "editor")
    add(session, "cat", "bread", list=groceries)
    for member, role, problem in [
        ("ann", "editor", "you own this list already"),
        ("dan", "owner", "role must be editor or viewer"),
        ("", "viewer", "user_id: user id must be a non-empty string"),
    ]:
        with pytest.raises(InvalidTaskInput, match=problem):
            share(session, "ann", groceries, member, role)
    with pytest.raises(InvalidTaskInput, match="the Inbox.* cannot be shared"):
        share(session, "ann", "Inbox", "bob")


def test_a_removed_member_loses_access_at_once_and_their_tasks_are_unassigned(
    session: Session, groceries: int
) -> None:
    milk = tasks.list_tasks(session, user_id="ann")["tasks"][0]
    write(session, tasks.update_task, "ann", task_id=milk["id"], changes={"assignee": "bob"},
          now=NOW)  # fmt: skip
    result = write(session, lists.unshare_list, "ann", name="groceries", member="bob")
    assert [m["user_id"] for m in result["members"]] == ["ann", "cat"]
    assert seen(session, "bob") == []
    with pytest.raises(TaskNotFound):
        write(session, tasks.set_completed, "bob", task_id=milk["id"])
    assert tasks.get_task(session, user_id="ann", task_id=milk["id"])["assignee"] is None
    with pytest.raises(NotAMember):
        write(session, lists.unshare_list, "ann", name="groceries", member="bob")


def test_a_member_leaves_with_their_own_id(session: Session, groceries: int) -> None:
    left = write(session, lists.unshare_list, "cat", name=groceries, member="cat")
    assert (left["status"], left["members"]) == ("left", [])
    assert seen(session, "cat") == []
    assert [m["user_id"] for m in lists.list_members(session, user_id="ann",
                                                     name="groceries")["members"]] == [
        "ann", "bob"]  # fmt: skip


def test_assignment_is_to_the_owner_or_a_member_and_list_tasks_filters_by_it(
    session: Session, groceries: int
) -> None:
    milk = tasks.list_tasks(session, user_id="ann")["tasks"][0]
    bread = add(session, "bob", "bread", list=groceries)
    assign = {"task_id": bread["id"], "changes": {"assignee": "cat"}, "now": NOW}
    assert write(session, tasks.update_task, "bob", **assign)["task"]["assignee"] == "cat"
    with pytest.raises(InvalidTaskInput, match="dan cannot see this task's list"):
        write(session, tasks.update_task, "ann", task_id=milk["id"],
              changes={"assignee": "dan"}, now=NOW)  # fmt: skip
    assert seen(session, "cat", assignee="me") == ["bread"]
    assert seen(session, "ann", assignee="cat") == ["bread"]
    assert seen(session, "ann", assignee="me") == []
    cleared = write(session, tasks.update_task, "bob", task_id=bread["id"],
                    changes={"assignee": ""}, now=NOW)  # fmt: skip
    assert cleared["task"]["assignee"] is None


def test_a_task_moved_into_a_shared_list_becomes_its_owners_and_out_of_it_the_movers(
    session: Session, groceries: int
) -> None:
    mine = add(session, "bob", "bob's jam", reminders=[{"at": "2025-03-12T09:00:00Z"}])
    moved = write(session, tasks.update_task, "bob", task_id=mine["id"],
                  changes={"list": groceries}, now=NOW)["task"]  # fmt: skip
    assert (moved["owner"], moved["list"]) == ("ann", "groceries")
    assert "bob's jam" in seen(session, "cat")
    back = write(session, tasks.update_task, "bob", task_id=mine["id"],
                 changes={"list": "pantry"}, now=NOW)["task"]  # fmt: skip
    assert (back["owner"], back["list"]) == ("bob", "pantry")
    assert "bob's jam" not in seen(session, "ann")


def test_a_name_is_always_ones_own_list_and_a_shared_one_is_named_by_id(
    session: Session, groceries: int
) -> None:
    mine = add(session, "bob", "bob's milk", list="groceries")
    assert (mine["owner"], mine["list"]) == ("bob", "groceries")
    assert mine["list_id"] != groceries
    for missing in (99_999, "99999", 0, -1, 2**40):
        with pytest.raises(ListNotFound):
            seen(session, "bob", list=missing)
    with pytest.raises(ListNotFound):  # dan's list ids tell him nothing
        seen(session, "dan", list=groceries)


def test_every_member_hears_each_change_and_a_removed_member_stops_hearing(
    session: Session, groceries: int
) -> None:
    mark = last_event(session)
    eggs = add(session, "bob", "eggs", list=groceries)
    assert heard(session, mark) == {
        (user, eggs["id"], "created") for user in ("ann", "bob", "cat")
    }
    write(session, lists.unshare_list, "ann", name=groceries, member="cat")
    mark = last_event(session)
    write(session, tasks.set_completed, "ann", task_id=eggs["id"])
    assert heard(session, mark) == {("ann", eggs["id"], "completed"), ("bob", eggs["id"],
                                                                     "completed")}  # fmt: skip


def test_subtasks_completed_or_deleted_with_their_parent_are_heard_too(session: Session) -> None:
    parent = add(session, "ann", "move")
    subs = [add(session, "ann", name, parent_id=parent["id"]) for name in ("van", "boxes")]
    mark = last_event(session)
    write(session, tasks.set_completed, "ann", task_id=parent["id"], subtasks="complete")
    assert heard(session, mark) == {("ann", t["id"], "completed") for t in [parent, *subs]}
    mark = last_event(session)
    write(session, tasks.delete_task, "ann", task_id=parent["id"], subtasks="delete")
    assert heard(session, mark) == {("ann", t["id"], "deleted") for t in [parent, *subs]}


def test_a_deleted_lists_tasks_are_heard_by_everyone_who_saw_them(
    session: Session, groceries: int
) -> None:
    eggs = add(session, "bob", "eggs", list=groceries)
    page = tasks.list_tasks(session, user_id="ann")["tasks"]
    milk = next(t for t in page if t["title"] == "milk")
    mark = last_event(session)
    write(session, lists.delete_list, "ann", name=groceries, move_tasks_to="archive", now=NOW)
    assert heard(session, mark) == {
        (user, task["id"], "updated") for user in ("ann", "bob", "cat") for task in (milk, eggs)
    }
    assert seen(session, "bob") == [] and seen(session, "ann") == ["eggs", "milk"]
    add(session, "ann", "bin", list="chores")
    share(session, "ann", "chores", "bob")
    bin_id = tasks.list_tasks(session, user_id="bob")["tasks"][0]["id"]
    mark = last_event(session)
    write(session, lists.delete_list, "ann", name="chores", delete_tasks=True)
    assert heard(session, mark) == {("ann", bin_id, "deleted"), ("bob", bin_id, "deleted")}


def test_a_refused_write_publishes_nothing(session: Session, groceries: int) -> None:
    milk = tasks.list_tasks(session, user_id="ann")["tasks"][0]
    mark = last_event(session)
    with pytest.raises(TaskError):
        write(session, tasks.update_task, "cat", task_id=milk["id"], changes={"title": "x"})
    assert heard(session, mark) == set()


# --- through the MCP tools ------------------------------------------------------------------


@pytest.fixture
async def local_client(engine: Engine) -> Any:
    """An in-process client of a local-mode server (one user, "local")."""
    server = build_server(Settings(_env_file=None, jwt_secret=None), engine)
    async with in_own_task(Client(server)) as client:
        yield client


async def test_local_mode_refuses_sharing_and_says_why(local_client: Client) -> None:
    await local_client.call_tool("add_task", {"title": "milk", "list": "groceries"})
    result = await local_client.call_tool(
        "share_list", {"list": "groceries", "user_id": "sam", "role": "editor"}
    )
    assert result.is_error and result.meta is not None
    body = result.meta["taskchat/error"]
    assert body["code"] == "forbidden" and "local mode" in body["message"]
    members = await local_client.call_tool("list_members", {"list": "groceries"})
    assert members.structured_content is not None
    assert members.structured_content["members"] == [{"user_id": "local", "role": "owner"}]


async def test_a_tool_argument_naming_another_user_is_refused(local_client: Client) -> None:
    for tool, arguments in [
        ("add_task", {"title": "as sam", "user_id": "sam"}),
        ("list_tasks", {"user_id": "sam"}),
        ("list_lists", {"owner": "sam"}),
    ]:
        result = await local_client.call_tool(tool, arguments)
        assert result.is_error, tool
        assert "Extra inputs are not permitted" in result.content[0].text  # type: ignore[union-attr]
    page = await local_client.call_tool("list_tasks", {})
    assert page.structured_content == {"tasks": [], "next_cursor": None}
