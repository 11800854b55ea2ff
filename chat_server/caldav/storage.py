"""Radicale's storage, backed by the task tools: one VTODO collection per list.

Radicale runs each request in a worker thread (through the WSGI adapter); every read and
write here is a task tool call as the signed-in user, run on the chat server's event loop,
so the task server's rules, sharing and live updates apply to a client's edits as to the
page's. Only the user Radicale authenticated for this request is ever served: a path
naming anyone else finds nothing.

A task made here is `<task id>.ics` with the feed's UID; a task a client made keeps the
client's href and UID (`caldav_item`). An item's ETag is a digest of its text, which
changes with the task's `updated_at`. A sync token names a stored snapshot of the
collection's hrefs and ETags, so a sync reports changed and deleted items, whoever made
the change; an unknown or pruned token makes Radicale ask the client for a full sync.
"""

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, cast

from agents.mcp import MCPServer
from radicale import item as radicale_item
from radicale import pathutils, storage, types
from sqlalchemy import Engine
from sqlmodel import Session

from chat_server.agent.task_tools import call_task_tool
from chat_server.caldav import tables
from chat_server.caldav.todos import changes, fields_of, is_done, item_text, todo_in
from shared.contract import (
    ADD_TASK,
    COMPLETE_TASK,
    DELETE_TASK,
    LIST_LISTS,
    LIST_TASKS,
    MAX_PAGE_SIZE,
    UPDATE_TASK,
    ListDict,
    TaskDict,
    ToolFailure,
)

log = logging.getLogger(__name__)

# UIDs of tasks made here: the same as the calendar feed's and exports'.
UID_DOMAIN = "taskchat"
SYNC_PREFIX = "http://taskchat.invalid/ns/sync/"
# How long a worker thread waits for one task tool call.
CALL_SECONDS = 60
MAX_PAGES = 50
# Path depths under the root: a principal (user), a collection (list), an item (task).
PRINCIPAL, COLLECTION, ITEM = 1, 2, 3
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


@dataclass
class Backend:
    """What the storage uses of the chat server: its database, task tools and event loop."""

    engine: Engine
    mcp: MCPServer
    loop: asyncio.AbstractEventLoop

    def call(self, tool: str, arguments: dict[str, Any], user: str) -> Any:
        """A task tool call as `user`, from a worker thread (ToolFailure when refused).

        Any other failure (the task server down or too slow) is noted in OUTAGE before it
        propagates: Radicale answers 500 for it, which `answering_outages` makes a 503.
        """
        future = asyncio.run_coroutine_threadsafe(
            call_task_tool(self.mcp, tool, arguments, user), self.loop
        )
        try:
            return future.result(CALL_SECONDS)[0]
        except ToolFailure:
            raise
        except Exception as exc:
            OUTAGE.hit = True
            log.warning("%s failed over CalDAV: %r", tool, exc)
            raise

    def db(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """`fn(session, **kwargs)` on the chat database, in this (worker) thread."""
        with Session(self.engine, expire_on_commit=False) as session:
            return fn(session, **kwargs)


class _Outage(threading.local):
    """Whether the request this thread serves failed for want of the task server."""

    hit = False


OUTAGE = _Outage()


class _Request(threading.local):
    """The signed-in user of the request this thread serves, and what it has read."""

    user = ""
    lists: list[ListDict] | None = None
    tasks: dict[int, list[TaskDict]]
    hrefs: dict[int, tuple[str, str]] | None = None

    def reset(self, user: str) -> None:
        self.user, self.lists, self.tasks, self.hrefs = user, None, {}, None


def http_date(moment: str | None) -> str:
    """An ISO timestamp as an HTTP date (Last-Modified)."""
    if not moment:
        return EPOCH
    return format_datetime(datetime.fromisoformat(moment).astimezone(UTC), usegmt=True)


def etag_of(text: str) -> str:
    """An item's ETag: a digest of its text."""
    return f'"{hashlib.sha256(text.encode()).hexdigest()[:40]}"'


class Node(storage.BaseCollection):
    """The root or a user's principal: holds the user's lists, no items."""

    def __init__(self, path: str) -> None:
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, radicale_item.Item | None]]:
        return ((href, None) for href in hrefs)

    def get_all(self) -> Iterable[radicale_item.Item]:
        return iter(())

    def get_meta(self, key: str | None = None) -> Any:
        return {} if key is None else None

    def set_meta(self, props: Mapping[str, str]) -> None:
        raise ValueError("nothing to set here")

    @property
    def last_modified(self) -> str:
        return EPOCH


class ListCollection(storage.BaseCollection):
    """One list of the user as a VTODO calendar."""

    def __init__(self, store: "TaskStorage", user: str, task_list: ListDict) -> None:
        self._store = store
        self._user = user
        self._list = task_list

    @property
    def path(self) -> str:
        return f"{self._user}/{self._list['list_id']}"

    def _entries(self) -> dict[str, tuple[TaskDict, str | None]]:
        """href -> (task, the client's UID or None) for every task of the list."""
        client = self._store.client_hrefs()
        found: dict[str, tuple[TaskDict, str | None]] = {}
        for task in self._store.tasks(self._list["list_id"]):
            href, uid = client.get(task["id"], (f"{task['id']}.ics", None))
            found[href] = (task, uid)
        return found

    def _item(self, href: str, task: TaskDict, uid: str | None) -> radicale_item.Item:
        text = item_text(task, uid=uid, domain=UID_DOMAIN)
        return radicale_item.Item(
            collection=self, href=href, text=text, etag=etag_of(text),
            last_modified=http_date(task["updated_at"]),
        )  # fmt: skip

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, radicale_item.Item | None]]:
        entries = self._entries()
        for href in hrefs:
            entry = entries.get(href)
            yield href, (self._item(href, *entry) if entry else None)

    def get_all(self) -> Iterable[radicale_item.Item]:
        return [self._item(href, *entry) for href, entry in self._entries().items()]

    def upload(
        self, href: str, item: radicale_item.Item
    ) -> tuple[radicale_item.Item, radicale_item.Item | None]:
        """A client's new or changed VTODO, made so through the task tools."""
        sent = item.serialize()
        todo = todo_in(sent)
        fields = fields_of(todo, self._list["name"])
        entry = self._entries().get(href)
        replaced = self._item(href, *entry) if entry else None
        store, user = self._store, self._user
        try:
            if entry is None:
                arguments = {k: v for k, v in fields.items() if v not in ("", [])}
                added = store.call(ADD_TASK, {**arguments, "list": self._list["list_id"]})
                task_id = added["task_id"]
                uid = str(todo.get("uid") or f"{task_id}@{UID_DOMAIN}")
                store.backend.db(
                    tables.remember_item, user_id=user, task_id=task_id, href=href, uid=uid
                )
                if is_done(todo):
                    store.call(COMPLETE_TASK, {"task_id": task_id})
            else:
                self._update(entry[0], fields, is_done(todo))
        except ToolFailure as exc:
            raise ValueError(str(exc)) from None
        store.forget_reads()
        # The ETag of what the client sent: when the stored task reads differently (a done
        # repeating task, a rule the task server wrote its own way), the client's next sync
        # sees another ETag and fetches the task as it is.
        uploaded = radicale_item.Item(
            collection=self, href=href, text=sent, etag=etag_of(sent),
            last_modified=http_date(datetime.now(UTC).isoformat()),
        )  # fmt: skip
        return uploaded, replaced

    def _update(self, task: TaskDict, fields: dict[str, Any], done: bool) -> None:
        changed = changes(task, fields)
        if changed:
            self._store.call(UPDATE_TASK, {"task_id": task["id"], **changed})
        if done != task["completed"]:
            arguments: dict[str, Any] = {"task_id": task["id"], "completed": done}
            if done and task.get("open_subtasks"):
                arguments["subtasks"] = "complete"
            self._store.call(COMPLETE_TASK, arguments)

    def delete(self, href: str | None = None) -> None:
        """A client deleted a task (its subtasks stay); lists are deleted in taskchat."""
        if href is None:
            raise ValueError("lists are deleted in taskchat, not over CalDAV")
        entry = self._entries().get(href)
        if entry is None:
            return
        task = entry[0]
        arguments: dict[str, Any] = {"task_id": task["id"]}
        if task.get("open_subtasks"):
            arguments["subtasks"] = "keep"
        try:
            self._store.call(DELETE_TASK, arguments)
        except ToolFailure as exc:
            raise ValueError(str(exc)) from None
        self._store.backend.db(tables.forget_item, user_id=self._user, task_id=task["id"])
        self._store.forget_reads()

    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        """The current token, and the hrefs changed or deleted since `old_token`."""
        state = {item.href or "": item.etag for item in self.get_all()}
        db = self._store.backend.db
        token = db(
            tables.keep_sync_state, user_id=self._user, collection=self.path, state=state,
            now=datetime.now(UTC),
        )  # fmt: skip
        if not old_token:
            return SYNC_PREFIX + token, list(state)
        old = None
        if old_token.startswith(SYNC_PREFIX):
            old = db(
                tables.sync_state, user_id=self._user, collection=self.path,
                token=old_token.removeprefix(SYNC_PREFIX),
            )  # fmt: skip
        if old is None:
            raise ValueError("unknown or expired sync token")
        changed = [href for href, etag in state.items() if old.get(href) != etag]
        gone = [href for href in old if href not in state]
        return SYNC_PREFIX + token, changed + gone

    def get_meta(self, key: str | None = None) -> Any:
        meta = {
            "tag": "VCALENDAR",
            "C:supported-calendar-component-set": "VTODO",
            "D:displayname": self._list["name"],
        }
        if self._list.get("color"):
            meta["ICAL:calendar-color"] = str(self._list["color"])
        return meta if key is None else meta.get(key)

    def set_meta(self, props: Mapping[str, str]) -> None:
        # Names and colours are changed in taskchat; a client's PROPPATCH changes nothing.
        return None

    @property
    def last_modified(self) -> str:
        stamps = [task["updated_at"] for task in self._store.tasks(self._list["list_id"])]
        return http_date(max(stamps)) if stamps else EPOCH


class TaskStorage(storage.BaseStorage):
    """The storage Radicale is given: each request sees its own user's lists only."""

    _supports_unicode = True

    def __init__(self, configuration: Any, backend: Backend) -> None:
        super().__init__(configuration)
        self.backend = backend
        self._request = _Request()

    def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """A task tool call as this request's user."""
        return self.backend.call(tool, arguments, self._request.user)

    def forget_reads(self) -> None:
        """After a write: the next read asks the task server again."""
        self._request.reset(self._request.user)

    def lists(self) -> list[ListDict]:
        """The user's lists, read once per request."""
        if self._request.lists is None:
            self._request.lists = cast(list[ListDict], self.call(LIST_LISTS, {})["lists"])
        return self._request.lists

    def tasks(self, list_id: int) -> list[TaskDict]:
        """Every task of one list (done ones too, subtasks too), read once per request."""
        cached = self._request.tasks.get(list_id)
        if cached is not None:
            return cached
        found: dict[int, TaskDict] = {}
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            arguments: dict[str, Any] = {
                "status": "all", "subtasks": "all", "sort": "created", "order": "asc",
                "limit": MAX_PAGE_SIZE, "list": list_id,
            }  # fmt: skip
            if cursor is not None:
                arguments["cursor"] = cursor
            page = self.call(LIST_TASKS, arguments)
            found.update((task["id"], task) for task in page["tasks"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self._request.tasks[list_id] = list(found.values())
        return self._request.tasks[list_id]

    def client_hrefs(self) -> dict[int, tuple[str, str]]:
        """task id -> (href, uid) for the tasks the user's clients made."""
        if self._request.hrefs is None:
            self._request.hrefs = self.backend.db(tables.client_items, user_id=self._request.user)
        return self._request.hrefs

    def _collection(self, name: str) -> ListCollection | None:
        for task_list in self.lists():
            if str(task_list["list_id"]) == name:
                return ListCollection(self, self._request.user, task_list)
        return None

    def discover(
        self,
        path: str,
        depth: str = "0",
        child_context_manager: Any = None,
        user_groups: Any = frozenset(),
    ) -> Iterable[types.CollectionOrItem]:
        """The root, the user's principal, a list or a task at `path` (and children)."""
        parts = [
            part for part in pathutils.strip_path(pathutils.sanitize_path(path)).split("/") if part
        ]
        user = self._request.user
        if not parts:
            yield Node("")
            return
        if not user or parts[0] != user or len(parts) > ITEM:
            return
        if len(parts) == PRINCIPAL:
            yield Node(user)
            if depth != "0":
                yield from (ListCollection(self, user, task_list) for task_list in self.lists())
            return
        collection = self._collection(parts[1])
        if collection is None:
            return
        if len(parts) == COLLECTION:
            yield collection
            if depth != "0":
                yield from collection.get_all()
            return
        yield from (item for _, item in collection.get_multi([parts[2]]) if item is not None)

    def move(
        self, item: radicale_item.Item, to_collection: storage.BaseCollection, to_href: str
    ) -> None:
        """A client moved a task to another list (and maybe another href)."""
        source = item.collection
        if not isinstance(source, ListCollection) or not isinstance(to_collection, ListCollection):
            raise ValueError("only tasks move between lists")
        entry = source._entries().get(item.href or "")
        if entry is None:
            raise ValueError("no such task")
        task = entry[0]
        try:
            self.call(UPDATE_TASK, {"task_id": task["id"], "list": to_collection._list["list_id"]})
        except ToolFailure as exc:
            raise ValueError(str(exc)) from None
        uid = entry[1] or item.uid
        self.backend.db(
            tables.remember_item, user_id=self._request.user, task_id=task["id"],
            href=to_href, uid=uid,
        )  # fmt: skip
        self.forget_reads()

    def create_collection(self, href: str, items: Any = None, props: Any = None) -> Any:
        raise ValueError("lists are made in taskchat (or by naming one in a task)")

    @contextlib.contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any) -> Iterator[None]:
        """No lock (the task server orders writes); starts the request's reads afresh."""
        self._request.reset(user)
        try:
            yield
        finally:
            self._request.reset("")

    def verify(self) -> bool:
        return True
