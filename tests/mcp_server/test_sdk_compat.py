"""The mcp SDK's internal parts the task server builds on (mcp_server/sdk_compat.py) still fit.

An SDK upgrade that changes one fails here, by name, instead of in every tool call.
"""

import inspect

from pydantic import BaseModel
from sqlalchemy.engine import Engine

from mcp_server.sdk_compat import (
    ArgModelBase,
    FuncMetadata,
    Tool,
    answer_by_revision,
    handle_modern_request,
    lowlevel,
)
from mcp_server.server import build_server
from mcp_server.tools import TaskTool
from shared.settings import Settings


def test_tool_run_still_takes_arguments_context_and_convert_result() -> None:
    parameters = list(inspect.signature(Tool.run).parameters)
    assert parameters == ["self", "arguments", "context", "convert_result"]
    # Our override must keep the same call shape the SDK's tool manager uses.
    assert list(inspect.signature(TaskTool.run).parameters) == parameters


def test_func_metadata_still_takes_an_argument_model_and_an_output_type() -> None:
    assert {"arg_model", "output_model", "output_schema"} <= set(FuncMetadata.model_fields)

    class Args(ArgModelBase):
        task_id: int

    class Out(BaseModel):
        ok: bool

    metadata = FuncMetadata(arg_model=Args, output_model=Out)

    assert metadata.output_schema is not None
    assert metadata.output_schema["properties"] == {"ok": {"title": "Ok", "type": "boolean"}}


def test_tool_is_still_a_pydantic_model_with_the_fields_the_tools_set() -> None:
    fields = set(Tool.model_fields)
    assert {"fn", "name", "title", "description", "parameters", "fn_metadata", "is_async",
            "context_kwarg", "annotations"} <= fields


def test_the_modern_entry_still_takes_json_response_and_lifespan_state() -> None:
    parameters = list(inspect.signature(handle_modern_request).parameters)
    assert parameters == [
        "app", "security_settings", "json_response", "lifespan_state", "scope", "receive", "send"
    ]


def test_the_session_manager_still_holds_what_answer_by_revision_reads(engine: Engine) -> None:
    server = build_server(Settings(_env_file=None, jwt_secret=None), engine)
    server.streamable_http_app(stateless_http=True, json_response=True)
    manager = server.session_manager
    before = manager.asgi_app
    answer_by_revision(manager)
    assert manager.asgi_app is not before
    assert {"app", "security_settings", "max_request_body_size", "_lifespan_state"} <= set(
        vars(manager)
    )


def test_lowlevel_is_the_server_mcpserver_wraps(engine: Engine) -> None:
    server = build_server(Settings(_env_file=None, jwt_secret=None), engine)
    low = lowlevel(server)
    assert low.name == server.name
    for method in ("completion/complete", "subscriptions/listen", "server/discover"):
        assert low.get_request_handler(method) is not None
