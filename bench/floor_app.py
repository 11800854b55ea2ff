"""The floor for tool calls: the MCP tools' database work behind two plain JSON routes.

Each route does what the tool does, minus MCP: validate the body with the tool's own input
model, run the mcp_server/tasks.py function in a worker thread for the local user (a write
through calls.apply, which commits it, as the tool's does), and encode the result with
pydantic-core. `python -m bench.floor_app` serves it on PORT with uvicorn
and no access log, as the MCP server runs.
"""

from typing import Any

import pydantic_core
import uvicorn
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import mcp_server.models  # noqa: F401  (registers the Task table)
from mcp_server import calls, tasks
from mcp_server.inputs import AddTaskInput, ListTasksInput
from shared.db import make_engine, run_db
from shared.migrate import upgrade_all
from shared.settings import get_chat_settings


def build_floor_app(engine: Engine, user_id: str = "local") -> Starlette:
    """POST /list and /add (bodies: list_tasks / add_task arguments), and GET /healthz."""

    def answer(result: Any) -> Response:
        return Response(pydantic_core.to_json(result), media_type="application/json")

    async def list_route(request: Request) -> Response:
        args = ListTasksInput.model_validate_json(await request.body())
        query = tasks.TaskQuery(**dict(args))
        return answer(await run_db(engine, tasks.list_tasks, user_id=user_id, query=query))

    async def add_route(request: Request) -> Response:
        args = AddTaskInput.model_validate_json(await request.body())
        data = tasks.NewTask(**dict(args))
        # Committed as the tool commits it: a write left uncommitted is rolled back when its
        # session closes, and the floor would do less than the work it stands for.
        return answer(
            await run_db(
                engine, calls.apply, tasks.add_task, user_id=user_id, call_id=None, data=data
            )
        )

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/list", list_route, methods=["POST"]),
            Route("/add", add_route, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


def main() -> None:
    """Serve the floor app on 127.0.0.1:PORT against DATABASE_URL."""
    settings = get_chat_settings()
    engine = make_engine(settings.database_url)
    upgrade_all(engine)
    app = build_floor_app(engine)
    uvicorn.run(app, host="127.0.0.1", port=settings.chat_port, log_level="warning")


if __name__ == "__main__":
    main()
