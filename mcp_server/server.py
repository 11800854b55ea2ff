"""Build the MCP task server and its HTTP app (streamable HTTP at /mcp, plus /healthz)."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, GetPromptResult, InputRequiredResult
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp_server.auth import CallerIdentity, TaskchatTokenVerifier
from mcp_server.edge import auth_settings, protect, resource_metadata_url
from mcp_server.listing import CursorSecret
from mcp_server.metrics import add_metrics_route
from mcp_server.scheduler import Scheduler
from mcp_server.scopes import guard_scopes, scoped_tool_list
from mcp_server.tools import build_tools
from shared.db import make_engine, one_connection, run_db
from shared.limits import BodyLimit, clipped
from shared.migrate import TASKS, upgrade
from shared.observability import observe
from shared.ratelimit import RateLimiter
from shared.settings import LOOPBACK_HOSTS, McpSettings, get_mcp_settings

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
HEALTH_TIMEOUT_SECONDS = 5
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
    """The MCP server with every task tool; bearer tokens unless in local mode."""

    # Read once per process, after the upgrade that makes its table.
    cursors = CursorSecret(settings.cursor_secret)

    @asynccontextmanager
    async def migrate_first(_server: MCPServer) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(upgrade, engine, TASKS)
        await anyio.to_thread.run_sync(cursors.load, engine)
        if not settings.reminder_interval_seconds or one_connection(engine):
            # An in-memory database is one connection shared by every thread: a scheduler's
            # claim would open a second transaction on it beside a tool's write.
            yield
            return
        # Reminders and digests: every process runs a scheduler; claims keep each once.
        async with anyio.create_task_group() as group:
            group.start_soon(Scheduler(engine, settings).run)
            yield
            group.cancel_scope.cancel()

    auth: dict[str, object] = {}
    if not settings.mcp_local_mode:
        auth = {
            "token_verifier": verifier or TaskchatTokenVerifier(settings),
            "auth": auth_settings(settings),
        }
    server: MCPServer = TaskServer(
        "taskchat",
        title="taskchat tasks",
        instructions=INSTRUCTIONS,
        tools=build_tools(
            engine,
            CallerIdentity(settings),
            RateLimiter(settings.mcp_rate_limit, settings.rate_limit_storage_url, scope="mcp"),
            cursors,
        ),
        lifespan=migrate_first,
        log_level="WARNING",
        **auth,  # type: ignore[arg-type]
    )
    server.middleware.append(scoped_tool_list)

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
    app = build_server(settings, engine, verifier).streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(settings),
        max_request_body_size=settings.max_body_bytes,
    )
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
