"""Radicale as the CalDAV engine, mounted in the chat server at `/caldav/`.

Radicale (a maintained CalDAV server) speaks WebDAV, CalDAV, ETag preconditions and
sync-collection; we give it our storage (chat_server/caldav/storage.py) and an
authentication that checks app passwords, never the JWT secret or a session cookie.
Radicale is a WSGI app: `a2wsgi` runs it in worker threads under our ASGI app, which keeps
the event loop free while a request waits for the task server.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from radicale import auth, config
from radicale.app import Application
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from chat_server.caldav import tables
from chat_server.caldav.storage import OUTAGE, Backend, TaskStorage
from chat_server.features import CALDAV_PREFIX, CALDAV_WELL_KNOWN

log = logging.getLogger(__name__)

PREFIX = CALDAV_PREFIX
WELL_KNOWN = CALDAV_WELL_KNOWN
REALM = "taskchat CalDAV (app password)"
# Radicale requests served at once by one process; each holds a thread while it waits.
WORKERS = 8
# The largest item or request body Radicale reads (a task is a few kilobytes).
MAX_CONTENT_BYTES = 1_000_000


class AppPasswordAuth(auth.BaseAuth):
    """Signs a client in by one of the user's app passwords."""

    def __init__(self, configuration: Any, engine: Engine) -> None:
        super().__init__(configuration)
        self._engine = engine

    def _login(self, login: str, password: str) -> str:
        if not login or not password:
            return ""
        with Session(self._engine) as session:
            known = tables.password_owner(session, user_id=login, password=password)
        return login if known else ""


class Plugin:
    """A Radicale plugin made by us, with a name for Radicale's log lines."""

    def __init__(self, name: str, make: Callable[[Any], Any]) -> None:
        self.name, self.make = name, make

    def __call__(self, configuration: Any) -> Any:
        return self.make(configuration)

    def __repr__(self) -> str:
        return self.name


def answering_outages(app: WSGIApplication) -> Any:
    """Radicale answering 503 (not its 500) when the task server could not be reached."""

    def answer(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        OUTAGE.hit = False
        started: list[Any] = []

        def remember(*args: Any) -> Callable[[bytes], object]:
            started.append(args)
            return lambda _data: None

        body = list(app(environ, remember))
        if OUTAGE.hit:
            headers = [("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "30")]
            start_response("503 Service Unavailable", headers)
            return [b"The task server is unavailable; try again shortly."]
        start_response(*started[0])
        return body

    return answer


def radicale_app(backend: Backend) -> WSGIMiddleware:
    """Radicale with our storage and authentication, as an ASGI app."""
    configuration = config.load()
    configuration.update(
        {
            "auth": {
                "type": Plugin("app-password", lambda conf: AppPasswordAuth(conf, backend.engine)),
                "realm": REALM,
            },
            "rights": {"type": "owner_only", "permit_delete_collection": "False"},
            "storage": {"type": Plugin("task-tools", lambda conf: TaskStorage(conf, backend))},
            "web": {"type": "none"},
            # One task is at most 80% of a request, as Radicale caps it (said, not warned).
            "server": {
                "max_content_length": str(MAX_CONTENT_BYTES),
                "max_resource_size": str(MAX_CONTENT_BYTES * 4 // 5),
            },
        },
        "taskchat",
    )
    return WSGIMiddleware(answering_outages(Application(configuration)), workers=WORKERS)


def start(app: FastAPI, *, engine: Engine, mcp: Any) -> None:
    """Make the process's Radicale (called in the lifespan, on the serving event loop)."""
    app.state.caldav = radicale_app(Backend(engine, mcp, asyncio.get_running_loop()))


async def caldav(scope: Scope, receive: Receive, send: Send) -> None:
    """The mounted CalDAV app: the process's Radicale, once the lifespan made it."""
    served = getattr(scope["app"].state, "caldav", None)
    if served is None:
        unavailable = {"error": "unavailable", "message": "CalDAV is starting"}
        await JSONResponse(unavailable, 503)(scope, receive, send)
        return
    await served(scope, receive, send)


async def well_known() -> RedirectResponse:
    """RFC 6764 discovery: clients given only the host find the CalDAV root."""
    return RedirectResponse(f"{PREFIX}/", status_code=301)


def mount(app: FastAPI) -> None:
    """Serve CalDAV at PREFIX and its discovery address."""
    app.add_api_route(
        WELL_KNOWN, well_known, methods=["GET", "HEAD", "PROPFIND"], include_in_schema=False
    )
    app.mount(PREFIX, caldav, name="caldav")
