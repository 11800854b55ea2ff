"""A stand-in load balancer for the pool tests, run as `python -m tests.chat_server.gateway_proxy`.

It passes every request on to GATEWAY_UPSTREAM, except that it answers the first
GATEWAY_FAILS tool calls with 502 Bad Gateway after the upstream has run them: what HAProxy
answers when the instance it chose dies before its answer arrives. GET /proxy-stats says
how many tool calls it passed on and their `_meta` call ids.
"""

import json
import os

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

UPSTREAM = os.environ.get("GATEWAY_UPSTREAM", "")
FAILS = int(os.environ.get("GATEWAY_FAILS", "1"))
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "host",
}

call_ids: list[str | None] = []


async def forward(request: Request) -> Response:
    """Pass the request on; a tool call among the first FAILS gets a 502 instead of its answer."""
    body = await request.body()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    async with httpx.AsyncClient(base_url=UPSTREAM, timeout=30) as client:
        answer = await client.request(
            request.method, request.url.path, content=body, headers=headers
        )
    message = json.loads(body) if body.startswith(b"{") else {}
    if message.get("method") == "tools/call":
        call_ids.append((message["params"].get("_meta") or {}).get("taskchat/call_id"))
        if len(call_ids) <= FAILS:
            return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 502,
                            media_type="text/html")  # fmt: skip
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
    return Response(answer.content, answer.status_code, headers=kept)


async def stats(_request: Request) -> JSONResponse:
    return JSONResponse({"tool_calls": len(call_ids), "call_ids": call_ids})


app = Starlette(
    routes=[
        Route("/proxy-stats", stats),
        Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"]),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["GATEWAY_PORT"]), log_level="warning")
