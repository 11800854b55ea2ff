"""A small ChatKit HTTP client for the terminal: requests, SSE parsing, what replies mean.

Pure functions and `TurnView` hold the protocol; `ChatClient` adds HTTP and turns every
failure into a one-line `ChatError`. The terminal side is `taskchat_cli.cli`.
"""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from ipaddress import ip_address
from typing import Any, Literal

import httpx
import tzlocal
from chatkit.types import (
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ErrorEvent,
    InferenceOptions,
    ItemsListParams,
    ItemsListReq,
    NoticeEvent,
    Page,
    Task,
    Thread,
    ThreadAddUserMessageParams,
    ThreadCreatedEvent,
    ThreadCreateParams,
    ThreadItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadItemUpdatedEvent,
    ThreadListParams,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsListReq,
    ThreadStreamEvent,
    ThreadUpdatedEvent,
    UserMessageInput,
    UserMessageItem,
    UserMessageTextContent,
    WorkflowItem,
    WorkflowTaskAdded,
    WorkflowTaskUpdated,
)
from httpx_sse import connect_sse
from pydantic import BaseModel, TypeAdapter, ValidationError

THREADS_SHOWN = 50
HISTORY_ITEMS = 50
# A turn may run several model and tool steps between two events, hence the long read timeout.
TIMEOUT = httpx.Timeout(10.0, read=120.0)
START_HINT = "Is it running? Start it with ./scripts/start"

_event_adapter: TypeAdapter[ThreadStreamEvent] = TypeAdapter(ThreadStreamEvent)
_item_adapter: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)


class ChatError(Exception):
    """A failure reported to the user as one line; the message is that line."""


def message_request(
    text: str, thread_id: str | None
) -> ThreadsCreateReq | ThreadsAddUserMessageReq:
    """threads.create for a new thread, else threads.add_user_message to `thread_id`."""
    message = UserMessageInput(
        content=[UserMessageTextContent(text=text)],
        attachments=[],
        inference_options=InferenceOptions(),
    )
    if thread_id is None:
        return ThreadsCreateReq(params=ThreadCreateParams(input=message))
    return ThreadsAddUserMessageReq(
        params=ThreadAddUserMessageParams(thread_id=thread_id, input=message)
    )


def threads_request(limit: int) -> ThreadsListReq:
    """threads.list, newest first."""
    return ThreadsListReq(params=ThreadListParams(limit=limit, order="desc"))


def items_request(thread_id: str, limit: int) -> ItemsListReq:
    """items.list, newest first (the newest `limit` items are the ones worth showing)."""
    return ItemsListReq(params=ItemsListParams(thread_id=thread_id, limit=limit, order="desc"))


def request_body(request: BaseModel) -> bytes:
    """A request serialized the way chatkit serializes its own models."""
    return request.model_dump_json(by_alias=True, exclude_none=True).encode()


def local_zone() -> str:
    """This machine's IANA time zone name, such as Europe/Paris (UTC if it has none)."""
    try:
        return tzlocal.get_localzone_name() or "UTC"
    except Exception:  # an unreadable or odd /etc/localtime: tzlocal raises several kinds
        return "UTC"


def parse_event(data: str) -> ThreadStreamEvent | None:
    """One stream event; None for event or item types this client does not know (newer server)."""
    try:
        return _event_adapter.validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(error["type"] == "union_tag_invalid" for error in errors):
            return None
        raise ChatError(f"unreadable event from the chat server: {_first_error(exc)}") from None


def parse_items(data: Any) -> list[ThreadItem]:
    """The items of an items.list page, oldest first; unknown item types are skipped."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ChatError("unreadable items.list answer from the chat server")
    items = []
    for raw in reversed(data["data"]):
        try:
            items.append(_item_adapter.validate_python(raw))
        except ValidationError as exc:
            if not any(e["type"] == "union_tag_invalid" for e in exc.errors(include_url=False)):
                raise ChatError(
                    f"unreadable item from the chat server: {_first_error(exc)}"
                ) from None
    return items


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    return f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"


def http_error_message(status: int, body: bytes, endpoint: str) -> str:
    """'401 unauthorized: token expired' from the server's JSON error, or a plain fallback."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        line = f"{status} {data['error'].replace('_', ' ')}"
        return f"{line}: {data['message']}" if data.get("message") else line
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = "error"
    return f"{status} {phrase} from {endpoint} (is that a taskchat chat server?)"


def stream_error_message(event: ErrorEvent) -> str:
    """One line for an `error` event in a reply stream."""
    reason = event.message or (
        "the server failed while answering" if event.code == "stream.error" else str(event.code)
    )
    return f"reply failed: {reason}" + ("; try again" if event.allow_retry else "")


def tool_line(task: Task) -> str | None:
    """'add_task: Task 7 created: Buy milk' for a finished workflow task; None while it runs."""
    if task.status_indicator == "loading":
        return None
    title = getattr(task, "title", None) or task.type
    content = getattr(task, "content", None)
    return f"{title}: {content}" if content else title


OutputKind = Literal["text", "tool", "user", "info", "notice", "error"]


@dataclass(frozen=True, slots=True)
class Output:
    """Something to show: a piece of reply text, or a whole line of another kind."""

    kind: OutputKind
    text: str


@dataclass
class TurnView:
    """What one reply's events mean for the terminal, fed event by event in arrival order."""

    thread_id: str | None = None
    title: str | None = None
    answered: bool = False
    error: str | None = None
    _text: dict[str, str] = field(default_factory=dict)  # reply text shown so far, per item
    _tools: set[tuple[str, int]] = field(default_factory=set)  # workflow tasks shown

    def feed(self, event: ThreadStreamEvent) -> list[Output]:
        """The outputs this event adds, in order."""
        match event:
            case ThreadCreatedEvent(thread=thread) | ThreadUpdatedEvent(thread=thread):
                self.thread_id, self.title = thread.id, thread.title
            case ThreadItemAddedEvent(item=item):
                return self._item(item, done=False)
            case ThreadItemDoneEvent(item=item) | ThreadItemReplacedEvent(item=item):
                return self._item(item, done=True)
            case ThreadItemUpdatedEvent(item_id=item_id, update=update):
                return self._update(item_id, update)
            case ErrorEvent():
                self.error = stream_error_message(event)
                return [Output("error", self.error)]
            case NoticeEvent(message=message):
                return [Output("notice", message)]
        return []

    def _item(self, item: ThreadItem, *, done: bool) -> list[Output]:
        match item:
            case AssistantMessageItem():
                # A reply that failed on the server arrives whole, with no deltas before it.
                self.answered = self.answered or done
                full = "".join(part.text for part in item.content)
                return self._text_to(item.id, full)
            case WorkflowItem():
                outputs: list[Output] = []
                for index, task in enumerate(item.workflow.tasks):
                    outputs += self._tool(item.id, index, task)
                return outputs
        return []

    def _update(self, item_id: str, update: Any) -> list[Output]:
        match update:
            case AssistantMessageContentPartTextDelta(delta=delta):
                return self._text_to(item_id, self._text.get(item_id, "") + delta)
            case AssistantMessageContentPartAdded(content=content):
                return self._text_to(item_id, self._text.get(item_id, "") + content.text)
            case (
                WorkflowTaskAdded(task_index=index, task=task)
                | WorkflowTaskUpdated(task_index=index, task=task)
            ):
                return self._tool(item_id, index, task)
        return []

    def _text_to(self, item_id: str, full: str) -> list[Output]:
        shown = self._text.get(item_id, "")
        if len(full) <= len(shown) or not full.startswith(shown):
            return []
        self._text[item_id] = full
        return [Output("text", full[len(shown) :])]

    def _tool(self, item_id: str, index: int, task: Task) -> list[Output]:
        line = tool_line(task)
        if line is None or (item_id, index) in self._tools:
            return []
        self._tools.add((item_id, index))
        return [Output("tool", line)]


def history_outputs(items: list[ThreadItem]) -> list[Output]:
    """A thread's stored items as transcript lines, oldest first."""
    outputs: list[Output] = []
    for item in items:
        match item:
            case UserMessageItem():
                outputs.append(Output("user", " ".join(part.text for part in item.content)))
            case AssistantMessageItem():
                outputs.append(Output("text", "".join(part.text for part in item.content) + "\n"))
            case WorkflowItem():
                lines = (tool_line(task) for task in item.workflow.tasks)
                outputs += [Output("tool", line) for line in lines if line]
    return outputs


# --- HTTP ---------------------------------------------------------------------------------


def chatkit_endpoint(url: str) -> str:
    """The ChatKit endpoint under a server's base URL (a URL already ending in /chatkit is kept)."""
    url = url.rstrip("/")
    return url if url.endswith("/chatkit") else f"{url}/chatkit"


class ChatClient:
    """Talks ChatKit over HTTP; every failure surfaces as a one-line ChatError."""

    def __init__(
        self, url: str, token: str | None = None, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.endpoint = chatkit_endpoint(url)
        self.has_token = bool(token)
        # The server reads "tomorrow" and "tonight" in the user's zone, which is this machine's.
        headers = {"Content-Type": "application/json", "X-Timezone": local_zone()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(headers=headers, timeout=TIMEOUT, transport=transport)

    def __enter__(self) -> "ChatClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def threads(self, limit: int = THREADS_SHOWN) -> Page[Thread]:
        """The user's threads, newest first."""
        data = self._call(threads_request(limit))
        try:
            return Page[Thread].model_validate(data)
        except ValidationError as exc:
            raise ChatError(f"unreadable threads.list answer: {_first_error(exc)}") from None

    def items(self, thread_id: str, limit: int = HISTORY_ITEMS) -> list[ThreadItem]:
        """The newest `limit` items of a thread, oldest first."""
        return parse_items(self._call(items_request(thread_id, limit)))

    def send(self, text: str, thread_id: str | None) -> Iterator[ThreadStreamEvent]:
        """Send a message and yield the reply's events as they arrive."""
        body = request_body(message_request(text, thread_id))
        with (
            self._errors(),
            connect_sse(self._http, "POST", self.endpoint, content=body) as source,
        ):
            response = source.response
            self._check(response)
            content_type = response.headers.get("content-type", "")
            if not content_type.startswith("text/event-stream"):
                raise ChatError(
                    f"{self.endpoint} answered {content_type or 'no content type'}, not an event "
                    "stream (is that a taskchat chat server?)"
                )
            for sse in source.iter_sse():
                event = parse_event(sse.data)
                if event is not None:
                    yield event

    def _call(self, request: BaseModel) -> Any:
        with self._errors():
            response = self._http.post(self.endpoint, content=request_body(request))
            self._check(response)
        try:
            return response.json()
        except ValueError:
            raise ChatError(
                f"{self.endpoint} did not answer JSON (is that a taskchat chat server?)"
            ) from None

    def _check(self, response: httpx.Response) -> None:
        if response.status_code < HTTPStatus.BAD_REQUEST:
            return
        message = http_error_message(response.status_code, response.read(), self.endpoint)
        if response.status_code == HTTPStatus.UNAUTHORIZED and not self.has_token:
            message += " (pass --token or set TASKCHAT_TOKEN; `taskchat token USER` mints one)"
        raise ChatError(message)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.ConnectTimeout:
            raise ChatError(self._unreachable("timed out")) from None
        except httpx.ConnectError as exc:
            reason = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc)).lower() or "connection failed"
            raise ChatError(self._unreachable(reason)) from None
        except httpx.TimeoutException:
            raise ChatError(
                f"the chat server at {self.url} stopped answering (nothing for "
                f"{TIMEOUT.read:.0f} s)"
            ) from None
        except httpx.RemoteProtocolError:
            raise ChatError(
                f"the chat server at {self.url} closed the connection before it finished answering"
            ) from None
        except httpx.HTTPError as exc:
            raise ChatError(f"request to {self.url} failed: {exc or type(exc).__name__}") from None

    def _unreachable(self, reason: str) -> str:
        host = httpx.URL(self.url).host
        hint = f" {START_HINT}" if _is_loopback(host) else ""
        return f"cannot reach the chat server at {self.url} ({reason}).{hint}"


def _is_loopback(host: str) -> bool:
    """Whether `host` names this machine (then the hint says how to start the server)."""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
