"""The chat backend's one process-wide MCP client (`MCPPool`) and the failures it reports.

Split by job: `connection` owns each MCP session in a task of its own, `lending` hands
connections out fairly, `failures` reads what went wrong out of exception chains, and
`mcp_pool` puts them together as an Agents SDK `MCPServer`.
"""

from chat_server.agent.pool.failures import (
    MCPCallBroke,
    MCPPoolError,
    MCPTimeout,
    MCPUnavailable,
)
from chat_server.agent.pool.mcp_pool import MCPPool

__all__ = ["MCPCallBroke", "MCPPool", "MCPPoolError", "MCPTimeout", "MCPUnavailable"]
