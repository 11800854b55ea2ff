"""An import run: the items of a file added through the task tools, in batches, once each.

Top-level tasks go first, then subtasks (which need their parent's new id), then the done
ones are completed (subtasks before their parents). Each added item's key is recorded
after its batch, so a second import of the same file, even of one that stopped half-way,
adds only what is not there yet. Every item not imported is in the report, with why.
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, cast

from chat_server.transfer.formats import Item, Problem, Reading
from chat_server.transfer.tables import digest
from shared.contract import ADD_TASKS, COMPLETE_TASKS, MAX_BATCH_ITEMS, BatchResult

ToolCall = Callable[[str, dict[str, Any]], Awaitable[Any]]


class KeyStore(Protocol):
    """Where a user's import keys are kept (the chat database, or a dict in unit tests)."""

    async def known(self, keys: Iterable[str]) -> dict[str, int]:
        """The keys imported before, each with its task."""
        ...

    async def remember(self, items: dict[str, int]) -> None:
        """Record keys and their new tasks."""
        ...


@dataclass
class Report:
    """What an import did: counts, and every item not imported (or not read whole), why."""

    format: str
    imported: int = 0
    already_imported: int = 0
    not_imported: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The report as the API answers it."""
        body = asdict(self)
        body["problems"] = [
            {"item": p.where, "title": p.title, "reason": p.reason, "imported": p.imported}
            for p in self.problems
        ]
        return body

    def refuse(self, item: Item, reason: str) -> None:
        """One item not imported."""
        self.not_imported += 1
        self.problems.append(Problem(item.where, item.title, reason))


async def run_import(
    reading: Reading, *, fmt: str, call: ToolCall, keys: KeyStore, completed: bool = True
) -> Report:
    """Add the reading's items for the caller of `call`; the report of what happened."""
    report = Report(fmt, problems=list(reading.problems))
    report.not_imported = sum(not p.imported for p in reading.problems)
    fresh, ids = await _fresh_items(reading.items, fmt, keys, report, completed=completed)
    tops = [item for item in fresh if item.parent_key is None]
    subtasks = [item for item in fresh if item.parent_key is not None]
    for phase in (tops, subtasks):
        await _add(phase, fmt=fmt, ids=ids, call=call, keys=keys, report=report)
    done = [i for i in subtasks if i.completed] + [i for i in tops if i.completed]
    await _complete([item for item in done if _key(fmt, item) in ids], fmt, ids, call, report)
    return report


async def _fresh_items(
    items: list[Item], fmt: str, keys: KeyStore, report: Report, *, completed: bool
) -> tuple[list[Item], dict[str, int]]:
    """The items to add, and the tasks of those imported before (by key)."""
    ids = await keys.known(_key(fmt, item) for item in items)
    fresh: list[Item] = []
    seen: set[str] = set()
    for item in items:
        key = _key(fmt, item)
        if key in ids:
            report.already_imported += 1
        elif key in seen:
            report.refuse(item, "the same task is in the file twice (same id)")
        elif not item.title:
            report.refuse(item, "it has no title")
        elif item.completed and not completed:
            report.refuse(item, "it is done, and done tasks were not asked for")
        else:
            seen.add(key)
            fresh.append(item)
    return fresh, ids


def _key(fmt: str, item: Item) -> str:
    # taskchat's own CSV and JSON exports share keys: the same tasks in either are one import.
    family = "taskchat" if fmt in ("csv", "json") else fmt
    return digest(f"{family}\n{item.key}")


def _parent_key(fmt: str, item: Item) -> str | None:
    if item.parent_key is None:
        return None
    return _key(fmt, Item(item.parent_key, "", ""))


async def _add(
    items: list[Item], *, fmt: str, ids: dict[str, int], call: ToolCall, keys: KeyStore,
    report: Report,
) -> None:
    """add_tasks in batches; each added item's key recorded after its batch."""
    for start in range(0, len(items), MAX_BATCH_ITEMS):
        batch = items[start : start + MAX_BATCH_ITEMS]
        arguments = [_arguments(item, fmt, ids, report) for item in batch]
        result = cast(BatchResult, await call(ADD_TASKS, {"items": arguments}))
        added: dict[str, int] = {}
        for item, outcome in zip(batch, result["results"], strict=True):
            if outcome["ok"]:
                added[_key(fmt, item)] = outcome["task"]["id"]
            else:
                report.refuse(item, outcome.get("error", "refused by the task server"))
        ids.update(added)
        report.imported += len(added)
        await keys.remember(added)


def _arguments(item: Item, fmt: str, ids: dict[str, int], report: Report) -> dict[str, Any]:
    """add_task's arguments for an item: its parent's new id, no repeat when it is done."""
    arguments = {"title": item.title, **item.args}
    if item.completed:
        # Completing a repeating task makes its next occurrence: a done task repeats no more.
        arguments.pop("repeat", None)
        arguments.pop("repeat_from", None)
    parent = _parent_key(fmt, item)
    if parent is not None:
        if parent in ids:
            arguments["parent_id"] = ids[parent]
            arguments.pop("list", None)  # a subtask is in its parent's list
        else:
            report.problems.append(Problem(
                item.where, item.title,
                "its parent task is not imported: imported as a top-level task", imported=True,
            ))  # fmt: skip
    return arguments


async def _complete(
    items: list[Item], fmt: str, ids: dict[str, int], call: ToolCall, report: Report
) -> None:
    """complete_tasks for the done items, subtasks before their parents."""
    for start in range(0, len(items), MAX_BATCH_ITEMS):
        batch = items[start : start + MAX_BATCH_ITEMS]
        task_ids = [ids[_key(fmt, item)] for item in batch]
        result = cast(BatchResult, await call(COMPLETE_TASKS, {"task_ids": task_ids}))
        for item, outcome in zip(batch, result["results"], strict=True):
            if not outcome["ok"]:
                reason = outcome.get("error", "refused by the task server")
                report.problems.append(
                    Problem(item.where, item.title, f"imported but left open: {reason}", True)
                )
