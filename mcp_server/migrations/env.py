"""Alembic environment for the MCP server's task table (run through shared.migrate)."""

from shared.migrate import run_env

run_env()
