"""Build the MCP task server and its HTTP app (streamable HTTP at /mcp, plus /healthz)."""

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

import anyio
from mcp.server.caching import CacheableMethod, CacheHint
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import X_MCP_HEADER_KEY
from mcp.types import INVALID_PARAMS, GetPromptResult, InputRequiredResult
from mcp_types import (
    CompleteRequestParams,
    DiscoverResult,
    RequestParams,
    SubscriptionsListenRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp_server.apps import APP_TOOL, app_meta, icons, task_app
from mcp_server.auth import CallerIdentity, TaskchatTokenVerifier
from mcp_server.changes import ChangeFeed, ChangeListener
from mcp_server.edge import auth_settings, protect, resource_metadata_url
from mcp_server.listing import CursorSecret
from mcp_server.metrics import add_metrics_route
from mcp_server.prompts import add_prompts
from mcp_server.resources import TaskResources
from mcp_server.scheduler import Scheduler
from mcp_server.scopes import guard_scopes, scoped_tool_list
from mcp_server.sdk_compat import ServerRequestContext, answer_by_revision, lowlevel
from mcp_server.tools import TaskTools, build_tools
from shared.db import make_engine, one_connection, run_db
from shared.limits import BodyLimit, clipped
from shared.migrate import TASKS, upgrade
from shared.observability import observe
from shared.ratelimit import RateLimiter
from shared.settings import LOOPBACK_HOSTS, McpSettings, get_mcp_settings

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
HEALTH_TIMEOUT_SECONDS = 5
# The lists are the same for every call until the server is upgraded: clients may keep
# them this long (milliseconds). Private: tools/list depends on the token's scopes.
LIST_TTL_MS = 10 * 60 * 1000
CACHED_LISTS: tuple[CacheableMethod, ...] = (
    "tools/list", "prompts/list", "resources/list", "resources/templates/list"
)
INSTRUCTIONS = (
    "Task list tools. Every call acts for the authenticated user; ids belong to that user. "
    "Dates: ISO 8601, either a plain date (2025-03-10) or a date-time with a zone "
    "(2025-03-10T17:00:00Z). Page through list_tasks with next_cursor."
)


class TaskServer(MCPServer):
    """The SDK's server, answering a prompt it does not have as the caller's mistake.

    The SDK raises a bare ValueError for an unknown prompt name, which reaches the client as
    "Internal server error" and the log as an ERROR with a traceback, at any client's will.
    """

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[Any, Any] | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        """The prompt, or MCP's invalid-params error (-32602) for a name it does not have."""
        if name not in {prompt.name for prompt in await self.list_prompts()}:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt: {clipped(name)}")
        return await super().get_prompt(name, arguments, context)


def build_server(
    settings: McpSettings, engine: Engine, verifier: TaskchatTokenVerifier | None = None
) -> MCPServer:
    """The MCP server with every task tool, resource and prompt; bearer tokens unless in
    local mode."""

    # Read once per process, after the upgrade that makes its table.
    cursors = CursorSecret(settings.cursor_secret)
    identity = CallerIdentity(settings)
    limiter = RateLimiter(settings.mcp_rate_limit, settings.rate_limit_storage_url, scope="mcp")
    feed = ChangeFeed(engine, settings.database_url)

    @asynccontextmanager
    async def migrate_first(_server: MCPServer) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(upgrade, engine, TASKS)
        await anyio.to_thread.run_sync(cursors.load, engine)
        async with anyio.create_task_group() as group:
            group.start_soon(feed.run)  # idle until a client listens for changes
            # Reminders and digests: every process runs a scheduler; claims keep each once.
            # Not on an in-memory database: it is one connection shared by every thread,
            # and a scheduler's claim would open a second transaction on it beside a write.
            if settings.reminder_interval_seconds and not one_connection(engine):
                group.start_soon(Scheduler(engine, settings).run)
            yield
            group.cancel_scope.cancel()

    auth: dict[str, object] = {}
    if not settings.mcp_local_mode:
        auth = {
            "token_verifier": verifier or TaskchatTokenVerifier(settings),
            "auth": auth_settings(settings),
        }
    tools = build_tools(engine, identity, limiter, cursors)
    for tool in tools:
        tool.icons = icons()
        if tool.name == APP_TOOL:
            tool.meta = {**(tool.meta or {}), **app_meta()}
    server: MCPServer = TaskServer(
        "taskchat",
        title="taskchat tasks",
        version=version("taskchat"),
        icons=icons(),
        instructions=INSTRUCTIONS,
        tools=tools,
        extensions=[task_app()],
        lifespan=migrate_first,
        log_level="WARNING",
        cache_hints=dict.fromkeys(CACHED_LISTS, CacheHint(ttl_ms=LIST_TTL_MS, scope="private")),
        # Served below, over each caller's own changes.
        subscriptions=False,
        **auth,  # type: ignore[arg-type]
    )
    reader = TaskResources(TaskTools(engine, identity, limiter, cursors))
    reader.register(server)
    add_prompts(server)
    low = lowlevel(server)
    low.add_request_handler("completion/complete", CompleteRequestParams, reader.complete)
    low.add_request_handler(
        "subscriptions/listen", SubscriptionsListenRequestParams, ChangeListener(feed, identity)
    )
    low.add_request_handler("server/discover", RequestParams, _discover(low))
    server.middleware.append(scoped_tool_list)
    low.get_tool_input_schema = _header_schemas(tools)

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(_request: Request) -> JSONResponse:
        """200 when the database answers, else 503."""
        try:
            with anyio.fail_after(HEALTH_TIMEOUT_SECONDS):
                await run_db(engine, lambda session: session.execute(text("SELECT 1")))
        except Exception as exc:
            log.warning("health check failed: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok"})

    add_metrics_route(server, settings.metrics_token, required=settings.metrics_need_token)
    return server


def _header_schemas(tools: list[Tool]) -> Callable[[str], Mapping[str, Any] | None]:
    """The input schema the SDK checks a call's Mcp-Param-* headers against, for the tools
    that declare such headers (none of ours do): the check walks the whole schema twice on
    every call (4% of a list_tasks call), and on a schema without `x-mcp-header` it never
    rejects anything, so skipping it changes no answer."""
    # A schema merely mentioning the key keeps its check: the safe side.
    declared = {
        tool.name: tool.parameters
        for tool in tools
        if X_MCP_HEADER_KEY in json.dumps(tool.parameters)
    }
    return declared.get


def _discover(low: Server[Any]) -> Callable[..., Awaitable[DiscoverResult]]:
    """server/discover: the capabilities initialize gives, plus resource subscriptions,
    which exist at the 2026-07-28 revision only (changes.py)."""

    async def discover(
        _ctx: ServerRequestContext[Any, Any], _params: RequestParams
    ) -> DiscoverResult:
        capabilities = low.get_capabilities()  # as initialize derives them
        assert capabilities.resources is not None
        capabilities.resources.subscribe = True
        return DiscoverResult(
            supported_versions=list(MODERN_PROTOCOL_VERSIONS),
            capabilities=capabilities,
            instructions=low.instructions,
        )

    return discover


def transport_security(settings: McpSettings) -> TransportSecuritySettings:
    """DNS-rebinding protection: loopback names, MCP_HOST and MCP_ALLOWED_HOSTS only."""
    loopback = [f"[{name}]" if ":" in name else name for name in LOOPBACK_HOSTS]
    names = [*loopback, *settings.mcp_allowed_hosts]
    if settings.mcp_host not in ("0.0.0.0", "::", ""):
        names.append(f"[{settings.mcp_host}]" if ":" in settings.mcp_host else settings.mcp_host)
    hosts, origins = [], []
    for name in dict.fromkeys(names):
        # An entry with a port ("tasks.example.com:8443") is taken as it is.
        has_port = name.rsplit("]", 1)[-1].count(":") == 1
        hosts += [name] if has_port else [name, f"{name}:*"]
        for scheme in ("http", "https"):
            origins += (
                [f"{scheme}://{name}"]
                if has_port
                else [f"{scheme}://{name}", f"{scheme}://{name}:*"]
            )
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[*origins, *settings.mcp_cors_origins],
    )


def build_app(settings: McpSettings, engine: Engine) -> Starlette:
    """The ASGI app: stateless streamable HTTP with JSON responses at /mcp, and /healthz."""
    verifier = None if settings.mcp_local_mode else TaskchatTokenVerifier(settings)
    server = build_server(settings, engine, verifier)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(settings),
        max_request_body_size=settings.max_body_bytes,
    )
    answer_by_revision(server.session_manager)
    protect(app, settings, verifier)
    if settings.oauth_issuer and verifier is not None:
        guard_scopes(app, verifier, MCP_PATH, resource_metadata_url(settings))
    observe(app, "mcp", settings)
    # Outermost, before the bearer check: the SDK's own limit (above) only counts a body
    # once the token has been checked.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, jsonrpc=True)
    return app


def app_from_environment() -> Starlette:
    """The app as `python -m mcp_server` serves it, built once in each worker process."""
    settings = get_mcp_settings()
    return build_app(settings, make_engine(settings.database_url))
