"""`python -m mcp_server` / `taskchat-mcp`: serve the MCP task server over streamable HTTP."""

import sys

import uvicorn

from mcp_server.server import build_app
from shared.db import make_engine
from shared.settings import is_loopback, settings_or_exit


def main() -> None:
    """Start the server on MCP_HOST:MCP_PORT (default 127.0.0.1:8001)."""
    settings = settings_or_exit()
    if settings.local_mode and not is_loopback(settings.mcp_host):
        sys.exit(
            f"taskchat-mcp: refusing to start on MCP_HOST={settings.mcp_host}: without "
            "JWT_SECRET every caller acts as the local user with no authentication, so "
            "local mode only listens on a loopback address (127.0.0.1, ::1, localhost). "
            "Set JWT_SECRET to serve other hosts."
        )
    app = build_app(settings, make_engine(settings.database_url))
    # No per-request access lines: formatting and writing one costs ~7% of a tool call.
    # Start-up, warnings and errors (with tracebacks) are still logged.
    uvicorn.run(
        app, host=settings.mcp_host, port=settings.mcp_port, log_level="info", access_log=False
    )


if __name__ == "__main__":
    main()
