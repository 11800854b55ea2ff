"""The page's task endpoints (quick add, checkbox, delete) against both real servers."""

import httpx
import pytest

from tests.e2e.stack import running_stack

pytestmark = pytest.mark.e2e


def test_quick_add_complete_reopen_and_delete_through_the_json_api(database_url: str) -> None:
    with running_stack(database_url) as stack:
        assert stack.chat is not None
        http = httpx.Client(base_url=stack.chat.base_url, timeout=30)
        added = http.post("/api/tasks", json={"title": "Buy milk", "due": "2030-01-02T09:00:00Z"})
        assert added.status_code == 200, added.text
        task_id = added.json()["task_id"]
        assert (added.json()["status"], added.json()["task"]["due"]) == (
            "created", "2030-01-02T09:00:00Z")

        done = http.post(f"/api/tasks/{task_id}/complete", json={"completed": True})
        assert (done.status_code, done.json()["status"]) == (200, "completed")
        reopened = http.post(f"/api/tasks/{task_id}/complete", json={"completed": False})
        assert (reopened.status_code, reopened.json()["status"]) == (200, "reopened")
        checked = http.post(f"/api/tasks/{task_id}/complete", json={})  # done unless told
        assert (checked.status_code, checked.json()["status"]) == (200, "completed")

        deleted = http.request("DELETE", f"/api/tasks/{task_id}",
                               headers={"Content-Type": "application/json"})
        assert (deleted.status_code, deleted.json()["status"]) == (200, "deleted")
        assert http.get("/api/tasks").json()["tasks"] == []


def test_task_api_mistakes_get_clear_4xx_answers(sqlite_url: str) -> None:
    with running_stack(sqlite_url) as stack:
        assert stack.chat is not None
        http = httpx.Client(base_url=stack.chat.base_url, timeout=30)
        missing = http.post("/api/tasks/999/complete", json={"completed": True})
        assert missing.status_code == 404
        assert missing.json() == {"error": "not_found", "message": "Task 999 not found"}

        blank = http.post("/api/tasks", json={"title": "  "})
        assert blank.status_code == 400
        assert blank.json()["error"] == "invalid_task"
        assert "title" in blank.json()["message"]

        bad_due = http.post("/api/tasks", json={"title": "x", "due": "someday"})
        assert (bad_due.status_code, bad_due.json()["error"]) == (400, "invalid_task")

        assert http.post("/api/tasks", json={"title": "x", "owner": "bob"}).status_code == 422
        # The edge's rule holds here too: a form post cannot add a task.
        form = http.post("/api/tasks", data={"title": "x"})
        assert form.status_code == 415
