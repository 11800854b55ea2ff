"""Change subscriptions: an MCP client hears when the caller's tasks change.

At the 2026-07-28 revision a client sends `subscriptions/listen` naming the resources it
follows (`task://7`, `list://all`); the answer is a stream that stays open and carries
`notifications/resources/updated` for each change. The changes come from the same
cross-instance feed as the chat page's live updates (shared/events.py: every write on any
instance is published there), and each stream hears only its own user's.

The 2025-11-25 revision's `resources/subscribe` is not offered: its notifications travel
on the session's standing GET stream, which a stateless server does not have (and a
stateful one would bind each client to one instance). Capabilities say so per revision.
"""

import logging
from collections.abc import Callable
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.server.subscriptions import ListenHandler, ResourceUpdated, ServerEvent
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST, SubscriptionsListenRequestParams, SubscriptionsListenResult
from sqlalchemy.engine import Engine

from mcp_server.auth import CallerIdentity
from mcp_server.errors import Refused
from mcp_server.links import changed_uris
from mcp_server.oauth import READ_SCOPE
from mcp_server.sdk_compat import ServerRequestContext
from shared import events
from shared.events import TaskEvent

log = logging.getLogger(__name__)

STREAMS_PER_USER = 20  # per process, as the chat page's live streams
BUFFERED_EVENTS = 256

Listener = Callable[[ServerEvent], None]


class ChangeFeed:
    """Hands every published task change to the listen streams of the user it belongs to.

    It reads the feed only once someone listens, so a server nobody subscribes to never
    polls for changes."""

    def __init__(self, engine: Engine, database_url: str) -> None:
        self.engine = engine
        self.database_url = database_url
        self._listeners: dict[str, dict[object, Listener]] = {}
        self._wanted = anyio.Event()

    async def run(self) -> None:
        """Follow the feed for as long as the server runs (from the first listener on)."""
        await self._wanted.wait()
        async for user_id, event in events.follow(self.engine, self.database_url):
            self.dispatch(user_id, event)

    def dispatch(self, user_id: str, event: TaskEvent) -> None:
        """Tell each stream of `user_id`, and no one else's, which resources changed."""
        for listener in list(self._listeners.get(user_id, {}).values()):
            for uri in changed_uris(event["task_id"]):
                listener(ResourceUpdated(uri=uri))

    def subscribe(self, user_id: str, listener: Listener) -> Callable[[], None]:
        """Register `listener` for `user_id`'s changes; returns how to unregister it."""
        streams = self._listeners.setdefault(user_id, {})
        if len(streams) >= STREAMS_PER_USER:
            raise MCPError(
                INVALID_REQUEST,
                f"at most {STREAMS_PER_USER} subscription streams per user; close one first",
            )
        token = object()
        streams[token] = listener
        self._wanted.set()

        def unsubscribe() -> None:
            streams.pop(token, None)
            if not streams and self._listeners.get(user_id) is streams:
                del self._listeners[user_id]

        return unsubscribe


class UserChanges:
    """One user's view of the feed, shaped as the SDK's SubscriptionBus."""

    def __init__(self, feed: ChangeFeed, user_id: str) -> None:
        self.feed = feed
        self.user_id = user_id

    async def publish(self, event: ServerEvent) -> None:
        """Nothing: changes reach streams through the shared feed, never from a handler."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear this user's changes."""
        return self.feed.subscribe(self.user_id, listener)


class ChangeListener:
    """The `subscriptions/listen` handler: the SDK's, over the caller's own changes."""

    def __init__(self, feed: ChangeFeed, identity: CallerIdentity) -> None:
        self.feed = feed
        self.identity = identity

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], params: SubscriptionsListenRequestParams
    ) -> SubscriptionsListenResult:
        """Acknowledge, then stream the caller's changes until the client leaves."""
        try:
            user_id = self.identity.user_id(Context(request_context=ctx), READ_SCOPE)
        except Refused as exc:
            raise MCPError(INVALID_REQUEST, str(exc)) from None
        handler = ListenHandler(
            UserChanges(self.feed, user_id),
            max_subscriptions=STREAMS_PER_USER,
            max_buffered_events=BUFFERED_EVENTS,
        )
        return await handler(ctx, params)
