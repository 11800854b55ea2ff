"""ChatKit requests at the HTTP edge: parse once, reject bad input, check every id's owner."""

from collections.abc import Sequence
from typing import Any

from chatkit.types import (
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    ChatKitReq,
    ClientToolCallItem,
    InputTranscribeReq,
    ItemsFeedbackReq,
    ItemsListReq,
    StructuredInputItem,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadsUpdateReq,
    UserMessageInput,
    UserMessageTagContent,
)
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from chat_server.conversation.store import SQLStore
from shared.auth import Principal
from shared.limits import clipped

MAX_TITLE_CHARS = 200
MAX_FEEDBACK_ITEMS = 100
MAX_PAGE_SIZE = 1000

# Built once: constructing this adapter costs milliseconds, too much for every request.
_request_adapter: TypeAdapter[ChatKitReq] = TypeAdapter(ChatKitReq)


class RequestError(Exception):
    """A request we refuse, with the HTTP status and a message that says why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def parse_request(body: bytes) -> ChatKitReq:
    """Validate a ChatKit request body, or raise RequestError(400) saying what is wrong."""
    try:
        return _request_adapter.validate_json(body)
    except ValidationError as exc:
        raise RequestError(400, "bad_request", _explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    match first["type"]:
        case "json_invalid" | "json_type":
            return "request body is not valid JSON"
        case "union_tag_invalid":
            return f"unknown request type {clipped(str(first['input'].get('type')))!r}"
        case "union_tag_not_found" | "dict_type" | "model_type":
            return "request must be a JSON object with a 'type' field"
    return f"invalid request: {problems(errors, skip=1)}"


def problems(errors: Sequence[ErrorDetails], *, skip: int = 0) -> str:
    """The first few validation errors as "where: what", never quoting the input itself.

    `skip` leaves out leading parts of each location (the request type, FastAPI's "body").
    A location can hold a client's own text (an unknown key), so it is cut short too.
    """
    return "; ".join(
        f"{clipped('.'.join(str(part) for part in error['loc'][skip:])) or 'body'}: "
        f"{clipped(error['msg'])}"
        for error in errors[:3]
    )


def check_input(request: ChatKitReq, max_message_chars: int) -> None:
    """Refuse empty or oversized messages and features this server does not offer."""
    params = getattr(request, "params", None)
    ids = [getattr(params, "thread_id", None), getattr(params, "after", None), *_item_ids(request)]
    if any(isinstance(value, str) and "\x00" in value for value in ids):
        # No id has one, and PostgreSQL cannot even compare text that holds one.
        raise RequestError(400, "bad_request", "ids must not contain NUL (\\x00) characters")
    match request:
        case ThreadsCreateReq() | ThreadsAddUserMessageReq():
            _check_message(request.params.input, max_message_chars)
        case ItemsFeedbackReq() if len(request.params.item_ids) > MAX_FEEDBACK_ITEMS:
            raise RequestError(400, "bad_request", f"at most {MAX_FEEDBACK_ITEMS} item_ids")
        case ThreadsUpdateReq() if len(request.params.title) > MAX_TITLE_CHARS:
            raise RequestError(400, "bad_request", f"title is over {MAX_TITLE_CHARS} characters")
        case (
            AttachmentsCreateReq()
            | AttachmentsDeleteReq()
            | InputTranscribeReq()
            | ThreadsSyncCustomActionReq()  # no widget here has a sync action
        ):
            raise RequestError(400, "unsupported", f"{request.type} is not supported here")
        case ThreadsListReq() | ItemsListReq() if request.params.limit is not None and not (
            1 <= request.params.limit <= MAX_PAGE_SIZE
        ):
            raise RequestError(400, "bad_request", f"limit must be between 1 and {MAX_PAGE_SIZE}")


def _check_message(message: UserMessageInput, max_chars: int) -> None:
    if message.attachments:
        raise RequestError(400, "unsupported", "attachments are not supported")
    if any(isinstance(part, UserMessageTagContent) for part in message.content):
        # Saved, a tag would fail every later turn of the thread: chatkit cannot show it
        # to the model without entity support, which this server does not have.
        raise RequestError(400, "unsupported", "input_tag content (@-mentions) is not supported")
    text = "".join(part.text for part in message.content)
    if not text.strip():
        raise RequestError(400, "empty_message", "message is empty")
    # The model sees the quoted text too, so it counts towards the limit.
    quoted = message.quoted_text or ""
    if len(text) + len(quoted) > max_chars:
        what = "message with its quoted text" if quoted else "message"
        raise RequestError(
            413,
            "message_too_long",
            f"{what} is {len(text) + len(quoted)} characters; the limit is {max_chars}",
        )


async def check_ownership(request: ChatKitReq, store: SQLStore, user: Principal) -> None:
    """404 for any thread or item id the user does not own; 400 for an item of the wrong kind.

    Some chatkit handlers never load the thread, and streaming ones would only fail after
    the 200 and the stream had started (or as a 500); so every id is checked here, first.
    """
    params: Any = getattr(request, "params", None)
    thread_id = getattr(params, "thread_id", None)
    if thread_id is None:
        return
    if not await store.thread_exists(thread_id, user):
        raise RequestError(404, "not_found", f"thread {thread_id} not found")
    match request:
        case ItemsFeedbackReq():
            if missing := await store.missing_items(thread_id, request.params.item_ids, user):
                raise RequestError(404, "not_found", f"item {missing[0]} not found")
        case ThreadsRetryAfterItemReq() | ThreadsAddStructuredInputReq() | ThreadsCustomActionReq():
            if request.params.item_id is not None:
                await _check_item_kind(request, thread_id, request.params.item_id, store, user)
        case ThreadsAddClientToolOutputReq():
            latest = await store.load_thread_items(thread_id, None, 1, "desc", user)
            # chatkit only completes a pending client tool call that is the thread's last item.
            if not any(
                isinstance(item, ClientToolCallItem) and item.status == "pending"
                for item in latest.data
            ):
                raise RequestError(
                    400, "bad_request", f"no client tool call is pending in thread {thread_id}"
                )


# The kind of item each request must name: chatkit fails on any other after the 200.
_ITEM_KINDS = {
    "threads.retry_after_item": ("user_message", "a user message"),
    "threads.add_structured_input": ("structured_input", "a pending structured input"),
    "threads.custom_action": ("widget", "a widget"),
}


async def _check_item_kind(
    request: ChatKitReq, thread_id: str, item_id: str, store: SQLStore, user: Principal
) -> None:
    kind = await store.item_type(thread_id, item_id, user)
    if kind is None:
        raise RequestError(404, "not_found", f"item {item_id} not found")
    wanted, described = _ITEM_KINDS[request.type]
    if kind != wanted:
        raise RequestError(
            400, "wrong_item", f"{request.type} needs {described}; item {item_id} is of type {kind}"
        )
    if kind == "structured_input":
        item = await store.load_item(thread_id, item_id, user)
        if not isinstance(item, StructuredInputItem) or item.status != "pending":
            raise RequestError(400, "wrong_item", f"item {item_id} was already answered")


def _item_ids(request: ChatKitReq) -> list[str]:
    match request:
        case ItemsFeedbackReq():
            return request.params.item_ids
        case ThreadsRetryAfterItemReq() | ThreadsAddStructuredInputReq():
            return [request.params.item_id]
        case ThreadsCustomActionReq() | ThreadsSyncCustomActionReq():
            return [request.params.item_id] if request.params.item_id else []
    return []
