"""The contract's refusals: a code for programs beside a message for people, read back
from the server's `_meta`, from the text our agents see, and from older recorded texts."""

import json

import pytest
from mcp.types import CallToolResult, TextContent

from shared.contract import (
    ErrorCode,
    ToolFailure,
    as_model_output,
    error_result,
    failure_of,
    read_result,
)


def test_an_error_result_keeps_the_sdk_text_and_puts_the_code_in_meta() -> None:
    failure = ToolFailure("get_task", "Task 9 not found", ErrorCode.NOT_FOUND, task_id=9)

    result = error_result(failure)

    assert result.is_error and result.structured_content is None
    assert result.content == [
        TextContent(type="text", text="Error executing tool get_task: Task 9 not found")
    ]
    assert result.meta == {
        "taskchat/error": {"code": "not_found", "message": "Task 9 not found", "task_id": 9}
    }


def test_the_text_our_agents_see_carries_the_code_and_reads_back_the_same() -> None:
    sent = error_result(ToolFailure("complete_task", "Task 4 not found", ErrorCode.NOT_FOUND,
                                    task_id=4))

    shown = as_model_output("complete_task", sent)
    [part] = shown.content
    assert isinstance(part, TextContent)
    assert json.loads(part.text) == {
        "error": {"code": "not_found", "message": "Task 4 not found", "task_id": 4}
    }
    failure = failure_of("complete_task", part.text)
    assert failure is not None
    assert (failure.code, failure.missing_task, failure.reason, failure.reached) == (
        ErrorCode.NOT_FOUND, 4, "Task 4 not found", True
    )


def test_a_successful_result_is_shown_to_agents_unchanged() -> None:
    result = CallToolResult(content=[TextContent(type="text", text="{}")])

    assert as_model_output("get_task", result) is result


@pytest.mark.parametrize(
    ("meta", "code", "task_id"),
    [
        ({"code": "rate_limited", "message": "slow down"}, ErrorCode.RATE_LIMITED, None),
        ({"code": "a_code_from_a_newer_server", "message": "slow down"}, ErrorCode.REFUSED, None),
        ({"code": "not_found", "message": "slow down", "task_id": "9"}, ErrorCode.NOT_FOUND, None),
        ({"code": "not_found", "message": "slow down", "task_id": True}, ErrorCode.NOT_FOUND,
         None),
    ],
)
def test_a_code_is_read_from_meta_and_anything_unknown_is_a_plain_refusal(
    meta: dict[str, object], code: ErrorCode, task_id: int | None
) -> None:
    result = CallToolResult(
        content=[TextContent(type="text", text="Error executing tool get_task: slow down")],
        is_error=True,
        _meta={"taskchat/error": meta},
    )

    with pytest.raises(ToolFailure) as failed:
        read_result("get_task", result)
    assert (failed.value.code, failed.value.task_id, failed.value.reason) == (
        code, task_id, "slow down"
    )


def test_an_error_without_a_code_is_a_refusal_in_the_servers_words() -> None:
    result = CallToolResult(
        content=[TextContent(type="text", text="Unknown tool: explode")], is_error=True
    )

    with pytest.raises(ToolFailure) as failed:
        read_result("explode", result)
    assert (failed.value.code, failed.value.reason) == (ErrorCode.REFUSED, "Unknown tool: explode")


def test_an_output_recorded_before_codes_is_read_without_one() -> None:
    failure = failure_of("complete_task", "Error executing tool complete_task: Task 9 not found")

    assert failure is not None
    assert (failure.code, failure.reason, failure.missing_task) == (
        ErrorCode.REFUSED, "Task 9 not found", None
    )


def test_the_agents_sdks_own_failure_text_means_the_server_was_never_reached() -> None:
    failure = failure_of("add_task", "An error occurred while running the tool. Error: boom")

    assert failure is not None and failure.code is ErrorCode.UNREACHABLE and not failure.reached


@pytest.mark.parametrize("output", ['{"tasks": [], "next_cursor": null}', '{"error": 5}', "[1]"])
def test_outputs_that_are_no_refusal_are_not_read_as_one(output: str) -> None:
    assert failure_of("list_tasks", output) is None
