"""The mcp SDK's internal parts the task server builds on (mcp_server/sdk_compat.py) still fit.

An SDK upgrade that changes one fails here, by name, instead of in every tool call.
"""

import inspect

from pydantic import BaseModel

from mcp_server.sdk_compat import ArgModelBase, FuncMetadata, Tool
from mcp_server.tools import TaskTool


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
