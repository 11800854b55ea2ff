"""`python -m bench.stock_chatkit`: a stock ChatKit server, built the way the official samples are.

An in-memory store, no auth, a ChatKitServer subclass whose respond() runs the same agent
(the offline model, tools from the same MCP server through the same pool) through
`stream_agent_response`, and a FastAPI route that hands the raw body to `server.process()`.
The chat-turn benchmark runs the same no-tool turn here and on taskchat's chat server.
Tracing is off in both, so neither spends time building spans nobody reads.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from agents import RunConfig, Runner
from chatkit.agents import AgentContext, simple_to_agent_input, stream_agent_response
from chatkit.server import ChatKitServer, StreamingResult
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    Attachment,
    Page,
    ThreadItem,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
)
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from chat_server.agent.agent import build_agent
from chat_server.agent.offline import OfflineModel
from chat_server.agent.pool import MCPPool
from shared.contract import USER_META_KEY
from shared.settings import get_chat_settings

Context = dict[str, Any]
HISTORY_ITEMS = 40  # as many as taskchat's server loads


class MemoryStore(Store[Context]):
    """Threads and items in dicts; one process, no users."""

    def __init__(self) -> None:
        self.threads: dict[str, ThreadMetadata] = {}
        self.items: dict[str, list[ThreadItem]] = {}
        self.attachments: dict[str, Attachment] = {}

    async def load_thread(self, thread_id: str, context: Context) -> ThreadMetadata:
        if thread_id not in self.threads:
            raise NotFoundError(f"thread {thread_id} not found")
        return self.threads[thread_id].model_copy()

    async def save_thread(self, thread: ThreadMetadata, context: Context) -> None:
        self.threads[thread.id] = ThreadMetadata(**thread.model_dump(exclude={"items"}))
        self.items.setdefault(thread.id, [])

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: Context
    ) -> Page[ThreadMetadata]:
        threads = sorted(self.threads.values(), key=lambda t: t.created_at)
        return _page(threads[::-1] if order == "desc" else threads, limit, after)

    async def delete_thread(self, thread_id: str, context: Context) -> None:
        self.threads.pop(thread_id, None)
        self.items.pop(thread_id, None)

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: Context
    ) -> Page[ThreadItem]:
        items = self.items.get(thread_id, [])
        return _page(items[::-1] if order == "desc" else list(items), limit, after)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: Context) -> None:
        self.items.setdefault(thread_id, []).append(item)

    async def save_item(self, thread_id: str, item: ThreadItem, context: Context) -> None:
        items = self.items.setdefault(thread_id, [])
        for index, existing in enumerate(items):
            if existing.id == item.id:
                items[index] = item
                return
        items.append(item)

    async def load_item(self, thread_id: str, item_id: str, context: Context) -> ThreadItem:
        for item in self.items.get(thread_id, []):
            if item.id == item_id:
                return item
        raise NotFoundError(f"item {item_id} not found")

    async def delete_thread_item(self, thread_id: str, item_id: str, context: Context) -> None:
        items = self.items.get(thread_id, [])
        self.items[thread_id] = [item for item in items if item.id != item_id]

    async def save_attachment(self, attachment: Attachment, context: Context) -> None:
        self.attachments[attachment.id] = attachment

    async def load_attachment(self, attachment_id: str, context: Context) -> Attachment:
        if attachment_id not in self.attachments:
            raise NotFoundError(f"attachment {attachment_id} not found")
        return self.attachments[attachment_id]

    async def delete_attachment(self, attachment_id: str, context: Context) -> None:
        self.attachments.pop(attachment_id, None)


def _page(rows: list[Any], limit: int, after: str | None) -> Page[Any]:
    start = 0
    if after is not None:
        start = next((i + 1 for i, row in enumerate(rows) if row.id == after), len(rows))
    data = rows[start : start + limit]
    has_more = start + limit < len(rows)
    return Page(data=data, has_more=has_more, after=data[-1].id if has_more and data else None)


class StockServer(ChatKitServer[Context]):
    """Runs the agent for each user message, as the samples do."""

    def __init__(self, store: MemoryStore, agent: Any) -> None:
        super().__init__(store)
        self.agent = agent

    async def respond(
        self, thread: ThreadMetadata, input_user_message: UserMessageItem | None, context: Context
    ) -> AsyncIterator[ThreadStreamEvent]:
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        page = await self.store.load_thread_items(thread.id, None, HISTORY_ITEMS, "desc", context)
        agent_input = await simple_to_agent_input(page.data[::-1])
        result = Runner.run_streamed(
            self.agent,
            agent_input,
            context=agent_context,
            run_config=RunConfig(tracing_disabled=True),
        )
        async for event in stream_agent_response(agent_context, result):
            yield event


def create_stock_app() -> FastAPI:
    """The FastAPI app: POST /chatkit straight into `server.process()`, GET /healthz."""
    settings = get_chat_settings()
    headers = {}
    if settings.mcp_service_token:
        headers["Authorization"] = f"Bearer {settings.mcp_service_token}"
    pool = MCPPool(settings.mcp_server_url, size=settings.mcp_pool_size, headers=headers)
    pool.tool_meta_resolver = lambda _ctx: {USER_META_KEY: "stock"}
    agent = build_agent(OfflineModel(timezone=settings.taskchat_timezone), pool)
    server = StockServer(MemoryStore(), agent)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await pool.connect()
        yield
        await pool.cleanup()

    app = FastAPI(lifespan=lifespan)

    @app.post("/chatkit")
    async def chatkit(request: Request) -> Response:
        result = await server.process(await request.body(), {})
        if isinstance(result, StreamingResult):
            return StreamingResponse(result, media_type="text/event-stream")
        return Response(content=result.json, media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    """Serve the stock server on 127.0.0.1:PORT, with uvicorn set up like taskchat's."""
    port = get_chat_settings().chat_port
    uvicorn.run(create_stock_app(), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
