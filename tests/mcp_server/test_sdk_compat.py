"""The mcp SDK's internal parts the task server builds on (mcp_server/sdk_compat.py) still fit.

An SDK upgrade that changes one fails here, by name, instead of in every tool call.
"""

import inspect

from mcp.server._streamable_http_modern import _mcp_param_rejection
from mcp.shared.inbound import validate_mcp_param_headers
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


def test_the_sdk_still_reads_mcp_param_header_schemas_through_its_lookup(engine: Engine) -> None:
    # build_server hands the SDK only the schemas that declare Mcp-Param headers.
    source = inspect.getsource(_mcp_param_rejection)
    assert "app.get_tool_input_schema" in source
    low = lowlevel(build_server(Settings(_env_file=None, jwt_secret=None), engine))
    assert low.get_tool_input_schema is not None
    assert low.get_tool_input_schema("add_task") is None  # declares none: nothing to check
    assert low.get_tool_input_schema("no_such_tool") is None
    # A schema with no `x-mcp-header` never rejects a call, whatever headers it carries.
    headers = {"mcp-param-title": "other"}
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    assert validate_mcp_param_headers(schema, {"title": "x"}, headers) is None
