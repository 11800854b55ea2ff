"""Shared lists, property-based, over the wire: three users, each with their own token and the
official MCP client, share, unshare, change roles, write and read at random against
`python -m mcp_server` in JWT mode, on SQLite and PostgreSQL. Each answer (a result, or a
refusal's code) is checked against the reference model of test_sharing_property, and after
every step each user's `list_tasks` and `list_lists` must equal the model's view.

Shorter than the in-process suite (a step is several HTTP calls); `HTTP_SHARING_EXAMPLES`
(default 4 examples of 25 steps) runs it longer.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any, ClassVar

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from mcp import Client

from shared.auth import mint_jwt
from shared.contract import ERROR_META_KEY
from testbed.servers import Server, free_port, running
from tests.conftest import postgres_schema
from tests.mcp_server.test_e2e import SECRET, SETTINGS, connect, server_env
from tests.mcp_server.test_sharing_property import ROLES, USERS, Model

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("HTTP_SHARING_EXAMPLES", "4"))
STEPS = 25


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sharing-http') / 'tasks.db'}"
        return
    with postgres_schema("sharehttp") as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[Server]:
    port = free_port()
    with running("mcp_server", server_env(database, port, JWT_SECRET=SECRET), port) as server:
        yield server


class HttpSharing(RuleBasedStateMachine):
    server: ClassVar[Server]
    portal: ClassVar[BlockingPortal]
    total_steps: ClassVar[int] = 0
    total_calls: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        run = uuid.uuid4().hex[:8]
        self.users = [f"{name}-{run}" for name in ("ann", "bob", "cat")[:USERS]]
        self.model = Model()
        self.count = 0
        self.exits = ExitStack()
        self.clients: dict[str, Client] = {}
        for user in self.users:  # each user's own session, held open for the whole run
            opened = connect(self.server, mint_jwt(user, SETTINGS))
            self.clients[user] = self.exits.enter_context(
                self.portal.wrap_async_context_manager(opened))
            task = self.ok(user, "add_task", title=self.title(), list="chores")["task"]
            self.model.owner[task["list_id"]] = user
            self.model.members[task["list_id"]] = {}
            self.model.tasks[task["id"]] = (task["list_id"], task["title"], False)

    def teardown(self) -> None:
        self.exits.close()

    def call(self, user: str, tool: str, **args: Any) -> tuple[str | None, Any]:
        """(None, result) or (the refusal's code, its message), as `user`."""
        HttpSharing.total_calls += 1
        result = self.portal.call(self.clients[user].call_tool, tool, args)
        if not result.is_error:
            return None, result.structured_content
        assert result.meta is not None, result.content  # a refusal, not a crash
        return result.meta[ERROR_META_KEY]["code"], result.meta[ERROR_META_KEY]["message"]

    def ok(self, user: str, tool: str, **args: Any) -> Any:
        code, body = self.call(user, tool, **args)
        assert code is None, (tool, args, body)
        return body

    def refused(self, code: str, user: str, tool: str, **args: Any) -> None:
        got, body = self.call(user, tool, **args)
        assert got == code, (tool, args, got, body)

    def title(self) -> str:
        self.count += 1
        return f"task {self.count}"

    def list_id(self, index: int) -> int:
        return sorted(self.model.owner)[index % len(self.model.owner)]

    def task_id(self, index: int, deleted: int) -> int:
        ids = sorted(self.model.tasks)
        return ids[index % len(ids)] if ids and deleted else 10**9 + index

    # -- sharing -------------------------------------------------------------------------

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20),
          member=st.integers(0, USERS - 1), role=st.sampled_from(ROLES))  # fmt: skip
    def share(self, actor: int, which: int, member: int, role: str) -> None:
        HttpSharing.total_steps += 1
        me, them, list_id = self.users[actor], self.users[member], self.list_id(which)
        args = {"list": list_id, "user_id": them, "role": role}
        mine = self.model.role(me, list_id)
        if mine is None:
            self.refused("not_found", me, "share_list", **args)
        elif mine != "owner":
            self.refused("forbidden", me, "share_list", **args)
        elif them == me:
            self.refused("invalid_input", me, "share_list", **args)
        else:
            result = self.ok(me, "share_list", **args)
            self.model.members[list_id][them] = role
            assert {m["user_id"]: m["role"] for m in result["members"]} == {
                me: "owner", **self.model.members[list_id]
            }  # fmt: skip

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20),
          member=st.integers(0, USERS - 1))  # fmt: skip
    def unshare(self, actor: int, which: int, member: int) -> None:
        HttpSharing.total_steps += 1
        me, them, list_id = self.users[actor], self.users[member], self.list_id(which)
        args = {"list": list_id, "user_id": them}
        mine = self.model.role(me, list_id)
        if mine is None:
            self.refused("not_found", me, "unshare_list", **args)
        elif mine != "owner" and them != me:
            self.refused("forbidden", me, "unshare_list", **args)
        elif them not in self.model.members[list_id]:
            self.refused("not_found", me, "unshare_list", **args)
        else:
            self.ok(me, "unshare_list", **args)
            del self.model.members[list_id][them]

    @rule(which=st.integers(0, 20), member=st.integers(0, USERS - 1),
          role=st.sampled_from(ROLES))  # fmt: skip
    def owner_shares(self, which: int, member: int, role: str) -> None:
        self.share(self.users.index(self.model.owner[self.list_id(which)]), which, member, role)

    @rule(which=st.integers(0, 20), member=st.integers(0, USERS - 1), leaves=st.booleans())
    def owner_removes_or_member_leaves(self, which: int, member: int, leaves: bool) -> None:
        owner = self.users.index(self.model.owner[self.list_id(which)])
        self.unshare(member if leaves else owner, which, member)

    # -- tasks ---------------------------------------------------------------------------

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 20))
    def add(self, actor: int, which: int) -> None:
        HttpSharing.total_steps += 1
        me, list_id = self.users[actor], self.list_id(which)
        args = {"title": self.title(), "list": list_id}
        role = self.model.role(me, list_id)
        if role is None:
            self.refused("not_found", me, "add_task", **args)
        elif role == "viewer":
            self.refused("forbidden", me, "add_task", **args)
        else:
            task = self.ok(me, "add_task", **args)["task"]
            assert (task["owner"], task["changed_by"]) == (self.model.owner[list_id], me)
            self.model.tasks[task["id"]] = (list_id, task["title"], False)

    @rule(actor=st.integers(0, USERS - 1), which=st.integers(0, 50),
          known=st.integers(0, 9), action=st.sampled_from(["complete", "reopen", "rename",
                                                           "delete", "get"]))  # fmt: skip
    def act(self, actor: int, which: int, known: int, action: str) -> None:
        HttpSharing.total_steps += 1
        me, task_id = self.users[actor], self.task_id(which, known)
        found = self.model.tasks.get(task_id)
        role = None if found is None else self.model.role(me, found[0])
        calls: dict[str, tuple[str, dict[str, Any]]] = {
            "complete": ("complete_task", {"task_id": task_id}),
            "reopen": ("complete_task", {"task_id": task_id, "completed": False}),
            "rename": ("update_task", {"task_id": task_id, "title": f"renamed {self.count}"}),
            "delete": ("delete_task", {"task_id": task_id}),
            "get": ("get_task", {"task_id": task_id}),
        }
        tool, args = calls[action]
        if role is None:
            self.refused("not_found", me, tool, **args)
        elif role == "viewer" and action != "get":
            self.refused("forbidden", me, tool, **args)
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
                    assert task["changed_by"] == me
                self.model.tasks[task_id] = (found[0], task["title"], task["completed"])

    # -- after every step ----------------------------------------------------------------

    @invariant()
    def everyone_sees_exactly_what_the_model_says(self) -> None:
        for user in self.users:
            page = self.ok(user, "list_tasks", limit=200, subtasks="all", status="all")
            assert {t["id"]: (t["title"], t["completed"]) for t in page["tasks"]} == (
                self.model.visible(user)
            ), user
            shown = self.ok(user, "list_lists")["lists"]
            roles = {item["list_id"]: item["role"] for item in shown if not item["inbox"]}
            assert roles == self.model.lists_of(user), user


def test_every_users_view_over_http_equals_the_models_after_every_step(server: Server) -> None:
    HttpSharing.total_steps = HttpSharing.total_calls = 0
    with start_blocking_portal() as portal:
        machine = type("BoundHttpSharing", (HttpSharing,), {"server": server, "portal": portal})
        run_state_machine_as_test(
            machine,
            settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                              suppress_health_check=list(HealthCheck)),
        )  # fmt: skip
    print(f"sharing over HTTP: {HttpSharing.total_steps} steps, "
          f"{HttpSharing.total_calls} MCP calls checked")  # fmt: skip
    assert HttpSharing.total_steps > EXAMPLES  # the machine really ran
