"""The chat server's optional features, imported on their first request.

The tasks panel (with the offline grammar for quick add), reminders and channels, the
calendar feed with import and export (icalendar), CalDAV (Radicale) and OIDC sign-in cost
about 25 MiB per process and seconds of start-up on a busy machine, and a server that only
answers /chatkit never runs them. Each feature stands in the routing table as a placeholder
that claims the feature's paths; the first request there imports the feature, adds its
real routes and is routed again, and from then on the placeholder matches nothing.

The paths the middleware must know before any feature is loaded live here too.
"""

import asyncio
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import FastAPI
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

IMPORT_PATH = "/api/import"
# An import file's bound (the edge's body limit for this one path): a Todoist or TickTick
# backup of 10,000 tasks is well under it.
IMPORT_MAX_BYTES = 5_000_000
CALDAV_PREFIX = "/caldav"
CALDAV_WELL_KNOWN = "/.well-known/caldav"


@dataclass(frozen=True)
class Feature:
    """A group of routes: the modules that define them and the paths they serve."""

    name: str
    modules: Sequence[str]
    paths: Sequence[str]
    # Called on the event loop once the modules are imported: adds the routes to the app.
    install: Callable[[FastAPI], None]


def _include(module: str) -> Callable[[FastAPI], None]:
    def install(app: FastAPI) -> None:
        app.include_router(importlib.import_module(module).router)

    return install


def _install_transfer(app: FastAPI) -> None:
    _include("chat_server.web.calendar")(app)
    _include("chat_server.web.transfer")(app)


# CalDAV's modules are named, not imported: they read this module's paths themselves.
CALDAV_SERVER = "chat_server.caldav.server"


def _install_caldav(app: FastAPI) -> None:
    _include("chat_server.caldav.routes")(app)
    server = importlib.import_module(CALDAV_SERVER)
    server.mount(app)
    if hasattr(app.state, "engine"):  # the lifespan ran: Radicale can be made now
        server.start(app, engine=app.state.engine, mcp=app.state.mcp)
    else:
        app.state.caldav_pending = True


def start_loaded(app: FastAPI) -> None:
    """In the lifespan: start what features loaded before it need (CalDAV's Radicale)."""
    if getattr(app.state, "caldav_pending", False):
        server = importlib.import_module(CALDAV_SERVER)
        server.start(app, engine=app.state.engine, mcp=app.state.mcp)
        app.state.caldav_pending = False


FEATURES = (
    Feature(
        "panel",
        ["chat_server.web.panel"],
        ["/api/tasks", "/api/lists"],
        _include("chat_server.web.panel"),
    ),
    Feature(
        "channels",
        ["chat_server.web.channels"],
        [
            "/api/channels",
            "/api/push",
            "/api/digest",
            "/api/reminders",
            "/api/tasks",
            "/reminder",
            "/manifest.webmanifest",
            "/sw.js",
        ],
        _include("chat_server.web.channels"),
    ),
    Feature(
        "transfer",
        ["chat_server.web.calendar", "chat_server.web.transfer"],
        ["/api/calendar-feed", "/calendar", IMPORT_PATH, "/api/export"],
        _install_transfer,
    ),
    Feature(
        "caldav",
        ["chat_server.caldav.routes", "chat_server.caldav.server"],
        [CALDAV_PREFIX, CALDAV_WELL_KNOWN, "/api/app-passwords"],
        _install_caldav,
    ),
    Feature("signin", ["chat_server.web.signin"], ["/auth"], _include("chat_server.web.signin")),
)


class LazyFeature(BaseRoute):
    """Claims a feature's paths until its first request has loaded it."""

    def __init__(self, app: FastAPI, feature: Feature) -> None:
        self.app = app
        self.feature = feature
        self.loaded = False
        self._loading = asyncio.Lock()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FULL for a path of the feature while it is not loaded, else NONE."""
        if self.loaded or scope["type"] != "http":
            return Match.NONE, {}
        path = scope["path"]
        for prefix in self.feature.paths:
            if path == prefix or path.startswith(prefix + "/"):
                return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        """A placeholder has no name of its own."""
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Load the feature (once, whoever asks first), then route the request again."""
        async with self._loading:
            if not self.loaded:
                # Importing takes the event loop's thread for up to a second otherwise.
                for module in self.feature.modules:
                    await anyio.to_thread.run_sync(importlib.import_module, module)
                load(self.app, self)
        await self.app.router(scope, receive, send)


def load(app: FastAPI, placeholder: LazyFeature) -> None:
    """Put the feature's routes where its placeholder stood (or last, if it stood nowhere).

    In its place, so that another feature's placeholder claiming the same prefix (the
    panel's /api/tasks and a reminder's /api/tasks/{id}/snooze) never sees these paths.
    """
    routes = app.router.routes
    count = len(routes)
    placeholder.feature.install(app)
    added = routes[count:]
    del routes[count:]
    where = routes.index(placeholder) if placeholder in routes else len(routes)
    routes[where : where + 1] = added
    placeholder.loaded = True


def add_features(app: FastAPI, *, now: bool = False) -> None:
    """Every optional feature: loaded now (when the API docs must list them) or on demand."""
    for feature in FEATURES:
        placeholder = LazyFeature(app, feature)
        if now:
            load(app, placeholder)
        else:
            app.router.routes.append(placeholder)
