"""A scripted OpenAI-compatible Chat Completions server for end-to-end tests, on 127.0.0.1.

Tests enqueue steps with POST /_script ({"text": "..."} or {"tool_calls": [{"name", "arguments"}]})
and read what the chat server sent with GET /_requests. /v1/chat/completions streams each
step the way OpenAI does, so the real `openai` client and the Agents SDK parse it.
"""

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

script: list[dict[str, Any]] = []
requests: list[dict[str, Any]] = []


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def _stream(step: dict[str, Any]) -> Iterator[str]:
    yield _chunk({"role": "assistant", "content": ""})
    if "tool_calls" in step:
        for index, call in enumerate(step["tool_calls"]):
            arguments = json.dumps(call["arguments"])
            yield _chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": f"call_{time.time_ns()}",
                            "type": "function",
                            "function": {"name": call["name"], "arguments": ""},
                        }
                    ]
                }
            )
            for start in range(0, len(arguments), 8):
                yield _chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "function": {"arguments": arguments[start : start + 8]},
                            }
                        ]
                    }
                )
        yield _chunk({}, "tool_calls")
    else:
        for word in step["text"].split(" "):
            yield _chunk({"content": word + " "})
        yield _chunk({}, "stop")
    yield "data: [DONE]\n\n"


async def completions(request: Request) -> Response:
    body = await request.json()
    requests.append(body)
    if not script:
        return JSONResponse({"error": {"message": "script is empty"}}, 500)
    step = script.pop(0)
    if "status" in step:
        return JSONResponse(
            {"error": {"message": step.get("text", "scripted failure")}}, step["status"]
        )
    return StreamingResponse(_stream(step), media_type="text/event-stream")


async def enqueue(request: Request) -> Response:
    script.extend(await request.json())
    return JSONResponse({"queued": len(script)})


async def recorded(_request: Request) -> Response:
    return JSONResponse(requests)


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/v1/chat/completions", completions, methods=["POST"]),
        Route("/_script", enqueue, methods=["POST"]),
        Route("/_requests", recorded),
        Route("/healthz", healthz),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
