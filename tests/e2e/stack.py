"""Both taskchat processes started for real, and a small synchronous ChatKit client for tests."""

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from testbed.servers import Server, free_port, start_server
from testbed.sse import sse_json

SECRET = "e2e-secret-that-is-long-enough-for-hs256"
SERVICE_TOKEN = "e2e-service-token-of-32-characters-or-more"


@dataclass
class Stack:
    """An MCP server and a chat server sharing one database."""

    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    mcp: Server | None = None
    chat: Server | None = None
    log_dir: Path | None = None
    """When set, each process writes its output to mcp.log / chat.log in this folder."""
    clients: list["ChatKit"] = field(default_factory=list)
    """Every client() made, closed by stop(): an open one leaks its sockets."""

    @property
    def chat_url(self) -> str:
        """The running chat server's base URL."""
        assert self.chat is not None, "the chat server is not running"
        return self.chat.base_url

    @property
    def mcp_env(self) -> dict[str, str]:
        return {**self.env, "DATABASE_URL": self.database_url}

    def start_mcp(self, port: int | None = None) -> None:
        port = port or (self.mcp.port if self.mcp else free_port())
        env = {**self.mcp_env, "MCP_PORT": str(port)}
        self.mcp = self._start("mcp_server", env, port)

    def start_chat(self) -> None:
        assert self.mcp is not None
        port = self.chat.port if self.chat else free_port()
        env = {
            **self.mcp_env,
            "CHAT_PORT": str(port),
            "MCP_SERVER_URL": f"http://127.0.0.1:{self.mcp.port}/mcp",
        }
        self.chat = self._start("chat_server", env, port)

    def _start(self, module: str, env: dict[str, str], port: int) -> Server:
        if self.log_dir is None:
            return start_server(module, env, port)
        name = module.removesuffix("_server")
        # The child has its own copy of the file descriptor once it runs.
        with open(self.log_dir / f"{name}.log", "ab") as log:
            return start_server(module, env, port, log=log)

    def stop(self) -> None:
        for client in self.clients:
            client.http.close()
        self.clients.clear()
        for server in (self.chat, self.mcp):
            if server is not None:
                server.stop()

    def client(self, token: str | None = None, timezone: str | None = None) -> "ChatKit":
        assert self.chat is not None
        client = ChatKit(self.chat.base_url, token, timezone)
        self.clients.append(client)
        return client


@contextmanager
def running_stack(database_url: str, *, log_dir: Path | None = None, **env: str) -> Iterator[Stack]:
    """Start the MCP server then the chat server; stop both afterwards."""
    defaults = {"TASKCHAT_MODEL": "offline", "TASKCHAT_TIMEZONE": "UTC"}
    stack = Stack(database_url, {**defaults, **env}, log_dir=log_dir)
    try:
        stack.start_mcp()
        stack.start_chat()
        yield stack
    finally:
        stack.stop()


def user_input(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


@dataclass
class Turn:
    """What one streamed request produced."""

    events: list[dict[str, Any]]

    @property
    def thread_id(self) -> str:
        return next(e["thread"]["id"] for e in self.events if e["type"] == "thread.created")

    @property
    def items(self) -> list[dict[str, Any]]:
        return [e["item"] for e in self.events if e["type"] == "thread.item.done"]

    @property
    def reply(self) -> str:
        texts = [
            part["text"]
            for item in self.items
            if item["type"] == "assistant_message"
            for part in item["content"]
        ]
        return "\n".join(texts)

    @property
    def tools(self) -> list[str]:
        return [
            task["title"]
            for item in self.items
            if item["type"] == "workflow"
            for task in item["workflow"]["tasks"]
        ]


class ChatKit:
    """Speaks ChatKit JSON to a running chat server, as the ChatKit UI does."""

    def __init__(
        self, base_url: str, token: str | None = None, timezone: str | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if timezone:
            headers["X-Timezone"] = timezone  # as the pages send the browser's zone
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        # Closed when this client is dropped, so a test that forgets leaks no socket (with
        # filterwarnings = error, the ResourceWarning would fail whichever test ran next).
        weakref.finalize(self, self.http.close)

    def post(self, request: dict[str, Any]) -> httpx.Response:
        return self.http.post("/chatkit", json=request)

    def stream(self, request: dict[str, Any]) -> Turn:
        response = self.post(request)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_json(response.text)
        assert not [e for e in events if e["type"] == "error"], events
        return Turn(events)

    def create(self, text: str) -> Turn:
        return self.stream({"type": "threads.create", "params": {"input": user_input(text)}})

    def say(self, thread_id: str, text: str) -> Turn:
        return self.stream(
            {
                "type": "threads.add_user_message",
                "params": {"thread_id": thread_id, "input": user_input(text)},
            }
        )

    def items(self, thread_id: str) -> list[dict[str, Any]]:
        response = self.post(
            {"type": "items.list", "params": {"thread_id": thread_id, "order": "asc", "limit": 100}}
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def threads(self) -> list[dict[str, Any]]:
        response = self.post({"type": "threads.list", "params": {"order": "desc"}})
        assert response.status_code == 200, response.text
        return response.json()["data"]
