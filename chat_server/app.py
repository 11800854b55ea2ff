"""The chat backend's FastAPI app: the ChatKit endpoint, health checks and the process lifespan."""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from http import HTTPStatus
from typing import Any

import anyio
from agents.mcp import MCPServer
from agents.models.interface import Model
from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import ChatKitReq
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_server.agent.agent import build_agent, build_model, user_meta
from chat_server.agent.pool import MCPPool
from chat_server.agent.zones import HEADER, REQUEST_ZONE, local_zone, zone_from_header
from chat_server.conversation.errors import DatabaseUnavailable
from chat_server.conversation.server import TaskChatServer
from chat_server.conversation.store import SQLStore
from chat_server.conversation.turns import turn_locks_for
from chat_server.features import (
    CALDAV_PREFIX,
    CALDAV_WELL_KNOWN,
    IMPORT_MAX_BYTES,
    IMPORT_PATH,
    add_features,
    start_loaded,
)
from chat_server.metrics import metrics_router
from chat_server.sdk_compat import quiet_chatkit_merge_noise
from chat_server.web import events, page
from chat_server.web.deps import ChatServerDep, RateLimitedUser, SettingsDep
from chat_server.web.edge import EdgeGuard, HostGuard, allowed_host_names
from chat_server.web.events import EventHub
from chat_server.web.protocol import (
    RequestError,
    check_input,
    check_ownership,
    parse_request,
    problems,
)
from shared.db import make_engine, run_db
from shared.limits import BodyLimit
from shared.observability import REQUEST_ID_HEADER, observe
from shared.ratelimit import RateLimiter
from shared.settings import ChatSettings, get_chat_settings
from shared.startup import StartupError

log = logging.getLogger(__name__)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# Requests that change no thread: the user's other pages need not hear of them.
READ_ONLY_REQUESTS = frozenset(
    {"threads.get_by_id", "threads.list", "items.list", "items.feedback", "input.transcribe"}
)


def check_settings(settings: ChatSettings) -> None:
    """Refuse configurations that would fail later (raises StartupError)."""
    if not settings.local_mode and not settings.mcp_service_token:
        raise StartupError(
            "MCP_SERVICE_TOKEN",
            "is needed when JWT_SECRET is set: the chat server calls the MCP server with it on "
            "behalf of its users; set the same value on both processes",
        )


def app_from_environment() -> FastAPI:
    """The app as `python -m chat_server` serves it, built once in each worker process.

    Logging is already set up: uvicorn applies the entry point's log config in each worker.
    """
    # main() brought the schema up to date before any worker started, in a child process,
    # so that the serving processes never import Alembic (about 11 MiB each).
    return create_app(get_chat_settings(), migrate=False)


def error_body(code: str, message: str) -> dict[str, str]:
    """The JSON shape of every error this app returns."""
    return {"error": code, "message": message}


def create_app(
    settings: ChatSettings | None = None,
    *,
    model: Model | None = None,
    mcp_server: MCPServer | None = None,
    migrate: bool = True,
) -> FastAPI:
    """Build the app; tests may pass their own model or MCP server in place of the defaults.

    With `migrate` its lifespan brings the chat tables up to date first.
    """
    settings = settings or get_chat_settings()
    check_settings(settings)
    quiet_chatkit_merge_noise()
    docs = settings.chat_api_docs
    app = FastAPI(
        title="taskchat",
        lifespan=_lifespan(settings, model, mcp_server, migrate=migrate),
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    _add_middleware(app, settings)
    for kind, handler in _ERROR_HANDLERS.items():
        app.add_exception_handler(kind, handler)
    app.post("/chatkit")(chatkit)
    app.include_router(page.router)
    app.include_router(events.router)
    app.include_router(metrics_router(settings.metrics_token, required=settings.metrics_need_token))
    # The page's files unhashed, with ETags so a reload revalidates (the app page itself
    # takes them from /assets/<version>/, kept for a year: chat_server/web/assets.py).
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")
    app.get("/healthz")(healthz)
    app.get("/readyz")(readyz)
    # The panel, reminders, calendar, import/export, CalDAV and sign-in: imported on their
    # first request (chat_server/features.py), or now when the API docs must list them.
    add_features(app, now=docs)
    return app


def _lifespan(
    settings: ChatSettings, model: Model | None, mcp_server: MCPServer | None, *, migrate: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The process's lifespan: the database, the MCP pool, the agent and the event hub."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        if migrate:
            from shared.migrate import CHAT, upgrade  # noqa: PLC0415 (see app_from_environment)

            await anyio.to_thread.run_sync(upgrade, engine, CHAT)
        headers = {}
        if settings.mcp_service_token:
            headers["Authorization"] = f"Bearer {settings.mcp_service_token}"
        pool = mcp_server or MCPPool(
            settings.mcp_server_url,
            size=settings.mcp_pool_size,
            headers=headers,
            timeout=settings.mcp_timeout_seconds,
        )
        # Whatever serves the tools, every call carries the authenticated user, never a
        # value the model chose.
        pool.tool_meta_resolver = user_meta
        # The Agents SDK leaves MCPServer.connect and .cleanup unannotated.
        await pool.connect()  # type: ignore[no-untyped-call]
        default_zone = local_zone(settings.taskchat_timezone)
        agent = build_agent(model or build_model(settings), pool, default_zone)
        app.state.engine = engine
        app.state.mcp = pool
        start_loaded(app)
        turn_locks = turn_locks_for(settings.database_url)
        store = SQLStore(engine)
        app.state.chat_server = TaskChatServer(store, agent, pool, turn_locks)
        app.state.event_hub = EventHub(engine, settings.database_url)
        await app.state.event_hub.start()
        app.state.rate_limiter = RateLimiter(
            settings.rate_limit, settings.rate_limit_storage_url, scope="chat"
        )
        log.info("chat server ready: model=%s mcp=%s", settings.model_name, settings.mcp_server_url)
        try:
            yield
        finally:
            await app.state.event_hub.stop()
            if turn_locks is not None:
                await turn_locks.close()
            await pool.cleanup()  # type: ignore[no-untyped-call]
            store.close()
            engine.dispose()

    return lifespan


def _add_middleware(app: FastAPI, settings: ChatSettings) -> None:
    """The middleware stack, innermost first."""
    # Added before CORS so that it runs inside it: its refusals then carry CORS headers for
    # allowed origins, whose scripts can read why.
    app.add_middleware(
        EdgeGuard,
        cors_origins=settings.cors_origins,
        cors_origin_regex=settings.cors_origin_regex,
        session_cookie="" if settings.local_mode else settings.session_cookie_name,
        multipart_paths={IMPORT_PATH},
        dav_prefixes=(CALDAV_PREFIX, CALDAV_WELL_KNOWN),
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_origin_regex=settings.cors_origin_regex,
        allow_credentials=True,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", HEADER],
        expose_headers=["Retry-After", REQUEST_ID_HEADER],
    )
    app.add_middleware(
        HostGuard,
        allowed_hosts=allowed_host_names(settings.chat_host, settings.chat_allowed_hosts),
    )
    observe(app, "chat", settings)
    app.add_middleware(NoStore)
    # The page, JSON answers and /static compress to about a quarter; event streams
    # (text/event-stream) are left alone, and /assets brings its own gzipped bytes.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    # Outermost: nothing (authentication and FastAPI's body parsing included) reads a body
    # this refuses.
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        path_limits={IMPORT_PATH: IMPORT_MAX_BYTES},
    )


async def http_error(_request: Request, exc: Exception) -> Response:
    """Starlette's HTTP errors (404, 405, ...) in this app's error shape."""
    assert isinstance(exc, StarletteHTTPException)
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)


async def invalid_request(_request: Request, exc: Exception) -> Response:
    """422 naming each problem, without quoting the input."""
    assert isinstance(exc, RequestValidationError)
    # FastAPI's own answer quotes each bad input whole (a 50 MB title came back whole).
    return JSONResponse(error_body("invalid_request", problems(exc.errors())), 422)


async def request_error(_request: Request, exc: Exception) -> Response:
    """A refused ChatKit request, with its own code and status."""
    assert isinstance(exc, RequestError)
    return JSONResponse(error_body(exc.code, exc.message), exc.status)


async def database_unavailable(_request: Request, exc: Exception) -> Response:
    """503 while the chat database cannot be reached."""
    assert isinstance(exc, DatabaseUnavailable)
    return JSONResponse(error_body("database_unavailable", exc.message), 503)


async def not_found(_request: Request, exc: Exception) -> Response:
    """404 for a thread or item that vanished between our ownership check and chatkit's use."""
    return JSONResponse(error_body("not_found", str(exc) or "not found"), 404)


_ERROR_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
    StarletteHTTPException: http_error,
    RequestValidationError: invalid_request,
    RequestError: request_error,
    DatabaseUnavailable: database_unavailable,
    NotFoundError: not_found,
}


async def chatkit(
    request: Request, user: RateLimitedUser, server: ChatServerDep, settings: SettingsDep
) -> Response:
    """POST /chatkit: one ChatKit request for the authenticated user."""
    # An unknown or malformed zone is ignored: the fallback zone answers instead.
    REQUEST_ZONE.set(zone_from_header(request.headers.get(HEADER)))
    # Whole and within MAX_BODY_BYTES: BodyLimit read it before this app ran.
    body = await request.body()
    chatkit_request = parse_request(body)
    check_input(chatkit_request, settings.max_message_chars)
    await check_ownership(chatkit_request, server.store, user)
    result = await server.handle(chatkit_request, user)
    changed = partial(_tell_other_pages, request.app.state.event_hub, user.user_id, chatkit_request)
    if isinstance(result, StreamingResult):
        return await _started_stream(result, changed)
    changed()
    return Response(result.json, media_type="application/json")


def _tell_other_pages(hub: EventHub, user_id: str, chatkit_request: ChatKitReq) -> None:
    """Tell the user's open pages that a thread changed, unless the request only read."""
    if chatkit_request.type not in READ_ONLY_REQUESTS:
        hub.thread_changed(user_id, getattr(chatkit_request.params, "thread_id", None))


async def healthz(request: Request) -> JSONResponse:
    """200 when this instance's database answers (SELECT 1 in a worker thread), else 503.

    The task server is left to /readyz: one task server down should not take every chat
    instance out of a load balancer, which could then not even say so.
    """
    if not await _database_ok(request.app.state.engine):
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """200 when both the database and the task server answer, else 503 naming which did not."""
    checks = {
        "database": await _database_ok(request.app.state.engine),
        "mcp": await request.app.state.mcp.ping(),
    }
    status = 200 if all(checks.values()) else 503
    body: dict[str, Any] = {k: "ok" if ok else "unavailable" for k, ok in checks.items()}
    return JSONResponse(body, status)


async def _started_stream(result: StreamingResult, done: Callable[[], None]) -> StreamingResponse:
    """The stream as a response, once its first event is made; `done()` once it ends.

    chatkit saves the thread or the user message before the first event; if that fails,
    the error handlers can still answer with a status and a message, which they cannot
    once a 200 has been sent.
    """
    events = aiter(result)
    try:
        first = await anext(events)
    except StopAsyncIteration:
        first = b""

    async def replay() -> AsyncIterator[bytes]:
        try:
            yield first
            async for event in events:
                yield event
        finally:
            # Even a turn cut short saved its user message: the other pages should see it.
            done()

    return StreamingResponse(replay(), media_type="text/event-stream", headers=SSE_HEADERS)


class NoStore:
    """ASGI middleware: `Cache-Control: no-store` on answers of /chatkit and /api/*.

    They hold a signed-in user's threads and tasks, which no browser or proxy cache may keep;
    a route that sets its own Cache-Control (the event streams' no-cache) keeps it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/chatkit" or path.startswith("/api/")):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_no_store)


async def _database_ok(engine: Any) -> bool:
    try:
        await run_db(engine, lambda session: session.execute(text("select 1")))
    except Exception as exc:
        log.warning("database check failed: %r", exc)
        return False
    return True
