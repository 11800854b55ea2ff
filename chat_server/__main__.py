"""`python -m chat_server`: serve the chat backend on CHAT_HOST:PORT."""

import logging

import uvicorn

from shared.migrate import CHAT, upgrade_at_start
from shared.settings import get_settings
from shared.startup import check_bind, check_database, refusing


def main() -> None:
    """Start the chat backend, or refuse in one line when the configuration cannot work."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # One line per MCP request would drown everything else (and costs time per call).
    for noisy in ("httpx", "httpx2", "mcp", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with refusing("chat"):
        settings = get_settings()
        check_bind(settings, "CHAT_HOST", settings.chat_host)
        check_database(settings.database_url)
        # Imported only now: the agent and ChatKit stack takes seconds to load, and a
        # refusal above should not wait for it.
        from chat_server.app import create_app

        app = create_app(settings)
        upgrade_at_start(settings.database_url, CHAT)
    print(f"taskchat chat server on http://{settings.chat_host}:{settings.port}", flush=True)
    uvicorn.run(app, host=settings.chat_host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
