"""The HTTP edge's parsing and input checks, without a server."""

import json

import pytest

from chat_server.web.protocol import RequestError, check_input, parse_request


def body(request: dict) -> bytes:
    return json.dumps(request).encode()


def create(text: str, attachments: list[str] | None = None) -> bytes:
    return body(
        {
            "type": "threads.create",
            "params": {
                "input": {
                    "content": [{"type": "input_text", "text": text}],
                    "attachments": attachments or [],
                    "inference_options": {},
                }
            },
        }
    )


def refusal(raw: bytes, max_chars: int = 4000) -> RequestError:
    with pytest.raises(RequestError) as caught:
        check_input(parse_request(raw), max_chars)
    return caught.value


def test_valid_create_request_parses_to_its_type() -> None:
    request = parse_request(create("add buy milk"))
    assert request.type == "threads.create"
    check_input(request, 4000)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "request body is not valid JSON"),
        (b"", "request body is not valid JSON"),
        (b"[]", "request must be a JSON object with a 'type' field"),
        (b'{"params": {}}', "request must be a JSON object with a 'type' field"),
        (b'{"type": "threads.explode", "params": {}}', "unknown request type 'threads.explode'"),
    ],
)
def test_malformed_requests_are_refused_with_a_specific_message(raw, message) -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(raw)
    assert (caught.value.status, caught.value.message) == (400, message)


def test_missing_params_name_the_missing_field() -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(body({"type": "items.list", "params": {}}))
    assert caught.value.status == 400
    assert caught.value.message == "invalid request: params.thread_id: Field required"


def test_empty_message_is_a_400() -> None:
    error = refusal(create("   "))
    assert (error.status, error.code, error.message) == (400, "empty_message", "message is empty")


def test_message_over_the_limit_is_a_413() -> None:
    error = refusal(create("x" * 11), max_chars=10)
    assert (error.status, error.message) == (413, "message is 11 characters; the limit is 10")


def test_message_at_the_limit_is_accepted() -> None:
    check_input(parse_request(create("x" * 10)), 10)


def test_attachments_are_refused() -> None:
    error = refusal(create("hi", attachments=["att_1"]))
    assert (error.status, error.message) == (400, "attachments are not supported")


def test_overlong_title_is_refused() -> None:
    raw = body({"type": "threads.update", "params": {"thread_id": "thr_1", "title": "t" * 201}})
    assert refusal(raw).message == "title is over 200 characters"
