"""The built-in offline model: English task requests to MCP tool calls, by documented rules."""

from chat_server.agent.offline.model import OfflineModel

__all__ = ["OfflineModel"]
