"""Isolation, property-based: three users act at random through every door; nobody ever
sees or changes another user's threads, items or tasks.

The doors: the MCP tools over HTTP with the official client, as each user (a user JWT,
sometimes with `_meta` naming someone else) and as the chat backend (the service token with
`_meta` naming the user); and the ChatKit endpoint with each user's JWT, where the offline
model turns English into the same tool calls. Every step is checked against a small model
of who owns what, and after every step the database must equal the model.
"""

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from tests.e2e.stack import SERVICE_TOKEN, ChatKit, user_input
from tests.reliability.harness import (
    BackgroundLoop,
    SplitStack,
    call,
    fresh_user,
    mcp_client,
    token,
)
from tests.reliability.pg import PgSandbox

pytestmark = pytest.mark.timeout(300)

USERS = 3
VERBS = ["buy", "fix", "water", "call", "clean", "read", "pack", "plan"]
NOUNS = ["lamp", "garden", "report", "bicycle", "letter", "kitchen", "ticket", "shelf"]
VIAS = ["jwt", "service", "jwt_naming_another_user"]
ACTIONS = {
    "get": ("get_task", {}),
    "complete": ("complete_task", {"completed": True}),
    "reopen": ("complete_task", {"completed": False}),
    "delete": ("delete_task", {}),
    "rename": ("update_task", {}),
}
ADDED = re.compile(r"Added task (\d+): (.+)\.")


@dataclass
class Task:
    owner: str
    title: str
    completed: bool = False


@dataclass
class Thread:
    owner: str
    user_messages: int = 1
    deleted: bool = False


@dataclass
class World:
    """Who owns what, as the system should have it."""

    tasks: dict[int, Task] = field(default_factory=dict)
    threads: dict[str, Thread] = field(default_factory=dict)

    def tasks_of(self, user: str) -> dict[int, tuple[str, bool]]:
        return {i: (t.title, t.completed) for i, t in self.tasks.items() if t.owner == user}

    def owns_task(self, user: str, task_id: int) -> bool:
        return task_id in self.tasks and self.tasks[task_id].owner == user

    def owns_thread(self, user: str, thread_id: str) -> bool:
        thread = self.threads[thread_id]
        return thread.owner == user and not thread.deleted


class Isolation(RuleBasedStateMachine):
    """The steps and checks; build_machine binds them to a running stack."""

    mcp_url: ClassVar[str]
    chat_url: ClassVar[str]
    pg_sandbox: ClassVar[Any]
    loop: ClassVar[BackgroundLoop]
    tasks = Bundle("tasks")
    threads = Bundle("threads")

    def __init__(self) -> None:
        super().__init__()
        # Fresh users per example: nothing carries over from earlier examples.
        self.users = [fresh_user(name) for name in ("alice", "bob", "carol")[:USERS]]
        self.chats = [ChatKit(self.chat_url, token(user)) for user in self.users]
        self.world = World()
        self.words = 0

    def teardown(self) -> None:
        for chat in self.chats:
            chat.http.close()

    def title(self, verb: str, noun: str) -> str:
        # A word no other title of this example has, so listings can be told apart.
        self.words += 1
        word = "".join(chr(ord("a") + int(d)) for d in str(self.words))
        return f"{verb} {noun} q{word}"

    def mcp(self, user: int, via: str, tool: str, args: dict[str, Any]) -> Any:
        """Call a tool for users[user] through the given door."""
        acting = self.users[user]
        other = self.users[(user + 1) % USERS]

        async def go() -> Any:
            if via == "service":
                bearer, meta_user = SERVICE_TOKEN, acting
            elif via == "jwt_naming_another_user":
                bearer, meta_user = token(acting), other
            else:
                bearer, meta_user = token(acting), None
            async with mcp_client(self.mcp_url, bearer) as client:
                return await call(client, tool, args, as_user=meta_user)

        return self.loop.run(go())

    # -- every user starts with a task and a thread, so references cross from step one --

    @initialize(target=tasks)
    def everyone_adds_a_task(self) -> Any:
        return multiple(
            *(self.add_over_mcp(user, "start", "task", VIAS[user]) for user in range(USERS))
        )

    @initialize(target=threads)
    def everyone_starts_a_thread(self) -> Any:
        return multiple(
            *(self.add_in_a_new_thread(user, "start", "thread") for user in range(USERS))
        )

    # -- MCP ---------------------------------------------------------------------------

    @rule(
        target=tasks,
        user=st.integers(0, USERS - 1),
        verb=st.sampled_from(VERBS),
        noun=st.sampled_from(NOUNS),
        via=st.sampled_from(VIAS),
    )
    def add_over_mcp(self, user: int, verb: str, noun: str, via: str) -> int:
        title = self.title(verb, noun)
        result = self.mcp(user, via, "add_task", {"title": title})
        assert not result.is_error, result
        task_id = result.structured_content["task_id"]
        self.world.tasks[task_id] = Task(self.users[user], title)
        return task_id

    @rule(
        user=st.integers(0, USERS - 1),
        task_id=tasks,
        action=st.sampled_from(sorted(ACTIONS)),
        via=st.sampled_from(VIAS),
    )
    def act_over_mcp(self, user: int, task_id: int, action: str, via: str) -> None:
        tool, extra = ACTIONS[action]
        args: dict[str, Any] = {"task_id": task_id, **extra}
        if action == "rename":
            args["title"] = self.title("renamed", "task")
        result = self.mcp(user, via, tool, args)
        if not self.world.owns_task(self.users[user], task_id):
            assert result.is_error
            assert result.content[0].text == (
                f"Error executing tool {tool}: Task {task_id} not found"
            )
            return
        assert not result.is_error, result
        task = self.world.tasks[task_id]
        match action:
            case "complete" | "reopen":
                task.completed = action == "complete"
            case "delete":
                del self.world.tasks[task_id]
            case "rename":
                task.title = args["title"]
            case "get":
                got = result.structured_content
                assert (got["id"], got["title"], got["completed"]) == (
                    task_id,
                    task.title,
                    task.completed,
                )

    @rule(user=st.integers(0, USERS - 1), via=st.sampled_from(VIAS))
    def list_over_mcp(self, user: int, via: str) -> None:
        result = self.mcp(user, via, "list_tasks", {"limit": 200})
        assert not result.is_error, result
        listed = result.structured_content["tasks"]
        assert {t["id"]: (t["title"], t["completed"]) for t in listed} == (
            self.world.tasks_of(self.users[user])
        )

    # -- ChatKit -----------------------------------------------------------------------

    @rule(
        target=threads,
        user=st.integers(0, USERS - 1),
        verb=st.sampled_from(VERBS),
        noun=st.sampled_from(NOUNS),
    )
    def add_in_a_new_thread(self, user: int, verb: str, noun: str) -> str:
        title = self.title(verb, noun)
        turn = self.chats[user].create(f"add {title}")
        match = ADDED.search(turn.reply)
        assert match, turn.reply
        assert match[2] == title[0].upper() + title[1:]
        self.world.tasks[int(match[1])] = Task(self.users[user], match[2])
        self.world.threads[turn.thread_id] = Thread(self.users[user])
        return turn.thread_id

    @rule(
        user=st.integers(0, USERS - 1),
        thread_id=threads,
        command=st.sampled_from(["show", "delete", "complete"]),
        task_id=tasks,
    )
    def say_in_a_thread(self, user: int, thread_id: str, command: str, task_id: int) -> None:
        text = {
            "show": "show my tasks",
            "delete": f"delete task {task_id}",
            "complete": f"mark task {task_id} as complete",
        }[command]
        me, chat = self.users[user], self.chats[user]
        if not self.world.owns_thread(me, thread_id):
            request = {
                "type": "threads.add_user_message",
                "params": {"thread_id": thread_id, "input": user_input(text)},
            }
            response = chat.post(request)
            assert response.status_code == 404, response.text
            assert response.json()["message"] == f"thread {thread_id} not found"
            return
        reply = chat.say(thread_id, text).reply
        self.world.threads[thread_id].user_messages += 1
        mine = self.world.tasks_of(me)
        if command == "show":
            assert {int(n) for n in re.findall(r"#(\d+)", reply)} == set(mine), reply
            for other_id, other in self.world.tasks.items():
                if other.owner != me:
                    assert other.title not in reply and f"#{other_id} " not in reply
        elif not self.world.owns_task(me, task_id):
            assert f"I couldn't find task {task_id}." in reply, reply
        elif command == "delete":
            assert reply.startswith(f"Deleted task {task_id}"), reply
            del self.world.tasks[task_id]
        else:
            assert f"task {task_id}" in reply.lower(), reply
            self.world.tasks[task_id].completed = True

    @rule(
        user=st.integers(0, USERS - 1),
        thread_id=threads,
        request=st.sampled_from(["items", "get", "rename", "delete"]),
    )
    def read_or_change_a_thread(self, user: int, thread_id: str, request: str) -> None:
        me, chat = self.users[user], self.chats[user]
        body: dict[str, Any] = {
            "items": {"type": "items.list", "params": {"thread_id": thread_id, "limit": 100}},
            "get": {"type": "threads.get_by_id", "params": {"thread_id": thread_id}},
            "rename": {
                "type": "threads.update",
                "params": {"thread_id": thread_id, "title": f"renamed by {me}"},
            },
            "delete": {"type": "threads.delete", "params": {"thread_id": thread_id}},
        }[request]
        response = chat.post(body)
        if not self.world.owns_thread(me, thread_id):
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        thread = self.world.threads[thread_id]
        match request:
            case "items":
                items = response.json()["data"]
                assert {item["thread_id"] for item in items} == {thread_id}
                kinds = [item["type"] for item in items]
                assert kinds.count("user_message") == thread.user_messages
            case "get" | "rename":
                assert response.json()["id"] == thread_id
            case "delete":
                thread.deleted = True

    @rule(user=st.integers(0, USERS - 1))
    def list_threads(self, user: int) -> None:
        me = self.users[user]
        listed = {t["id"] for t in self.chats[user].threads()}
        assert listed == {i for i, t in self.world.threads.items() if t.owner == me} - {
            i for i, t in self.world.threads.items() if t.deleted
        }

    # -- the database ------------------------------------------------------------------

    @invariant()
    def database_matches_the_model(self) -> None:
        for user in self.users:
            stored = {i: (title, done) for i, title, done in self.pg_sandbox.tasks(user)}
            assert stored == self.world.tasks_of(user), user


def build_machine(stack: Any, pg_sandbox: Any, loop: BackgroundLoop) -> type[Isolation]:
    """The state machine class, bound to the running stack."""
    bound = {
        "mcp_url": stack.mcp_url,
        "chat_url": stack.chat.base_url,
        "pg_sandbox": pg_sandbox,
        "loop": loop,
    }
    return type("BoundIsolation", (Isolation,), bound)


def test_no_user_ever_sees_or_changes_another_users_threads_items_or_tasks(
    stack: SplitStack, pg_sandbox: PgSandbox
) -> None:
    with BackgroundLoop() as loop:
        machine = build_machine(stack, pg_sandbox, loop)
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=30,
                stateful_step_count=50,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
