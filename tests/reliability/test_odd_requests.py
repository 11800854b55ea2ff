"""Odd but well-formed ChatKit requests, and clients that hang up mid-upload, against real servers.

Each gets a 4xx JSON error (never a 500 or a broken stream), changes nothing, and leaves no
traceback in the chat server's log; the thread and the server go on working.
"""

import socket

import pytest

from tests.chat_server.test_odd_requests import ACTION, ODD_REQUESTS
from tests.e2e.stack import ChatKit
from tests.reliability.conftest import LoggedServer
from tests.reliability.harness import fresh_user, token

pytestmark = pytest.mark.timeout(180)

ABORTED_UPLOADS = 200


def test_odd_chatkit_requests_get_a_4xx_and_the_thread_still_works(
    logged_chat: LoggedServer,
) -> None:
    chat = ChatKit(logged_chat.server.base_url, token(fresh_user("odd")))
    thread = chat.create("add buy milk").thread_id
    before = chat.items(thread)
    first = {item["type"]: item["id"] for item in reversed(before)}
    ids = {"thread": thread, "user": first["user_message"], "assistant": first["assistant_message"]}
    cases = {
        name: (make(ids), status, body(ids)) for name, (make, status, body) in ODD_REQUESTS.items()
    }
    cases["sync custom action on a task widget"] = (
        {
            "type": "threads.sync_custom_action",
            "params": {"thread_id": thread, "item_id": first["widget"], "action": ACTION},
        },
        400,
        {"error": "unsupported", "message": "threads.sync_custom_action is not supported here"},
    )
    for name, (request, status, body) in cases.items():
        response = chat.post(request)
        assert response.status_code == status, (name, response.text[:300])
        assert response.json() == body, name
        assert chat.items(thread) == before, name
    assert chat.say(thread, "show my tasks").reply.startswith("You have 1 task")
    chat.http.close()
    log = logged_chat.stop_and_read_log()
    assert "Traceback" not in log, log[-3000:]


def hang_up_mid_body(port: int, bearer: str) -> None:
    """Send a request's headers and part of the body its Content-Length promises, then close."""
    head = (
        f"POST /chatkit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {bearer}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode() + b'{"type": "threads.create", "params": {"inp')


def test_clients_that_hang_up_mid_upload_leave_no_traceback(logged_chat: LoggedServer) -> None:
    user = token(fresh_user("hangup"))
    for _ in range(ABORTED_UPLOADS):
        hang_up_mid_body(logged_chat.server.port, user)
    chat = ChatKit(logged_chat.server.base_url, user)
    assert chat.threads() == []
    chat.http.close()
    log = logged_chat.stop_and_read_log()
    assert "Traceback" not in log, log[-3000:]
    assert "ClientDisconnect" not in log, log[-3000:]
