"""A scripted OpenAI Responses API server for end-to-end tests, on 127.0.0.1.

Tests enqueue steps with POST /_script: {"text": "..."}, {"tool_calls": [{"name",
"arguments"}]}, {"status": 500} (an HTTP error) or {"error_event": "..."} (an `error`
event in the stream), and read what the chat server sent with GET /_requests.
POST /v1/responses streams each step as the real API does: response.created, then per
output item output_item.added, text or argument deltas in small pieces, the .done events
and output_item.done, then response.completed carrying the whole output. Nothing is kept
between requests: function call outputs must come back in the next request's input.
"""

import json
import time
from collections.abc import Iterator
from typing import Any

from tests.e2e.scripted_api import scripted_app, serve

PIECE = 7  # characters per argument delta


def _ids(prefix: str) -> str:
    return f"{prefix}_{time.time_ns()}"


def _response(status: str, output: list[dict[str, Any]], model: str) -> dict[str, Any]:
    return {
        "id": _ids("resp"), "object": "response", "created_at": int(time.time()),
        "status": status, "model": model, "output": output, "tool_choice": "auto",
        "tools": [], "parallel_tool_calls": True, "error": None, "incomplete_details": None,
        "instructions": None, "metadata": {}, "temperature": 1.0, "top_p": 1.0, "usage": None,
    }  # fmt: skip


def _events(step: dict[str, Any], model: str) -> Iterator[dict[str, Any]]:
    yield {"type": "response.created", "response": _response("in_progress", [], model)}
    if "error_event" in step:
        yield {"type": "error", "code": "server_error", "message": step["error_event"],
               "param": None}  # fmt: skip
        return
    output: list[dict[str, Any]] = []
    for index, call in enumerate(step.get("tool_calls", [])):
        arguments = json.dumps(call["arguments"])
        item = {"type": "function_call", "id": _ids("fc"), "call_id": _ids("call"),
                "name": call["name"], "arguments": "", "status": "in_progress"}  # fmt: skip
        at = {"item_id": item["id"], "output_index": index}
        yield {"type": "response.output_item.added", "output_index": index, "item": item}
        for start in range(0, len(arguments), PIECE):
            delta = arguments[start : start + PIECE]
            yield {"type": "response.function_call_arguments.delta", "delta": delta, **at}
        yield {"type": "response.function_call_arguments.done", "arguments": arguments,
               "name": call["name"], **at}  # fmt: skip
        item = {**item, "arguments": arguments, "status": "completed"}
        yield {"type": "response.output_item.done", "output_index": index, "item": item}
        output.append(item)
    if "text" in step:
        index = len(output)
        message = {"type": "message", "id": _ids("msg"), "role": "assistant",
                   "status": "in_progress", "content": []}  # fmt: skip
        at = {"item_id": message["id"], "output_index": index, "content_index": 0}
        empty = {"type": "output_text", "text": "", "annotations": []}
        yield {"type": "response.output_item.added", "output_index": index, "item": message}
        yield {"type": "response.content_part.added", "part": empty, **at}
        words = step["text"].split(" ")
        for number, word in enumerate(words):
            delta = word if number == len(words) - 1 else word + " "
            yield {"type": "response.output_text.delta", "delta": delta, "logprobs": [], **at}
        yield {"type": "response.output_text.done", "text": step["text"], "logprobs": [], **at}
        part = {**empty, "text": step["text"]}
        yield {"type": "response.content_part.done", "part": part, **at}
        message = {**message, "status": "completed", "content": [part]}
        yield {"type": "response.output_item.done", "output_index": index, "item": message}
        output.append(message)
    yield {"type": "response.completed", "response": _response("completed", output, model)}


def _sse(step: dict[str, Any], model: str) -> Iterator[str]:
    for number, event in enumerate(_events(step, model)):
        event["sequence_number"] = number
        yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"


app = scripted_app(
    "/v1/responses", lambda step, body: _sse(step, body.get("model", "")), "server_error"
)

if __name__ == "__main__":
    serve(app)
