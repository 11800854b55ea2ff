"""`python -m mcp_server` / `taskchat-mcp`: serve the MCP task server over streamable HTTP."""

import uvicorn

from shared.settings import get_settings
from shared.startup import check_bind, check_database, refusing

# Imported by each worker process (uvicorn needs an import string for more than one).
APP_FACTORY = "mcp_server.server:app_from_environment"


def main() -> None:
    """Start the server on MCP_HOST:MCP_PORT (default 127.0.0.1:8001), or refuse in one line."""
    with refusing("mcp"):
        settings = get_settings()
        check_bind(settings, "MCP_HOST", settings.mcp_host)
        check_database(settings.database_url)
    # No per-request access lines: formatting and writing one costs ~7% of a tool call.
    # Start-up, warnings and errors (with tracebacks) are still logged.
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.mcp_host,
        port=settings.mcp_port,
        workers=settings.mcp_workers,
        log_level="info",
        access_log=False,
    )


if __name__ == "__main__":
    main()
