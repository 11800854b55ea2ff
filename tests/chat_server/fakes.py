"""In-process stand-ins for the unit layer: an MCP server that records what it is asked."""

import json
from typing import Any, cast

from agents.mcp import MCPServer
from mcp import Tool as MCPTool
from mcp.types import CallToolResult, GetPromptResult, ListPromptsResult, TextContent

from shared.auth import Principal
from shared.contract import ErrorCode, TaskDict, ToolFailure, as_model_output, error_result

TASK_TOOLS = ["add_task", "list_tasks", "get_task", "update_task", "complete_task", "delete_task"]


class FakeTaskServer(MCPServer):
    """Answers task tool calls from a dict per user; raises `fail_with` when set."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(failure_error_function=None, **kwargs)
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        self.tasks: dict[str, list[dict[str, Any]]] = {}
        self.fail_with: Exception | None = None
        self.up = True

    @property
    def name(self) -> str:
        return "fake-tasks"

    async def connect(self) -> None:
        pass

    async def cleanup(self) -> None:
        pass

    async def ping(self) -> bool:
        return self.up

    async def list_tools(self, run_context: Any = None, agent: Any = None) -> list[MCPTool]:
        schema = {"type": "object", "properties": {}, "additionalProperties": True}
        return [MCPTool(name=name, input_schema=schema) for name in TASK_TOOLS]

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        self.calls.append((tool_name, arguments or {}, meta))
        if self.fail_with is not None:
            raise self.fail_with
        user = (meta or {}).get("taskchat/user_id", "?")
        tasks = self.tasks.setdefault(user, [])
        args = arguments or {}
        if tool_name == "add_task":
            task = make_task(len(tasks) + 1, args["title"])
            tasks.append(task)
            return tool_result(
                {
                    "task_id": task["id"],
                    "status": "created",
                    "title": task["title"],
                    "task": task,
                    "next_task": None,
                }
            )
        if tool_name == "list_tasks":
            return tool_result({"tasks": tasks, "next_cursor": None})
        if tool_name == "get_task":
            found = [t for t in tasks if t["id"] == args.get("task_id")]
            if not found:
                return not_found("get_task", args["task_id"])
            return tool_result(found[0])
        raise AssertionError(f"unexpected tool {tool_name}")

    async def list_prompts(self) -> ListPromptsResult:
        return ListPromptsResult(prompts=[])

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None
    ) -> GetPromptResult:
        raise KeyError(name)


def not_found(tool: str, task_id: int) -> CallToolResult:
    """A refusal as the pool hands it on: the server's error result, read for the model."""
    failure = ToolFailure(tool, f"Task {task_id} not found", ErrorCode.NOT_FOUND, task_id=task_id)
    return as_model_output(tool, error_result(failure))


def make_task(task_id: int, title: str, **fields: Any) -> TaskDict:
    """A task as the tools return it, with `fields` in place of the defaults."""
    return cast(TaskDict, {
        "id": task_id, "title": title, "description": None, "completed": False,
        "completed_at": None, "priority": "medium", "tags": [], "due": None,
        "recurrence": "none", "created_at": "2025-06-01T08:00:00Z",
        "updated_at": "2025-06-01T08:00:00Z",
    } | fields)


class TaskMCP(MCPServer):
    """Task tools over a dict of tasks, each owned by one user, answering as the real server."""

    def __init__(self) -> None:
        super().__init__(failure_error_function=None)
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        self.owners: dict[int, str] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.trash: dict[int, tuple[str, dict[str, Any]]] = {}  # deleted: (owner, task)
        self.down: Exception | None = None

    def own(self, user: Principal, task: dict[str, Any]) -> dict[str, Any]:
        self.owners[task["id"]] = user.user_id
        self.tasks[task["id"]] = task
        return task

    @property
    def name(self) -> str:
        return "tasks"

    async def connect(self) -> None:
        pass

    async def cleanup(self) -> None:
        pass

    async def list_tools(self, run_context: Any = None, agent: Any = None) -> list[MCPTool]:
        schema = {"type": "object", "properties": {}, "additionalProperties": True}
        return [MCPTool(name="add_task", input_schema=schema)]

    async def list_prompts(self) -> ListPromptsResult:
        return ListPromptsResult(prompts=[])

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None
                         ) -> GetPromptResult:
        raise KeyError(name)

    async def call_tool(self, tool_name: str, arguments: dict[str, Any] | None,
                        meta: dict[str, Any] | None = None) -> CallToolResult:
        self.calls.append((tool_name, dict(arguments or {}), meta))
        if self.down is not None:
            raise self.down
        args = arguments or {}
        user = (meta or {}).get("taskchat/user_id")
        if tool_name == "add_task":
            task = self.own(Principal(user or "?"), make_task(len(self.tasks) + 1, args["title"]))
            return tool_result({"task_id": task["id"], "status": "created", "title": task["title"],
                        "task": dict(task), "next_task": None})
        task_id = args["task_id"]
        if tool_name == "restore_task":
            if self.trash.get(task_id, ("",))[0] != user:
                return not_found(tool_name, task_id)
            owner, task = self.trash.pop(task_id)
            self.own(Principal(owner), task)
            return tool_result({"task_id": task_id, "status": "created", "title": task["title"],
                                "task": dict(task), "next_task": None})
        if self.owners.get(task_id) != user:
            return not_found(tool_name, task_id)
        task = self.tasks[task_id]
        if tool_name == "complete_task":
            task["completed"] = args.get("completed", True)
            status = "completed" if task["completed"] else "reopened"
        elif tool_name == "delete_task":
            self.trash[task_id] = (self.owners[task_id], task)
            del self.tasks[task_id], self.owners[task_id]
            status = "deleted"
        else:
            raise AssertionError(f"unexpected tool {tool_name}")
        return tool_result({"task_id": task_id, "status": status, "title": task["title"],
                    "task": dict(task), "next_task": None})


def tool_result(data: dict[str, Any]) -> CallToolResult:
    """A successful tool result as the MCP server sends it: JSON text plus structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(data))], structured_content=data
    )
