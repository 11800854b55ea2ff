"""What every scripted model server for the end-to-end tests shares, on 127.0.0.1.

Tests enqueue steps with POST /_script and read what the chat server sent with
GET /_requests; each server only says how it streams one step at its API's path.
A step with "status" answers that HTTP error instead of streaming.
"""

import sys
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Step = dict[str, Any]
Stream = Callable[[Step, dict[str, Any]], Iterator[str]]


def scripted_app(path: str, stream: Stream, error_type: str | None = None) -> Starlette:
    """An app that answers POST `path` by streaming the next scripted step with `stream`."""
    script: list[Step] = []
    requests: list[dict[str, Any]] = []

    async def answer(request: Request) -> Response:
        body = await request.json()
        requests.append(body)
        if not script:
            return JSONResponse({"error": {"message": "script is empty"}}, 500)
        step = script.pop(0)
        if "status" in step:
            error = {"message": step.get("text", "scripted failure")}
            if error_type:
                error["type"] = error_type
            return JSONResponse({"error": error}, step["status"])
        return StreamingResponse(stream(step, body), media_type="text/event-stream")

    async def enqueue(request: Request) -> Response:
        script.extend(await request.json())
        return JSONResponse({"queued": len(script)})

    async def recorded(_request: Request) -> Response:
        return JSONResponse(requests)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route(path, answer, methods=["POST"]),
            Route("/_script", enqueue, methods=["POST"]),
            Route("/_requests", recorded),
            Route("/healthz", healthz),
        ]
    )


def serve(app: Starlette) -> None:
    """Serve on 127.0.0.1 at the port given as the first command-line argument."""
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
