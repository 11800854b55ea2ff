"""The chat backend's one process-wide MCP client: a pool of sessions to the task server.

`MCPPool` is an Agents SDK `MCPServer`, so `Agent(mcp_servers=[pool])` uses it directly.
It lends each request an idle connection, so N connections carry N calls at once, and
rebuilds broken connections on their next use. A call whose connection broke, or that a
load balancer answered 502/503/504, is sent again within the retry budget under the same
call id (`_meta["taskchat/call_id"]`): the task server applies a write once per id and
answers a repeat with the first result, so an instance dying mid-call costs no turn and
add_task never runs twice.
"""

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any, TypeVar, cast

import httpx2
from agents.mcp import MCPServer
from agents.mcp.util import MCPToolMetaResolver
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CONNECTION_CLOSED,
    REQUEST_TIMEOUT,
    CallToolResult,
    GetPromptResult,
    ListPromptsResult,
    ListToolsResult,
    RequestParamsMeta,
    Tool,
)
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_before_delay,
    wait_random_exponential,
)

from chat_server.agent.pool.connection import Connection
from chat_server.agent.pool.failures import (
    MCPCallBroke,
    MCPPoolError,
    MCPTimeout,
    MCPUnavailable,
    Resend,
    never_sent,
    reason,
    server_answer,
)
from chat_server.agent.pool.lending import Lender
from chat_server.metrics import POOL_IN_USE, observed_tool_call
from chat_server.sdk_compat import absorb_tool_listing
from shared import tracing
from shared.contract import CALL_ID_META_KEY, as_model_output

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a load balancer answers when the instance behind it failed or is gone: the request
# may have run there, and another instance can take it.
GATEWAY_FAILURES = frozenset({502, 503, 504})


class MCPPool(MCPServer):
    """A fixed number of MCP client sessions to one server, shared by every chat turn."""

    def __init__(
        self,
        url: str,
        *,
        size: int = 4,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        retry_for: float = 2.0,
        tool_meta_resolver: MCPToolMetaResolver | None = None,
        name: str = "taskchat",
    ) -> None:
        if size < 1:
            raise ValueError(f"pool size must be at least 1, got {size}")
        if timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
        if retry_for < 0:
            raise ValueError(f"retry_for must be zero or more seconds, got {retry_for}")
        # failure_error_function=None: transport errors leave the run as exceptions, so the
        # chat server can tell the user the task server is down instead of the model guessing.
        # use_structured_content: the model and the hooks read the result's structured JSON;
        # the server's text block is a compact rendering for text-only clients.
        super().__init__(
            use_structured_content=True,
            failure_error_function=None,
            tool_meta_resolver=tool_meta_resolver,
        )
        self.url = url
        self._name = name
        self._headers = dict(headers or {})
        self._timeout = timeout
        self._retry_for = retry_for
        # The MCP read timeout fires first and leaves the connection usable; the HTTP read
        # timeout only backs it up. A connect attempt never outlasts the retry budget.
        connect_timeout = min(timeout, max(retry_for, 1.0))
        self._http_timeout = httpx2.Timeout(timeout + 5.0, connect=connect_timeout)
        self._ssl = httpx2.create_ssl_context()
        self._connections = [Connection(self._open_client) for _ in range(size)]
        self._idle = Lender(self._connections)
        self._tools: ListToolsResult | None = None
        self._tools_lock = asyncio.Lock()
        self._closed = False
        self._fail_fast_until = 0.0

    @property
    def name(self) -> str:
        """The server name the Agents SDK shows in logs and errors."""
        return self._name

    @property
    def size(self) -> int:
        """How many connections (and so concurrent calls) the pool has."""
        return len(self._connections)

    @property
    def cached_tools(self) -> list[Tool] | None:
        """The cached tool list, or None before the first successful listing."""
        return None if self._tools is None else list(self._tools.tools)

    async def __aenter__(self) -> "MCPPool":
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.cleanup()

    async def connect(self) -> None:
        """Open every connection and cache the tool list; a server that is down is only logged."""
        self._closed = False
        failures = await asyncio.gather(*(self._warm_one() for _ in self._connections))
        if all(failure is not None for failure in failures):
            logger.warning(
                "MCP server at %s not connected yet (%s); will retry on first use",
                self.url,
                failures[0],
            )
            return
        try:
            await self.list_tools()
        except MCPPoolError as exc:
            logger.warning("Could not list the tools of %s yet: %s", self.url, exc)

    async def _warm_one(self) -> str | None:
        """Try once to open one idle connection; None on success, else why not.

        No retries here, so a chat server whose task server is down still starts at once.
        """
        connection = await self._idle.borrow()
        try:
            await connection.client()
            return None
        except Exception as exc:
            answer = server_answer(exc)
            return answer.error.message if answer is not None else reason(exc)
        finally:
            self._idle.give_back(connection)

    async def cleanup(self) -> None:
        """Close every connection; safe to call any number of times."""
        self._closed = True
        await asyncio.gather(*(connection.close() for connection in self._connections))

    async def list_tools(self, run_context: Any = None, agent: Any = None) -> list[Tool]:
        """The server's tools, fetched once and then served from the cache."""
        if self._tools is None:
            async with self._tools_lock:
                if self._tools is None:
                    self._tools = await self._request(_list_all_tools, "the tool listing")
        # The cached objects themselves: the Agents SDK calls this on every model step, a deep
        # copy of six tools costs ~0.5 ms of CPU, and the SDK copies an input schema itself
        # before adapting it.
        return list(self._tools.tools)

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        """Call a tool on an idle connection; a result with is_error comes back as-is."""

        with observed_tool_call(tool_name, meta) as observed:
            # One id for every attempt: a resend is the same call to the server.
            observed.meta[CALL_ID_META_KEY] = uuid.uuid4().hex
            # RequestParamsMeta is a TypedDict open to extra keys; a plain dict is its
            # runtime form.
            sent = cast(RequestParamsMeta, observed.meta)

            async def call(client: Client) -> CallToolResult:
                return await client.call_tool(tool_name, arguments, meta=sent)

            result = await self._request(call, f"the call to {tool_name}")
            # A refusal's code reaches our agents' readers, who see only an error's text.
            return as_model_output(tool_name, observed.answered(result))

    async def ping(self, within: float = 2.0) -> bool:
        """Whether the server completes an MCP handshake within `within` seconds; never raises."""
        # A throwaway session, so a failing probe can never break a connection a call is using.
        try:
            async with asyncio.timeout(within), self._open_client(None):
                return True
        except Exception as exc:
            logger.info("MCP ping to %s failed: %s", self.url, reason(exc))
            return False

    async def list_prompts(self) -> ListPromptsResult:
        """The task server offers no prompts."""
        return ListPromptsResult(prompts=[])

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None
    ) -> GetPromptResult:
        """The task server offers no prompts, so every name is unknown."""
        raise MCPPoolError(f"The task server offers no prompts, so there is no prompt {name!r}.")

    @asynccontextmanager
    async def _open_client(self, connection: Connection | None) -> AsyncIterator[Client]:
        """A connected mcp Client on a fresh HTTP client of its own."""

        async def remember_status(response: httpx2.Response) -> None:
            if connection is not None:
                connection.last_status = response.status_code

        hooks: dict[str, list[Callable[..., Awaitable[None]]]] = {"response": [remember_status]}
        if tracing.enabled():
            hooks["request"] = [_trace_context_as_headers]
        http = httpx2.AsyncClient(
            verify=self._ssl, headers=self._headers, timeout=self._http_timeout, event_hooks=hooks
        )
        transport = streamable_http_client(self.url, http_client=http)
        client = Client(transport, cache=None, read_timeout_seconds=self._timeout)
        async with http, client:
            yield client

    async def _request(self, send: Callable[[Client], Awaitable[T]], what: str) -> T:
        """Run `send` on an idle connection, rebuilding it and resending while that helps."""
        self._check_open()
        connection = await self._idle.borrow()
        POOL_IN_USE.inc()
        broke: Resend | None = None  # the first attempt that may have reached the server
        try:
            self._check_open()  # cleanup() may have run while this caller queued
            # Right after a request spent the whole budget on a dead server, queued callers
            # try once each instead of waiting out the budget one after another.
            budget = 0.0 if time.monotonic() < self._fail_fast_until else self._retry_for
            retrying = AsyncRetrying(
                retry=retry_if_exception_type(Resend),
                wait=wait_random_exponential(multiplier=0.05, max=0.5),
                stop=stop_before_delay(budget),
                before_sleep=lambda state: _log_resend(what, state),
                reraise=True,
            )
            async for attempt in retrying:
                with attempt:
                    try:
                        return await self._send_once(connection, send, what)
                    except Resend as exc:
                        if exc.maybe_ran:
                            broke = broke or exc
                        raise
        except Resend as exc:
            self._fail_fast_until = time.monotonic() + self._retry_for
            if broke is not None:
                raise MCPCallBroke(
                    f"The connection to the task server at {self.url} broke during {what} "
                    f"({reason(broke.cause)}); it may or may not have run."
                ) from broke.cause
            raise MCPUnavailable(
                f"The task server at {self.url} is not reachable ({reason(exc.cause)})."
            ) from exc.cause
        finally:
            POOL_IN_USE.dec()
            self._idle.give_back(connection)
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _check_open(self) -> None:
        if self._closed:
            raise MCPPoolError("The MCP connection pool is closed; call connect() to reopen it.")

    async def _send_once(
        self,
        connection: Connection,
        send: Callable[[Client], Awaitable[T]],
        what: str,
    ) -> T:
        try:
            client = await connection.client()
        except Exception as exc:
            # Opening is a handshake with no side effects, so only a server's own "no" is final.
            answer = server_answer(exc)
            if answer is not None:
                raise self._rejected(connection, what, answer) from exc
            raise Resend(exc, maybe_ran=False) from exc
        self._share_tool_listing(connection, client)
        try:
            return await send(client)
        except MCPError as exc:
            raise await self._failed(connection, what, exc) from exc

    async def _failed(self, connection: Connection, what: str, exc: MCPError) -> Exception:
        """Turn an MCP error from a request into the exception the caller should see."""
        if exc.code == CONNECTION_CLOSED:
            failure = await connection.failure_after_exit()
            if failure is None:
                return Resend(exc, maybe_ran=True)
            return Resend(failure, maybe_ran=not never_sent(failure))
        if exc.code == REQUEST_TIMEOUT:
            # Not resent: the call may still be running, and the user has waited long enough.
            return MCPTimeout(
                f"The task server at {self.url} did not answer {what} within {self._timeout:g} s."
            )
        if connection.last_status in GATEWAY_FAILURES:
            await connection.close()  # the next attempt opens a new one, to any instance
            return Resend(exc, maybe_ran=True)
        if connection.last_status is not None and connection.last_status >= HTTPStatus.BAD_REQUEST:
            # An HTTP-level refusal can mean the server forgot our session (a stateful server
            # that restarted answers 404), so the next request starts with a fresh handshake.
            await connection.close()
        return self._rejected(connection, what, exc)

    def _rejected(self, connection: Connection, what: str, answer: MCPError) -> MCPPoolError:
        """A readable error for a request the server answered with a refusal."""
        status = connection.last_status
        http = (
            f" (HTTP {status})" if status is not None and status >= HTTPStatus.BAD_REQUEST else ""
        )
        return MCPPoolError(
            f"The task server at {self.url} rejected {what}{http}: {answer.error.message}"
        )

    def _share_tool_listing(self, connection: Connection, client: Client) -> None:
        """Hand the cached tool list to a session that has not seen it yet.

        mcp 2.x validates each result against the tool's output schema and lists the tools
        itself when it has none, once per session; feeding it the cached list keeps the
        server at one tools/list for the whole pool. The hook is private, so without it the
        sessions simply list for themselves.

        The copy it gets has no output schemas, so results are not checked again here: the
        SDK checks with jsonschema in pure Python, ~9 ms of CPU on the event loop for a page
        of 50 tasks (more than the whole call otherwise costs), and the task server builds
        every result in exactly its published shape. Agents still see the full schemas
        through list_tools().
        """
        listing = self._tools
        if listing is None or connection.absorbed is listing:
            return
        unchecked = listing.model_copy(deep=True)
        for tool in unchecked.tools:
            tool.output_schema = None
        absorb_tool_listing(client, unchecked)
        connection.absorbed = listing


async def _trace_context_as_headers(request: httpx2.Request) -> None:
    """Copy the trace context the mcp SDK put in the message's `_meta` into HTTP headers.

    The SDK sends from its transport's own task, which does not run in the caller's
    context, so the context is read from the message rather than from the current span.
    """
    if b'"traceparent"' not in request.content:
        return
    try:
        message = json.loads(request.content)
        meta = message["params"]["_meta"]
    except (ValueError, KeyError, TypeError):
        return
    if isinstance(meta, dict):
        request.headers.update(tracing.context_headers(meta))


def _log_resend(what: str, state: RetryCallState) -> None:
    """Say when a request that may have reached the server is about to be sent again."""
    failure = state.outcome.exception() if state.outcome is not None else None
    if isinstance(failure, Resend) and failure.maybe_ran:
        logger.info("%s was cut off (%s); sending it again", what, reason(failure.cause))


async def _list_all_tools(client: Client) -> ListToolsResult:
    """Every page of the server's tool list, as one result."""
    tools: list[Tool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return ListToolsResult(tools=tools)
