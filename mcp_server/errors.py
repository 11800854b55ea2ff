"""The task server's refusals: a ToolError that carries the contract's ErrorCode.

Raised wherever a call is refused (mcp_server/auth.py, mcp_server/tools.py) and sent once,
by TaskTool.run, as the SDK's error text plus the code in the result's `_meta`
(shared/contract.py `error_result`), so clients branch on the code, never on the words.
"""

from mcp.server.mcpserver.exceptions import ToolError

from shared.contract import ErrorCode


class Refused(ToolError):
    """A call refused for a reason the caller can act on."""

    def __init__(self, message: str, code: ErrorCode, *, task_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.task_id = task_id
