"""Score the chat model on a held-out conversation set, black-box, against real servers.

    python -m bench.conversation_score tests/heldout/heldout_2026_12_07b.json [--show-failures]

Starts one task server and one chat server (JWT mode, a fresh SQLite file, the model the
environment selects: TASKCHAT_MODEL, default offline). Each case runs as a new user: its
seed tasks are added through the task server's MCP tools (official `mcp` client, streamable
HTTP, the user's own JWT), its earlier turns and its message are sent to the chat server's
ChatKit endpoint in one thread (with the case's zone in `X-Timezone`, as the pages and the
terminal client send it), then the user's tasks are read back with `list_tasks` and
compared with the case's expectation (the check language is documented in the set file,
under "check_language", and in tests/heldout/README.md).

Without --show-failures only aggregate numbers are printed, never a case's message: other
engineers tune the model and must not learn which held-out messages fail.
"""

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mcp_server.reminders import parse_duration
from shared.auth import mint_jwt
from shared.contract import read_result
from shared.settings import Settings
from testbed.servers import Server, free_port, start_server
from testbed.sse import sse_json

SECRET = "conversation-score-secret-long-enough-for-hs256"
SERVICE_TOKEN = "conversation-score-service-token-of-32-chars-plus"
TURN_TIMEOUT = httpx.Timeout(10.0, read=90.0)
START_TIMEOUT = 120.0  # seconds for each server to answer /healthz
FIELDS = (
    "title",
    "description",
    "due",
    "priority",
    "tags",
    "recurrence",
    "completed",
    "list",
    "parent_id",
    "repeat",
    "repeat_from",
    "reminders",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How far ahead a weekday, a day of the month, or a day of the year may be read: "friday" is
# the next one, never one a month away.
WEEK, LONGEST_MONTH, LONGEST_YEAR = 7, 31, 366

# Which task field each spec key looks at ("changed" leaves every other field alone).
SPEC_FIELDS = {
    "title_contains": "title",
    "title_not_contains": "title",
    "description_contains": "description",
    "priority": "priority",
    "tags_include": "tags",
    "tags_exclude": "tags",
    "recurrence": "recurrence",
    "completed": "completed",
    "due": "due",
    "due_date": "due",
    "due_within": "due",
    "due_weekday": "due",
    "due_day": "due",
    "due_month_day": "due",
    "due_time": "due",
    "list": "list",
    "parent": "parent_id",
    "repeat": "repeat",
    "repeat_contains": "repeat",
    "repeat_from": "repeat_from",
    "reminders": "reminders",
}
# The old recurrence name is read from the rule: a spec that sets one may change both.
LINKED_FIELDS = {"repeat": "recurrence", "recurrence": "repeat"}
REPEAT_KEYS = {"recurrence", "repeat", "repeat_contains"}
SEED_KEYS = {"title", "description", "due", "priority", "tags", "recurrence", "completed",
             "list", "parent", "repeat", "repeat_from", "reminders"}  # fmt: skip
DUE_KEYS = {key for key, name in SPEC_FIELDS.items() if name == "due"} - {"due"}
CHANGE_KEYS = ("created", "changed", "completed", "reopened", "deleted")
REPLY_KEYS = ("reply_contains_any", "reply_contains_all", "reply_excludes")
EXPECT_KEYS = {*CHANGE_KEYS, *REPLY_KEYS, "unchanged", "any_of"}


# --- the set ------------------------------------------------------------------------------


class SetError(Exception):
    """The set file is malformed; the message says where."""


def load_set(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as file:
        data = json.load(file)
    seeds = data.get("seeds", {})
    ids = Counter(case["id"] for case in data["cases"])
    if dupes := [name for name, n in ids.items() if n > 1]:
        raise SetError(f"duplicate case ids: {dupes}")
    for case in data["cases"]:
        where = case["id"]
        for key in ("family", "message", "expect"):
            if key not in case:
                raise SetError(f"{where}: no {key}")
        seed = (
            seeds.get(case.get("seed", "empty"), None)
            if isinstance(case.get("seed", "empty"), str)
            else case["seed"]
        )
        if seed is None:
            raise SetError(f"{where}: unknown seed {case.get('seed')!r}")
        titles = [task["title"] for task in seed]
        _check_seed(seed, where)
        for text in [*case.get("previous", []), case["message"]]:
            for name in re.findall(r"\{id:([^}]+)\}", text):
                seed_ref(titles, name, where)
        _check_expect(case["expect"], titles, where)
        # Words the user typed prove nothing when the reply contains them: a reply that only
        # echoes the message ("no task matches 'milk'") would pass.
        said = " ".join([*case.get("previous", []), case["message"]]).lower()
        for word in case["expect"].get("reply_contains_any", []):
            if word.lower() in said:
                raise SetError(f"{where}: reply word {word!r} is in the message itself")
        ZoneInfo(case.get("tz", data.get("default_tz", "UTC")))
    return data


def _check_expect(expect: dict[str, Any], titles: list[str], where: str) -> None:
    if unknown := set(expect) - EXPECT_KEYS:
        raise SetError(f"{where}: unknown expectation keys {sorted(unknown)}")
    if expect.get("unchanged") and any(key in expect for key in CHANGE_KEYS):
        raise SetError(f"{where}: 'unchanged' with change keys")
    for alternative in expect.get("any_of", []):
        _check_expect(alternative, titles, where)
    for key in ("completed", "reopened", "deleted"):
        for name in expect.get(key, []):
            seed_ref(titles, name, where)
    for name, spec in expect.get("changed", {}).items():
        seed_ref(titles, name, where)
        _check_spec(spec, where)
    for spec in expect.get("created", []):
        _check_spec(spec, where)


def _check_spec(spec: dict[str, Any], where: str) -> None:
    if unknown := set(spec) - set(SPEC_FIELDS):
        raise SetError(f"{where}: unknown spec keys {sorted(unknown)}")
    reminders = spec.get("reminders", "any")
    if reminders not in ("any", "none", "default", "unchecked") and not (
        isinstance(reminders, list) and all(_reminder_key(r) for r in reminders)
    ):
        raise SetError(f"{where}: reminders is any, none or a list of before/at: {reminders!r}")


def _check_seed(seed: list[dict[str, Any]], where: str) -> None:
    for index, task in enumerate(seed):
        if unknown := set(task) - SEED_KEYS:
            raise SetError(f"{where}: unknown seed keys {sorted(unknown)}")
        if "parent" in task:  # a subtask names a task seeded before it
            seed_ref([other["title"] for other in seed[:index]], task["parent"], where)


def _reminder_key(reminder: Any) -> tuple[str, str] | None:
    """A reminder spec as (kind, value): ("before", "PT30M") or ("at", "+1 09:00")."""
    if isinstance(reminder, dict) and len(reminder) == 1:
        ((kind, value),) = reminder.items()
        if kind in ("before", "at") and isinstance(value, str):
            return kind, value
    return None


def seed_ref(titles: list[str], name: str, where: str = "") -> int:
    """The index of the seed task `name` names: its exact title, else a unique substring."""
    lowered = [title.lower() for title in titles]
    if name.lower() in lowered:
        return lowered.index(name.lower())
    hits = [i for i, title in enumerate(lowered) if name.lower() in title]
    if len(hits) != 1:
        raise SetError(f"{where}: {name!r} names {len(hits)} seed tasks")
    return hits[0]


# --- dates --------------------------------------------------------------------------------


def seed_due(text: str | None, today: date, zone: ZoneInfo) -> str | None:
    """'+3' -> a date-only due 3 days from today; '+3 15:00' -> that local date-time."""
    if text is None:
        return None
    match = re.fullmatch(r"([+-]\d+)(?: (\d\d):(\d\d))?", text)
    if match is None:
        return text  # an absolute ISO value
    day = today + timedelta(days=int(match[1]))
    if match[2] is None:
        return day.isoformat()
    moment = datetime(day.year, day.month, day.day, int(match[2]), int(match[3]), tzinfo=zone)
    return moment.isoformat()


def local_due(due: str | None, zone: ZoneInfo) -> tuple[date | None, str | None]:
    """A stored due as the user's local date and 'HH:MM' (None for a date-only due)."""
    if not due:
        return None, None
    if len(due) == len("YYYY-MM-DD"):
        return date.fromisoformat(due), None
    moment = datetime.fromisoformat(due.replace("Z", "+00:00")).astimezone(zone)
    return moment.date(), moment.strftime("%H:%M")


def _relative_day(text: str, today: date) -> date:
    if re.fullmatch(r"[+-]\d+", text):
        return today + timedelta(days=int(text))
    return date.fromisoformat(text)


# --- checks -------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


NEW_TASK = {"completed": False, "priority": "medium", "list": "Inbox", "parent": "none"}


def spec_problems(
    task: dict[str, Any],
    spec: dict[str, Any],
    today: date,
    zone: ZoneInfo,
    *,
    created: bool,
    tasks: dict[int, dict[str, Any]] | None = None,
) -> list[str]:
    """What about `task` breaks `spec` (empty when it matches); `tasks` (every task by id)
    finds a parent by its title."""
    if created:  # a new task keeps the defaults the spec does not mention
        # A new subtask is in its parent's list (the task server puts it there), not the Inbox.
        subtask = spec.get("parent", "none") != "none"
        spec = {**{k: v for k, v in NEW_TASK.items() if not (subtask and k == "list")}, **spec}
        if not REPEAT_KEYS & set(spec):
            spec["recurrence"] = "none"
        if not DUE_KEYS & set(spec) and "due" not in spec:
            spec["due"] = "none"
        spec.setdefault("reminders", "default")
    return [
        *_text_problems(task, spec),
        *_field_problems(task, spec),
        *_structure_problems(task, spec, tasks or {}),
        *_reminder_problems(task, spec.get("reminders", "unchecked"), today, zone),
        *_due_problems(task["due"], spec, today, zone),
    ]


def _structure_problems(
    task: dict[str, Any], spec: dict[str, Any], tasks: dict[int, dict[str, Any]]
) -> list[str]:
    """The task's list, parent and repeat rule against the spec."""
    problems = []
    if "list" in spec and (task.get("list") or "").lower() not in [
        name.lower() for name in _as_list(spec["list"])
    ]:
        problems.append(f"list {task.get('list')!r}")
    if "parent" in spec:
        parent = tasks.get(task.get("parent_id") or 0)
        if spec["parent"] == "none":
            ok = task.get("parent_id") is None
        else:
            ok = parent is not None and spec["parent"].lower() in parent["title"].lower()
        if not ok:
            problems.append(f"parent {parent['title'] if parent else None!r}")
    rule = (task.get("repeat") or "").upper()
    if "repeat" in spec and not (
        (spec["repeat"] == "none" and not rule)
        or (spec["repeat"] == "any" and rule)
        or spec["repeat"].upper() == rule
    ):
        problems.append(f"repeat {task.get('repeat')!r}")
    if missing := [p for p in _as_list(spec.get("repeat_contains", [])) if p.upper() not in rule]:
        problems.append(f"repeat {task.get('repeat')!r} lacks {missing}")
    if "repeat_from" in spec and task.get("repeat_from") != spec["repeat_from"]:
        problems.append(f"repeat_from {task.get('repeat_from')!r}")
    return problems


def _reminder_problems(task: dict[str, Any], wanted: Any, today: date, zone: ZoneInfo) -> list[str]:
    """`none`: no reminders; `any`: at least one; `default`: none, or one at a timed due
    (what a user's default may add); a list: each of these is among them; `unchecked`."""
    have = _reminder_values(task.get("reminders") or [], today, zone)
    match wanted:
        case "unchecked":
            return []
        case "any":
            ok = bool(have)
        case "none":
            ok = not have
        case "default":
            ok = not have or (have == {("before", timedelta())} and "T" in (task["due"] or ""))
        case _:
            ok = _reminder_values(wanted, today, zone) <= have
    return [] if ok else [f"reminders {task.get('reminders')}"]


def _reminder_values(reminders: list[Any], today: date, zone: ZoneInfo) -> set[tuple[str, Any]]:
    """Reminders in a comparable form: a duration before, or an aware moment."""
    values: set[tuple[str, Any]] = set()
    for reminder in reminders:
        kind, value = _reminder_key(reminder) or ("", "")
        if kind == "before":
            values.add((kind, parse_duration(value)))
        elif kind == "at":
            values.add((kind, datetime.fromisoformat(seed_due(value, today, zone) or value)))
    return values


def _text_problems(task: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    title = task["title"].lower()
    description = (task.get("description") or "").lower()
    return [
        *(
            f"title lacks {p!r}"
            for p in _as_list(spec.get("title_contains", []))
            if p.lower() not in title
        ),
        *(f"title has {p!r}" for p in spec.get("title_not_contains", []) if p.lower() in title),
        *(
            f"description lacks {p!r}"
            for p in _as_list(spec.get("description_contains", []))
            if p.lower() not in description
        ),
    ]


def _field_problems(task: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    problems = []
    if "priority" in spec and task["priority"] not in _as_list(spec["priority"]):
        problems.append(f"priority {task['priority']}")
    recurrence = spec.get("recurrence", "any")
    if recurrence != "any" and task["recurrence"] not in _as_list(recurrence):
        problems.append(f"recurrence {task['recurrence']}")
    if "completed" in spec and task["completed"] != spec["completed"]:
        problems.append(f"completed {task['completed']}")
    tags = set(task["tags"])
    if missing := set(spec.get("tags_include", [])) - tags:
        problems.append(f"tags lack {sorted(missing)}")
    if extra := set(spec.get("tags_exclude", [])) & tags:
        problems.append(f"tags have {sorted(extra)}")
    return problems


def _due_problems(due: str | None, spec: dict[str, Any], today: date, zone: ZoneInfo) -> list[str]:
    day, clock = local_due(due, zone)
    if spec.get("due") == "none":
        return [] if day is None else [f"due {due}"]
    if not DUE_KEYS & set(spec):
        return []
    if day is None:
        return ["no due"]
    shown = f"due {day.isoformat()}{' ' + clock if clock else ''} ({WEEKDAYS[day.weekday()]})"
    ahead = (day - today).days
    ok = True
    if "due_date" in spec:
        ok &= day == _relative_day(spec["due_date"], today)
    if "due_within" in spec:
        low, high = spec["due_within"]
        ok &= low <= ahead <= high
    if "due_weekday" in spec:
        # "next tuesday" may be 8-14 days ahead: a due_within beside it sets the window.
        window = 0 <= ahead <= WEEK or "due_within" in spec
        ok &= WEEKDAYS[day.weekday()] == spec["due_weekday"].lower() and window
    if "due_day" in spec:
        ok &= day.day == spec["due_day"] and 0 <= ahead <= LONGEST_MONTH
    if "due_month_day" in spec:
        ok &= day.strftime("%m-%d") == spec["due_month_day"] and 0 <= ahead <= LONGEST_YEAR
    if "due_time" in spec:
        ok &= clock == (None if spec["due_time"] == "none" else spec["due_time"])
    return [] if ok else [shown]


def _fields(task: dict[str, Any]) -> dict[str, Any]:
    values = {name: task.get(name) for name in FIELDS}
    values["description"] = values["description"] or None
    values["tags"] = sorted(values["tags"] or [])
    return values


@dataclass
class Verdict:
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.wrong and not self.missed


@dataclass
class Scene:
    """What a case saw: its seeded tasks, every task before and after the turn, the reply."""

    seed_ids: list[int]
    seed_titles: list[str]
    before: dict[int, dict[str, Any]]
    after: dict[int, dict[str, Any]]
    reply: str
    today: date
    zone: ZoneInfo

    def ref(self, name: str) -> int:
        """The id of the seed task `name` names."""
        return self.seed_ids[seed_ref(self.seed_titles, name)]


@dataclass
class _Tally:
    """The judge's working state: what changed, and what the expectation has accounted for."""

    scene: Scene
    created: list[int]
    deleted: set[int]
    modified: set[int]
    accounted: set[int] = field(default_factory=set)
    verdict: Verdict = field(default_factory=Verdict)


def judge(expect: dict[str, Any], scene: Scene) -> Verdict:
    """The expectation against what happened; any_of takes its best alternative."""
    if "any_of" in expect:
        rest = {k: v for k, v in expect.items() if k != "any_of"}
        verdicts = [judge({**rest, **alternative}, scene) for alternative in expect["any_of"]]
        return min(verdicts, key=lambda v: (not v.passed, len(v.wrong), len(v.missed)))
    tally = _tally(scene)
    for check in _CHECKS:
        check(expect, tally)
    return tally.verdict


def _tally(scene: Scene) -> _Tally:
    before, after = scene.before, scene.after
    created = [i for i in after if i not in before]
    deleted = {i for i in before if i not in after}
    # A task deleted and then restored (say by "undo") may come back under a new id: the
    # same task to its user, so the pair is no change.
    for old_id in sorted(deleted):
        twin = next((i for i in created if _fields(after[i]) == _fields(before[old_id])), None)
        if twin is not None:
            deleted.discard(old_id)
            created.remove(twin)
    modified = {i for i in before if i in after and _fields(before[i]) != _fields(after[i])}
    return _Tally(scene, created, deleted, modified)


def _check_deleted(expect: dict[str, Any], tally: _Tally) -> None:
    for name in expect.get("deleted", []):
        if (task_id := tally.scene.ref(name)) in tally.deleted:
            tally.accounted.add(task_id)
        else:
            tally.verdict.missed.append(f"not deleted: {name}")


def _check_completed(expect: dict[str, Any], tally: _Tally) -> None:
    before, after = tally.scene.before, tally.scene.after
    for key, done in (("completed", True), ("reopened", False)):
        for name in expect.get(key, []):
            task_id = tally.scene.ref(name)
            if task_id not in after:
                tally.verdict.missed.append(f"not {key} (gone): {name}")
                continue
            want = {**_fields(before[task_id]), "completed": done}
            if _fields(after[task_id]) == want and task_id in tally.modified:
                tally.accounted.add(task_id)
            else:
                tally.verdict.missed.append(f"not {key}: {name}")


def _check_changed(expect: dict[str, Any], tally: _Tally) -> None:
    scene = tally.scene
    for name, spec in expect.get("changed", {}).items():
        task_id = scene.ref(name)
        if task_id not in scene.after:
            tally.verdict.missed.append(f"not changed (gone): {name}")
            continue
        problems = spec_problems(
            scene.after[task_id], spec, scene.today, scene.zone, created=False, tasks=scene.after
        )
        touched = {SPEC_FIELDS[key] for key in spec}
        touched |= {LINKED_FIELDS[name] for name in touched if name in LINKED_FIELDS}
        old, new = _fields(scene.before[task_id]), _fields(scene.after[task_id])
        problems += [f"{f} also changed" for f in FIELDS if f not in touched and old[f] != new[f]]
        if problems or task_id not in tally.modified:
            tally.verdict.missed.append(f"not changed as expected: {name} ({'; '.join(problems)})")
        else:
            tally.accounted.add(task_id)


def _account_subtasks(_expect: dict[str, Any], tally: _Tally) -> None:
    """What a parent's expected change does to its subtasks is no wrong change: deleting it
    deletes them or lifts them to the top level, completing it completes them, moving it
    to a list moves them."""
    before, after = tally.scene.before, tally.scene.after
    for task_id, prior in before.items():
        parent_id = prior.get("parent_id")
        if task_id in tally.accounted or parent_id not in tally.accounted:
            continue
        if parent_id in tally.deleted:
            lifted = {**_fields(prior), "parent_id": None}
            ok = task_id in tally.deleted or _fields(after[task_id]) == lifted
        elif task_id in tally.modified:
            parent, now = after[parent_id], _fields(after[task_id])
            allowed = {**_fields(prior), "list": parent["list"]}
            if parent["completed"]:
                allowed["completed"] = True
            ok = now == allowed
        else:
            ok = False
        if ok:
            tally.accounted.add(task_id)


def _account_renewals(_expect: dict[str, Any], tally: _Tally) -> None:
    """Completing an open recurring task creates its next occurrence: that is no junk."""
    before, after = tally.scene.before, tally.scene.after
    renewed: set[int] = set()
    for task_id in list(tally.created):
        task = after[task_id]
        for old_id in sorted((tally.modified | tally.accounted) - renewed):
            prior = before.get(old_id)
            if (
                prior is not None
                and prior["recurrence"] != "none"
                and not prior["completed"]
                and after.get(old_id, {}).get("completed")
                and prior["title"] == task["title"]
                and not task["completed"]
            ):
                renewed.add(old_id)
                tally.accounted.add(task_id)
                tally.created.remove(task_id)
                break
    # The next occurrence comes with fresh open copies of its subtasks.
    for task_id in list(tally.created):
        if after[task_id].get("parent_id") in tally.accounted:
            tally.accounted.add(task_id)
            tally.created.remove(task_id)


def _check_created(expect: dict[str, Any], tally: _Tally) -> None:
    scene = tally.scene
    specs = expect.get("created", [])
    fits = [
        [
            task_id
            for task_id in tally.created
            if not spec_problems(
                scene.after[task_id], spec, scene.today, scene.zone, created=True, tasks=scene.after
            )
        ]
        for spec in specs
    ]
    match = _matching(fits)
    for index, spec in enumerate(specs):
        if index in match:
            tally.accounted.add(match[index])
        else:
            tally.verdict.missed.append(f"not created: {spec}")


def _check_unexpected(_expect: dict[str, Any], tally: _Tally) -> None:
    """Every creation, deletion and change the expectation did not account for is wrong."""
    before, after, wrong = tally.scene.before, tally.scene.after, tally.verdict.wrong
    for task_id in tally.created:
        if task_id not in tally.accounted:
            wrong.append(f"created {describe(after[task_id], tally.scene.zone)}")
    for task_id in sorted(tally.deleted - tally.accounted):
        wrong.append(f"deleted {before[task_id]['title']!r}")
    for task_id in sorted(tally.modified - tally.accounted):
        old, new = _fields(before[task_id]), _fields(after[task_id])
        diffs = ", ".join(f"{f}: {old[f]!r} -> {new[f]!r}" for f in FIELDS if old[f] != new[f])
        wrong.append(f"changed {before[task_id]['title']!r} ({diffs})")


def _check_reply(expect: dict[str, Any], tally: _Tally) -> None:
    lowered = tally.scene.reply.lower()
    missed = tally.verdict.missed
    any_of = expect.get("reply_contains_any")
    if any_of and not any(word.lower() in lowered for word in any_of):
        missed.append(f"reply has none of {any_of}")
    missed += [
        f"reply lacks {word!r}"
        for word in expect.get("reply_contains_all", [])
        if word.lower() not in lowered
    ]
    missed += [
        f"reply has {word!r}"
        for word in expect.get("reply_excludes", [])
        if word.lower() in lowered
    ]


# In this order: a later check counts only what the earlier ones left unaccounted for.
_CHECKS: tuple[Callable[[dict[str, Any], _Tally], None], ...] = (
    _check_deleted,
    _check_completed,
    _check_changed,
    _account_subtasks,
    _account_renewals,
    _check_created,
    _check_unexpected,
    _check_reply,
)


def _matching(fits: list[list[int]]) -> dict[int, int]:
    """A maximum matching of specs to the created tasks each fits (spec index -> task id)."""
    owner: dict[int, int] = {}

    def place(spec: int, seen: set[int]) -> bool:
        for task_id in fits[spec]:
            if task_id in seen:
                continue
            seen.add(task_id)
            if task_id not in owner or place(owner[task_id], seen):
                owner[task_id] = spec
                return True
        return False

    for spec in range(len(fits)):
        place(spec, set())
    return {spec: task_id for task_id, spec in owner.items()}


def describe(task: dict[str, Any], zone: ZoneInfo) -> str:
    day, clock = local_due(task["due"], zone)
    parts = [repr(task["title"])]
    if day:
        parts.append(f"due {day} {WEEKDAYS[day.weekday()][:3]}{' ' + clock if clock else ''}")
    if task["priority"] != "medium":
        parts.append(task["priority"])
    if task["tags"]:
        parts.append(" ".join("#" + tag for tag in task["tags"]))
    if task.get("repeat"):
        parts.append(f"repeat {task['repeat']} from {task.get('repeat_from')}")
    if (task.get("list") or "Inbox") != "Inbox":
        parts.append(f"list {task['list']!r}")
    if task.get("parent_id") is not None:
        parts.append(f"subtask of #{task['parent_id']}")
    if task.get("reminders"):
        parts.append(f"reminders {task['reminders']}")
    if task.get("description"):
        parts.append(f"note {task['description']!r}")
    if task["completed"]:
        parts.append("done")
    return " ".join(parts)


# --- running a case -------------------------------------------------------------------------


@dataclass
class Outcome:
    case: dict[str, Any]
    verdict: Verdict | None = None
    error: str | None = None
    reply: str = ""
    tasks: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.error is None and self.verdict is not None and self.verdict.passed


@asynccontextmanager
async def mcp_client(mcp_url: str, token: str) -> AsyncIterator[Client]:
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        transport = streamable_http_client(mcp_url, http_client=http)
        async with Client(transport) as client:  # type: ignore[arg-type]
            yield client


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> Any:
    return read_result(tool, await client.call_tool(tool, arguments))


async def all_tasks(client: Client) -> dict[int, dict[str, Any]]:
    tasks: dict[int, dict[str, Any]] = {}
    cursor = None
    while True:
        arguments: dict[str, Any] = {"status": "all", "subtasks": "all", "limit": 200}
        if cursor:
            arguments["cursor"] = cursor
        page = await call(client, "list_tasks", arguments)
        tasks.update({task["id"]: dict(task) for task in page["tasks"]})
        if not (cursor := page["next_cursor"]):
            return tasks


def user_input(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


async def say(http: httpx.AsyncClient, text: str, thread_id: str | None) -> tuple[str, str]:
    """Send one message as the ChatKit UI does; the thread id and the reply's text."""
    if thread_id is None:
        request = {"type": "threads.create", "params": {"input": user_input(text)}}
    else:
        request = {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input(text)},
        }
    response = await http.post("/chatkit", json=request)
    if response.status_code != HTTPStatus.OK:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    reply = []
    for event in sse_json(response.text):
        if event["type"] == "thread.created":
            thread_id = event["thread"]["id"]
        elif event["type"] == "error":
            raise RuntimeError(f"stream error: {event}")
        elif event["type"] == "thread.item.done" and event["item"]["type"] == "assistant_message":
            reply += [part.get("text", "") for part in event["item"]["content"]]
    if thread_id is None:
        raise RuntimeError("no thread was created")
    return thread_id, "\n".join(reply)


def seed_arguments(task: dict[str, Any], today: date, zone: ZoneInfo) -> dict[str, Any]:
    """add_task's arguments for a seed task (without its parent)."""
    keys = ("title", "description", "priority", "tags", "recurrence", "list", "repeat",
            "repeat_from")  # fmt: skip
    arguments = {key: task[key] for key in keys if key in task}
    if task.get("due"):
        arguments["due"] = seed_due(task["due"], today, zone)
    if "reminders" in task:
        arguments["reminders"] = [
            {"at": seed_due(r["at"], today, zone)} if "at" in r else r for r in task["reminders"]
        ]
    return arguments


async def run_case(
    case: dict[str, Any],
    seeds: dict[str, Any],
    default_tz: str,
    *,
    chat: Server,
    mcp_url: str,
    settings: Settings,
) -> Outcome:
    outcome = Outcome(case)
    seed = case.get("seed", "empty")
    seed_tasks = seeds[seed] if isinstance(seed, str) else seed
    zone_name = case.get("tz", default_tz)
    zone = ZoneInfo(zone_name)
    today = datetime.now(zone).date()
    token = mint_jwt(f"heldout-{case['id']}-{uuid.uuid4().hex[:8]}", settings, ttl_seconds=900)
    try:
        async with mcp_client(mcp_url, token) as client:
            seed_ids: list[int] = []
            for task in seed_tasks:
                arguments = seed_arguments(task, today, zone)
                arguments["timezone"] = zone_name  # as the chat server adds them
                if "parent" in task:
                    parent = seed_ref(
                        [t["title"] for t in seed_tasks[: len(seed_ids)]], task["parent"]
                    )
                    arguments["parent_id"] = seed_ids[parent]
                change = await call(client, "add_task", arguments)
                seed_ids.append(change["task_id"])
                if task.get("completed"):
                    await call(client, "complete_task", {"task_id": change["task_id"]})
            before = await all_tasks(client)
            titles = [task["title"] for task in seed_tasks]

            def fill(text: str) -> str:
                return re.sub(
                    r"\{id:([^}]+)\}", lambda m: str(seed_ids[seed_ref(titles, m[1])]), text
                )

            headers = {"Authorization": f"Bearer {token}", "X-Timezone": zone_name}
            async with httpx.AsyncClient(
                base_url=chat.base_url, headers=headers, timeout=TURN_TIMEOUT
            ) as http:
                thread_id = None
                for text in [*case.get("previous", []), case["message"]]:
                    thread_id, outcome.reply = await say(http, fill(text), thread_id)
            after = await all_tasks(client)
            outcome.tasks = [describe(task, zone) for task in after.values()]
            scene = Scene(seed_ids, titles, before, after, outcome.reply, today, zone)
            outcome.verdict = judge(case["expect"], scene)
    except Exception as exc:  # reported as an error case, never as a crash of the run
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


# --- servers and report -----------------------------------------------------------------------


def start_stack(folder: str) -> tuple[Server, Server]:
    env = {
        "DATABASE_URL": f"sqlite:///{os.path.join(folder, 'heldout.db')}",
        "JWT_SECRET": SECRET,
        "MCP_SERVICE_TOKEN": SERVICE_TOKEN,
        "TASKCHAT_MODEL": os.environ.get("TASKCHAT_MODEL", "offline"),
        "TASKCHAT_TIMEZONE": "UTC",
        "RATE_LIMIT": "100000/minute",
        "MCP_RATE_LIMIT": "100000/minute",
    }
    mcp_port, chat_port = free_port(), free_port()
    # Start-up runs the migrations: on a busy shared machine that can take a minute.
    timeout = START_TIMEOUT
    # Server logs may quote messages: they stay in the temporary folder, never on screen.
    with open(os.path.join(folder, "servers.log"), "ab") as log:
        mcp = start_server(
            "mcp_server", {**env, "MCP_PORT": str(mcp_port)}, mcp_port, log=log, timeout=timeout
        )
        try:
            chat = start_server(
                "chat_server",
                {
                    **env,
                    "CHAT_PORT": str(chat_port),
                    "MCP_SERVER_URL": f"http://127.0.0.1:{mcp_port}/mcp",
                },
                chat_port,
                log=log,
                timeout=timeout,
            )
        except BaseException:
            mcp.stop()
            raise
    return mcp, chat


async def run_all(data: dict[str, Any], jobs: int, mcp: Server, chat: Server) -> list[Outcome]:
    settings = Settings(_env_file=None, jwt_secret=SECRET)  # type: ignore[call-arg]
    limit = asyncio.Semaphore(jobs)
    default_tz = data.get("default_tz", "UTC")

    async def one(case: dict[str, Any]) -> Outcome:
        async with limit:
            return await run_case(
                case,
                data["seeds"],
                default_tz,
                chat=chat,
                mcp_url=f"{mcp.base_url}/mcp",
                settings=settings,
            )

    return await asyncio.gather(*(one(case) for case in data["cases"]))


def report(outcomes: list[Outcome], path: str, seconds: float, show_failures: bool) -> None:
    total = len(outcomes)
    passed = sum(outcome.passed for outcome in outcomes)
    wrong = [len(o.verdict.wrong) for o in outcomes if o.verdict is not None]
    errors = sum(outcome.error is not None for outcome in outcomes)
    model = os.environ.get("TASKCHAT_MODEL", "offline")
    print(f"held-out set: {path} ({total} cases), model {model}")
    print(f"overall: {passed}/{total} passed ({100 * passed / total:.1f}%)")
    print(f"wrong changes: {sum(wrong)} (in {sum(1 for n in wrong if n)} cases)")
    print(f"errors: {errors}")
    print("per family:")
    families: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        families.setdefault(outcome.case["family"], []).append(outcome)
    for family, members in families.items():
        ok = sum(o.passed for o in members)
        bad = sum(len(o.verdict.wrong) for o in members if o.verdict is not None)
        print(f"  {family:<14} {ok:>3}/{len(members):<3} wrong changes {bad}")
    print(f"time: {seconds:.1f} s")
    if not show_failures:
        return
    print("\nfailures:")
    for outcome in outcomes:
        if outcome.passed:
            continue
        case = outcome.case
        print(
            f"\n[{case['id']}] ({case['family']}, seed {case.get('seed', 'empty')}, "
            f"tz {case.get('tz', '-')})"
        )
        for text in case.get("previous", []):
            print(f"  earlier: {text!r}")
        print(f"  message: {case['message']!r}")
        print(f"  expected: {json.dumps(case['expect'], ensure_ascii=False)}")
        if outcome.error:
            print(f"  ERROR: {outcome.error}")
            continue
        assert outcome.verdict is not None
        for line in outcome.verdict.wrong:
            print(f"  WRONG CHANGE: {line}")
        for line in outcome.verdict.missed:
            print(f"  missed: {line}")
        print(f"  reply: {outcome.reply[:300]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.conversation_score", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("set_file")
    parser.add_argument(
        "--show-failures",
        action="store_true",
        help="list each failing case (message, expected, actual)",
    )
    parser.add_argument("--jobs", type=int, default=4, help="cases run at once (default 4)")
    args = parser.parse_args(argv)
    try:
        data = load_set(args.set_file)
    except (SetError, KeyError, ValueError) as exc:
        print(f"conversation_score: bad set file: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="heldout-") as folder:
        mcp, chat = start_stack(folder)
        try:
            outcomes = asyncio.run(run_all(data, args.jobs, mcp, chat))
        finally:
            chat.stop()
            mcp.stop()
    report(outcomes, args.set_file, time.monotonic() - started, args.show_failures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
