"""Shared lists, property-based, through the tool bodies: the state machine of
tests/sharing_model.py with each call run in process (each write applied and committed as
its tool applies it), on SQLite and PostgreSQL.

`SHARING_EXAMPLES` (default 6 examples of 30 steps) runs it longer:
`SHARING_EXAMPLES=100 python -m pytest tests/mcp_server/test_sharing_property.py`.
"""

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import calls, lists, tasks
from mcp_server.task_rules import TaskError
from shared.db import make_engine
from shared.migrate import upgrade_all
from tests.sharing_model import Refused, SharingMachine, Transport, run_machine

EXAMPLES = int(os.environ.get("SHARING_EXAMPLES", "6"))
STEPS = 30

Write = tuple[Callable[..., Any], Callable[[dict[str, Any]], dict[str, Any]]]

# Each write tool: its body, and its arguments as the body takes them (as tools.py passes them).
WRITES: dict[str, Write] = {
    "add_task": (tasks.add_task, lambda a: {"data": tasks.NewTask(**a)}),
    "share_list": (lists.share_list,
                   lambda a: {"name": a["list"], "member": a["user_id"], "role": a["role"]}),
    "unshare_list": (lists.unshare_list, lambda a: {"name": a["list"], "member": a["user_id"]}),
    "complete_task": (tasks.set_completed, lambda a: a),
    "update_task": (tasks.update_task,
                    lambda a: {"task_id": a["task_id"], "changes": {"title": a["title"]}}),
    "delete_task": (tasks.delete_task, lambda a: a),
}  # fmt: skip


def _read(session: Session, user: str, tool: str, args: dict[str, Any]) -> Any:
    match tool:
        case "get_task":
            return tasks.get_task(session, user_id=user, **args)
        case "list_members":
            return lists.list_members(session, user_id=user, name=args["list"])
        case "list_lists":
            return lists.list_lists(session, user_id=user)
        case "list_tasks":
            return tasks.list_tasks(session, user_id=user, query=tasks.TaskQuery(**args))
    raise AssertionError(f"no tool {tool}")


class InProcess:
    """The tool bodies on one database session."""

    def __init__(self, engine: Engine) -> None:
        self.session = Session(engine)

    def call(self, user: str, tool: str, args: dict[str, Any]) -> Any:
        try:
            if tool in WRITES:
                fn, shape = WRITES[tool]
                return calls.apply(self.session, fn, user_id=user, call_id=None, **shape(args))
            try:
                return _read(self.session, user, tool, args)
            finally:
                self.session.rollback()
        except TaskError as exc:
            raise Refused(exc.code, str(exc)) from None

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_all(engine)
    yield engine
    engine.dispose()


def test_every_users_view_equals_the_models_after_every_step(engine: Engine) -> None:
    def connect(users: list[str]) -> Transport:
        return InProcess(engine)

    tally = run_machine(SharingMachine, connect, examples=EXAMPLES, steps=STEPS)
    print(f"sharing property in process: {tally.steps} steps, {tally.calls} calls checked")
