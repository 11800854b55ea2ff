"""An OpenAI-compatible Chat Completions server on 127.0.0.1 that talks slowly when asked.

`python -m tests.reliability.slow_openai PORT`. A last user message containing "slowly" gets
a reply streamed one word every WORD_SECONDS, long enough for a client to leave mid-reply;
any other message gets "Done: <message>" at once. Tools are never called. GET /_activity
tells whether a reply is still streaming, that is, whether the chat server still listens.
"""

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

WORD_SECONDS = 0.2
SLOW_WORDS = 100
# GET /_activity: how many replies are streaming now, and how many words were sent in all.
activity = {"streaming": 0, "words": 0}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-slow",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "slow",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(part.get("text", "") for part in content)
            return str(content)
    return ""


async def _words(text: str) -> AsyncIterator[str]:
    activity["streaming"] += 1
    try:
        yield _chunk({"role": "assistant", "content": ""})
        if "slowly" in text:
            for n in range(SLOW_WORDS):
                yield _chunk({"content": f"word{n} "})
                activity["words"] += 1
                await asyncio.sleep(WORD_SECONDS)
        else:
            yield _chunk({"content": f"Done: {text}"})
        yield _chunk({}, finish="stop")
        yield "data: [DONE]\n\n"
    finally:
        activity["streaming"] -= 1


async def completions(request: Request) -> StreamingResponse | JSONResponse:
    body = await request.json()
    if not body.get("stream"):
        return JSONResponse({"error": {"message": "only streaming is scripted"}}, 400)
    text = _last_user_text(body.get("messages", []))
    return StreamingResponse(_words(text), media_type="text/event-stream")


async def get_activity(_request: Request) -> JSONResponse:
    return JSONResponse(activity)


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/v1/chat/completions", completions, methods=["POST"]),
        Route("/_activity", get_activity),
        Route("/healthz", healthz),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
