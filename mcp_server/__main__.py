"""`python -m mcp_server` / `taskchat-mcp`: serve the MCP task server over streamable HTTP."""

import logging.config

import uvicorn

from mcp_server.oauth import check_oauth_settings
from mcp_server.server import MCP_PATH
from shared.limits import server_limits
from shared.metrics import prepare_multiprocess_metrics
from shared.migrate import TASKS, upgrade_at_start
from shared.observability import announce, log_config, startup_line
from shared.settings import get_mcp_settings
from shared.startup import check_bind, check_database, check_port, refusing
from shared.workers import report_worker_deaths

# Imported by each worker process (uvicorn needs an import string for more than one).
APP_FACTORY = "mcp_server.server:app_from_environment"


def main() -> None:
    """Start the server on MCP_HOST:MCP_PORT (default 127.0.0.1:8001), or refuse in one line."""
    with refusing("mcp"):
        settings = get_mcp_settings()
        logs = log_config("mcp", settings.log_format)
        logging.config.dictConfig(logs)
        check_oauth_settings(settings)
        check_bind(settings, "MCP_HOST", settings.mcp_host, local=settings.mcp_local_mode)
        check_port("MCP_PORT", settings.mcp_host, settings.mcp_port)
        check_database(settings.database_url)
        # Once, here, before any worker starts: the workers then find the schema current.
        schema = upgrade_at_start(settings.database_url, TASKS)
    url = f"http://{settings.mcp_host}:{settings.mcp_port}{MCP_PATH}"
    announce(startup_line("mcp", settings, url, schema=schema), settings.log_format)
    prepare_multiprocess_metrics(settings.mcp_workers)
    report_worker_deaths()
    # No per-request access lines: formatting and writing one costs ~7% of a tool call.
    # Start-up, warnings and errors (with tracebacks) are still logged.
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.mcp_host,
        port=settings.mcp_port,
        workers=settings.mcp_workers,
        timeout_worker_healthcheck=settings.worker_startup_timeout,
        **server_limits(settings),
        log_level="info",
        access_log=False,
        log_config=logs,
    )


if __name__ == "__main__":
    main()
