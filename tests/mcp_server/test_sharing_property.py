"""Shared lists, property-based: three users share, unshare, change roles, write and read at
random through the tool bodies (each write applied and committed as its tool applies it),
on SQLite and PostgreSQL. Every answer is checked against a small reference model of who
may see and change what, and after every step each user's view (their tasks and lists)
must equal the model's.

`SHARING_EXAMPLES` (default 10 examples of 40 steps) runs it longer:
`SHARING_EXAMPLES=100 python -m pytest tests/mcp_server/test_sharing_property.py`.
"""

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import calls, lists, tasks
from mcp_server.access import Forbidden
from mcp_server.lists import ListNotFound, NotAMember
from mcp_server.task_rules import InvalidTaskInput, TaskError, TaskNotFound
from shared.db import make_engine
from shared.migrate import upgrade_all

USERS = 3
EXAMPLES = int(os.environ.get("SHARING_EXAMPLES", "10"))
STEPS = 40
ROLES = ("editor", "viewer")


@dataclass
class Model:
    """Who owns which list, who it is shared with, and the tasks in each list."""

    owner: dict[int, str] = field(default_factory=dict)  # list id -> owner
    members: dict[int, dict[str, str]] = field(default_factory=dict)  # list id -> user -> role
    tasks: dict[int, tuple[int, str, bool]] = field(default_factory=dict)  # id -> list, title, done

    def role(self, user: str, list_id: int) -> str | None:
        if self.owner[list_id] == user:
            return "owner"
        return self.members[list_id].get(user)

    def visible(self, user: str) -> dict[int, tuple[str, bool]]:
        return {i: (title, done) for i, (list_id, title, done) in self.tasks.items()
                if self.role(user, list_id) is not None}  # fmt: skip

    def lists_of(self, user: str) -> dict[int, str]:
        return {i: role for i in self.owner if (role := self.role(user, i)) is not None}


class Sharing(RuleBasedStateMachine):
    engine: ClassVar[Engine]

    def __init__(self) -> None:
        super().__init__()
        run = uuid.uuid4().hex[:8]
        self.users = [f"{name}-{run}" for name in ("ann", "bob", "cat")[:USERS]]
        self.model = Model()
        self.session = Session(self.engine)
        self.count = 0
        self.steps = 0
        for user in self.users:  # each user's own list, holding one task
            task = self.write(tasks.add_task, user, data=tasks.NewTask(title=self.title(),
                                                                       list="chores"))  # fmt: skip
            self.model.owner[task["task"]["list_id"]] = user
            self.model.members[task["task"]["list_id"]] = {}
            self.model.tasks[task["task_id"]] = (task["task"]["list_id"], task["task"]["title"],
                                                 False)  # fmt: skip

    def teardown(self) -> None:
        self.session.close()
        Sharing.total_steps += self.steps

    total_steps: ClassVar[int] = 0

    def title(self) -> str:
        self.count += 1
        return f"task {self.count}"

    def write(self, fn: Callable[..., Any], user: str, **kwargs: Any) -> Any:
        self.steps += 1
        return calls.apply(self.session, fn, user_id=user, call_id=None, **kwargs)

    def refused(self, error: type[TaskError], fn: Callable[..., Any], user: str, **kw: Any) -> None:
        with pytest.raises(error):
            self.write(fn, user, **kw)

    def list_id(self, index: int) -> int:
        return sorted(self.model.owner)[index % len(self.model.owner)]

    def task_id(self, index: int, deleted: int) -> int:
        ids = sorted(self.model.tasks)
        # Now and then an id that was deleted, or never was: "not found" for everyone.
        return ids[index % len(ids)] if ids and deleted else 10**9 + index

    # -- sharing -------------------------------------------------------------------------

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20),
          member=st.integers(0, USERS - 1), role=st.sampled_from(ROLES))  # fmt: skip
    def share(self, actor: int, which: int, member: int, role: str) -> None:
        me, them, list_id = self.users[actor], self.users[member], self.list_id(which)
        kwargs = {"name": list_id, "member": them, "role": role}
        mine = self.model.role(me, list_id)
        if mine is None:
            self.refused(ListNotFound, lists.share_list, me, **kwargs)
        elif mine != "owner":
            self.refused(Forbidden, lists.share_list, me, **kwargs)
        elif them == me:
            self.refused(InvalidTaskInput, lists.share_list, me, **kwargs)
        else:
            result = self.write(lists.share_list, me, **kwargs)
            self.model.members[list_id][them] = role
            assert {m["user_id"]: m["role"] for m in result["members"]} == {
                me: "owner", **self.model.members[list_id]
            }  # fmt: skip

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20),
          member=st.integers(0, USERS - 1))  # fmt: skip
    def unshare(self, actor: int, which: int, member: int) -> None:
        me, them, list_id = self.users[actor], self.users[member], self.list_id(which)
        kwargs = {"name": list_id, "member": them}
        mine = self.model.role(me, list_id)
        if mine is None:
            self.refused(ListNotFound, lists.unshare_list, me, **kwargs)
        elif mine != "owner" and them != me:
            self.refused(Forbidden, lists.unshare_list, me, **kwargs)
        elif them not in self.model.members[list_id]:
            self.refused(NotAMember, lists.unshare_list, me, **kwargs)
        else:
            self.write(lists.unshare_list, me, **kwargs)
            del self.model.members[list_id][them]

    # The same steps by the one they are meant for, so shared states come often.

    @rule(which=st.integers(0, 20), member=st.integers(0, USERS - 1),
          role=st.sampled_from(ROLES))  # fmt: skip
    def owner_shares(self, which: int, member: int, role: str) -> None:
        owner = self.users.index(self.model.owner[self.list_id(which)])
        self.share(owner, which, member, role)

    @rule(which=st.integers(0, 20), member=st.integers(0, USERS - 1), leaves=st.booleans())
    def owner_removes_or_member_leaves(self, which: int, member: int, leaves: bool) -> None:
        owner = self.users.index(self.model.owner[self.list_id(which)])
        self.unshare(member if leaves else owner, which, member)

    # -- tasks ---------------------------------------------------------------------------

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20))
    def add(self, actor: int, which: int) -> None:
        me, list_id = self.users[actor], self.list_id(which)
        data = tasks.NewTask(title=self.title(), list=list_id)
        role = self.model.role(me, list_id)
        if role is None:
            self.refused(ListNotFound, tasks.add_task, me, data=data)
        elif role == "viewer":
            self.refused(Forbidden, tasks.add_task, me, data=data)
        else:
            task = self.write(tasks.add_task, me, data=data)["task"]
            assert (task["owner"], task["changed_by"]) == (self.model.owner[list_id], me)
            self.model.tasks[task["id"]] = (list_id, task["title"], False)

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 50),
          known=st.integers(0, 9), action=st.sampled_from(["complete", "reopen", "rename",
                                                           "delete", "get"]))  # fmt: skip
    def act(self, actor: int, which: int, known: int, action: str) -> None:
        me, task_id = self.users[actor], self.task_id(which, known)
        found = self.model.tasks.get(task_id)
        role = None if found is None else self.model.role(me, found[0])
        writes: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
            "complete": (tasks.set_completed, {"task_id": task_id, "completed": True}),
            "reopen": (tasks.set_completed, {"task_id": task_id, "completed": False}),
            "rename": (tasks.update_task,
                       {"task_id": task_id, "changes": {"title": f"renamed {self.count}"}}),
            "delete": (tasks.delete_task, {"task_id": task_id}),
        }  # fmt: skip
        if action == "get":
            if role is None:
                with pytest.raises(TaskNotFound):
                    tasks.get_task(self.session, user_id=me, task_id=task_id)
            else:
                got = tasks.get_task(self.session, user_id=me, task_id=task_id)
                assert found is not None and (got["title"], got["completed"]) == found[1:]
            self.session.rollback()
            return
        fn, kwargs = writes[action]
        if role is None:
            self.refused(TaskNotFound, fn, me, **kwargs)
        elif role == "viewer":
            self.refused(Forbidden, fn, me, **kwargs)
        else:
            assert found is not None
            change = self.write(fn, me, **kwargs)
            if action == "delete":
                del self.model.tasks[task_id]
                return
            task = change["task"]
            if action == "rename" or found[2] != (action == "complete"):
                assert task["changed_by"] == me  # completing a done task changes nothing
            self.model.tasks[task_id] = (found[0], task["title"], task["completed"])

    # -- after every step ----------------------------------------------------------------

    @invariant()
    def everyone_sees_exactly_what_the_model_says(self) -> None:
        for user in self.users:
            page = tasks.list_tasks(self.session, user_id=user,
                                    query=tasks.TaskQuery(limit=200, subtasks="all"))  # fmt: skip
            assert {t["id"]: (t["title"], t["completed"]) for t in page["tasks"]} == (
                self.model.visible(user)
            ), user
            shown = lists.list_lists(self.session, user_id=user)["lists"]
            roles = {item["list_id"]: item["role"] for item in shown if not item["inbox"]}
            assert roles == self.model.lists_of(user), user
            self.session.rollback()


@pytest.fixture
def engine(database_url: str) -> Any:
    engine = make_engine(database_url)
    upgrade_all(engine)
    yield engine
    engine.dispose()


def test_every_users_view_equals_the_models_after_every_step(engine: Engine) -> None:
    machine = type("BoundSharing", (Sharing,), {"engine": engine})
    Sharing.total_steps = 0
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )  # fmt: skip
    print(f"sharing property: {Sharing.total_steps} writes checked")
    assert Sharing.total_steps > EXAMPLES  # the machine really ran
