"""What answers a turn: the agent and its models (offline/ among them), the task tools it
calls through the MCP client pool (pool/), and the user's time zone."""
