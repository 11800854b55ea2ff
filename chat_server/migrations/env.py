"""Alembic environment for the chat server's tables (run through shared.migrate)."""

from shared.migrate import run_env

run_env()
