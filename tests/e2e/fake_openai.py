"""A scripted OpenAI-compatible Chat Completions server for end-to-end tests, on 127.0.0.1.

Tests enqueue steps with POST /_script ({"text": "..."} or {"tool_calls": [{"name", "arguments"}]})
and read what the chat server sent with GET /_requests. /v1/chat/completions streams each
step the way OpenAI does, so the real `openai` client and the Agents SDK parse it.
"""

import json
import time
from collections.abc import Iterator
from typing import Any

from tests.e2e.scripted_api import scripted_app, serve


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


app = scripted_app("/v1/chat/completions", lambda step, _body: _stream(step))

if __name__ == "__main__":
    serve(app)
