"""Shared lists' isolation as one hypothesis state machine, whatever carries the calls.

Three users share, unshare, change roles, write and read at random. Every answer (a result,
or a refusal's code) is checked against a small reference model of who may see and change
what, and after every step each user's view (their tasks and their lists' roles) must equal
the model's. A `Transport` carries the task tools' calls, named and shaped as the MCP tools
are: the tool bodies in process, the MCP server over HTTP, or the chat server's page API;
the rules and the model are written once, here.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from shared.contract import ErrorCode

USERS = 3
ROLES = ("editor", "viewer")
NAMES = ("ann", "bob", "cat")
LIST_NAME = "chores"  # each user's own list has this name


class Refused(Exception):
    """A call the server refused in its own words, with the refusal's code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class Transport(Protocol):
    """Calls task tools as a user, as the MCP tools name them and take their arguments."""

    def call(self, user: str, tool: str, args: dict[str, Any]) -> Any:
        """The tool's result, or raise Refused."""

    def close(self) -> None:
        """Let go of connections."""


@dataclass
class Tally:
    """What a run did: rules run (steps) and tool calls made (answers checked)."""

    steps: int = 0
    calls: int = 0


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

    def lists_of(self, user: str) -> dict[int, tuple[str, str, bool]]:
        """Each list `user` sees: their role, its owner, whether it is shared."""
        return {i: (role, self.owner[i], bool(self.members[i])) for i in self.owner
                if (role := self.role(user, i)) is not None}  # fmt: skip

    def everyone(self, list_id: int) -> dict[str, str]:
        return {self.owner[list_id]: "owner", **self.members[list_id]}

    def own_list(self, user: str) -> int:
        return next(i for i, owner in self.owner.items() if owner == user)


def members_of(result: Any) -> dict[str, str]:
    return {m["user_id"]: m["role"] for m in result["members"]}


class SharingMachine(RuleBasedStateMachine):
    """The rules; a subclass binds `connect` (users -> Transport) and `tally`."""

    connect: ClassVar[Callable[[list[str]], Transport]]
    tally: ClassVar[Tally]

    def __init__(self) -> None:
        super().__init__()
        run = uuid.uuid4().hex[:8]  # fresh users each run: the runs share one database
        self.users = [f"{name}-{run}" for name in NAMES[:USERS]]
        self.model = Model()
        self.count = 0
        self.transport = type(self).connect(self.users)
        for user in self.users:  # each user's own list, holding one task
            task = self.ok(user, "add_task", title=self.title(), list=LIST_NAME)["task"]
            self.model.owner[task["list_id"]] = user
            self.model.members[task["list_id"]] = {}
            self.model.tasks[task["id"]] = (task["list_id"], task["title"], False)

    def teardown(self) -> None:
        self.transport.close()

    # -- calls -------------------------------------------------------------------------

    def ok(self, user: str, tool: str, **args: Any) -> Any:
        self.tally.calls += 1
        return self.transport.call(user, tool, args)

    def refused(self, code: ErrorCode, user: str, tool: str, **args: Any) -> None:
        self.tally.calls += 1
        try:
            result = self.transport.call(user, tool, args)
        except Refused as refusal:
            assert refusal.code == code, (tool, args, str(refusal))
        else:
            raise AssertionError(f"{tool} {args} by {user} was not refused: {result}")

    def title(self) -> str:
        self.count += 1
        return f"task {self.count}"

    def list_id(self, index: int) -> int:
        return sorted(self.model.owner)[index % len(self.model.owner)]

    def task_id(self, index: int, deleted: int) -> int:
        ids = sorted(self.model.tasks)
        # Now and then an id that was deleted, or never was: "not found" for everyone.
        return ids[index % len(ids)] if ids and deleted else 10**9 + index

    # -- sharing -----------------------------------------------------------------------

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20),
          member=st.integers(0, USERS - 1), role=st.sampled_from(ROLES))  # fmt: skip
    def share(self, actor: int, which: int, member: int, role: str) -> None:
        self.tally.steps += 1
        me, them, list_id = self.users[actor], self.users[member], self.list_id(which)
        args = {"list": list_id, "user_id": them, "role": role}
        mine = self.model.role(me, list_id)
        if mine is None:
            self.refused(ErrorCode.NOT_FOUND, me, "share_list", **args)
        elif mine != "owner":
            self.refused(ErrorCode.FORBIDDEN, me, "share_list", **args)
        elif them == me:
            self.refused(ErrorCode.INVALID_INPUT, me, "share_list", **args)
        else:
            result = self.ok(me, "share_list", **args)
            self.model.members[list_id][them] = role
            assert members_of(result) == self.model.everyone(list_id)

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20),
          member=st.integers(0, USERS - 1))  # fmt: skip
    def unshare(self, actor: int, which: int, member: int) -> None:
        self.tally.steps += 1
        me, them, list_id = self.users[actor], self.users[member], self.list_id(which)
        args = {"list": list_id, "user_id": them}
        mine = self.model.role(me, list_id)
        if mine is None:
            self.refused(ErrorCode.NOT_FOUND, me, "unshare_list", **args)
        elif mine != "owner" and them != me:
            self.refused(ErrorCode.FORBIDDEN, me, "unshare_list", **args)
        elif them not in self.model.members[list_id]:
            self.refused(ErrorCode.NOT_FOUND, me, "unshare_list", **args)
        else:
            result = self.ok(me, "unshare_list", **args)
            del self.model.members[list_id][them]
            if them != me:  # one who leaves is told only that they left
                assert members_of(result) == self.model.everyone(list_id)
            # Lost at once: the very next call about the list, by the one removed, is refused
            # (the invariant then checks that none of its tasks is left in their view).
            self.refused(ErrorCode.NOT_FOUND, them, "list_members", list=list_id)

    # The same steps by the one they are meant for, so shared states come often.

    @rule(which=st.integers(0, 20), member=st.integers(0, USERS - 1),
          role=st.sampled_from(ROLES))  # fmt: skip
    def owner_shares(self, which: int, member: int, role: str) -> None:
        self.share(self.users.index(self.model.owner[self.list_id(which)]), which, member, role)

    @rule(which=st.integers(0, 20), member=st.integers(0, USERS - 1), leaves=st.booleans())
    def owner_removes_or_member_leaves(self, which: int, member: int, leaves: bool) -> None:
        list_id = self.list_id(which)
        owner = self.users.index(self.model.owner[list_id])
        # One of its members when it has any: a random user is mostly no member at all.
        if members := sorted(self.model.members[list_id]):
            member = self.users.index(members[member % len(members)])
        self.unshare(member if leaves else owner, which, member)

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20))
    def members(self, actor: int, which: int) -> None:
        self.tally.steps += 1
        me, list_id = self.users[actor], self.list_id(which)
        if self.model.role(me, list_id) is None:
            self.refused(ErrorCode.NOT_FOUND, me, "list_members", list=list_id)
        else:
            assert members_of(self.ok(me, "list_members", list=list_id)) == (
                self.model.everyone(list_id)
            )

    # -- tasks -------------------------------------------------------------------------

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20))
    def add(self, actor: int, which: int) -> None:
        self.tally.steps += 1
        me, list_id = self.users[actor], self.list_id(which)
        args = {"title": self.title(), "list": list_id}
        role = self.model.role(me, list_id)
        if role is None:
            self.refused(ErrorCode.NOT_FOUND, me, "add_task", **args)
        elif role == "viewer":
            self.refused(ErrorCode.FORBIDDEN, me, "add_task", **args)
        else:
            task = self.ok(me, "add_task", **args)["task"]
            assert (task["owner"], task["changed_by"]) == (self.model.owner[list_id], me)
            self.model.tasks[task["id"]] = (list_id, task["title"], False)

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 50),
          known=st.integers(0, 9), action=st.sampled_from(["complete", "reopen", "rename",
                                                           "delete", "get"]))  # fmt: skip
    def act(self, actor: int, which: int, known: int, action: str) -> None:
        self.tally.steps += 1
        me, task_id = self.users[actor], self.task_id(which, known)
        found = self.model.tasks.get(task_id)
        role = None if found is None else self.model.role(me, found[0])
        calls: dict[str, tuple[str, dict[str, Any]]] = {
            "complete": ("complete_task", {"task_id": task_id, "completed": True}),
            "reopen": ("complete_task", {"task_id": task_id, "completed": False}),
            "rename": ("update_task", {"task_id": task_id, "title": f"renamed {self.count}"}),
            "delete": ("delete_task", {"task_id": task_id}),
            "get": ("get_task", {"task_id": task_id}),
        }
        tool, args = calls[action]
        if role is None:
            self.refused(ErrorCode.NOT_FOUND, me, tool, **args)
        elif role == "viewer" and action != "get":
            self.refused(ErrorCode.FORBIDDEN, me, tool, **args)
        else:
            assert found is not None
            result = self.ok(me, tool, **args)
            if action == "get":
                assert (result["title"], result["completed"]) == found[1:]
            elif action == "delete":
                del self.model.tasks[task_id]
            else:
                task = result["task"]
                if action == "rename" or found[2] != (action == "complete"):
                    assert task["changed_by"] == me  # completing a done task changes nothing
                self.model.tasks[task_id] = (found[0], task["title"], task["completed"])

    # -- after every step --------------------------------------------------------------

    @invariant()
    def everyone_sees_exactly_what_the_model_says(self) -> None:
        for user in self.users:
            page = self.ok(user, "list_tasks", limit=200, subtasks="all", status="all")
            assert page["next_cursor"] is None
            assert {t["id"]: (t["title"], t["completed"]) for t in page["tasks"]} == (
                self.model.visible(user)
            ), user
            shown = self.ok(user, "list_lists")["lists"]
            lists = {item["list_id"]: (item["role"], item["owner"], item["shared"])
                     for item in shown if not item["inbox"]}  # fmt: skip
            assert lists == self.model.lists_of(user), user


def run_machine(
    machine: type[SharingMachine],
    connect: Callable[[list[str]], Transport],
    *,
    examples: int,
    steps: int,
) -> Tally:
    """Run `machine` with its calls made through `connect(users)`; what it did."""
    tally = Tally()
    bound = type(f"Bound{machine.__name__}", (machine,), {"connect": staticmethod(connect),
                                                          "tally": tally})  # fmt: skip
    run_state_machine_as_test(
        bound,
        settings=settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )  # fmt: skip
    assert tally.steps > examples  # the machine really ran
    return tally
