"""`python -m chat_server`: serve the chat backend on CHAT_HOST:PORT."""

import logging.config

import uvicorn

from shared.migrate import CHAT, upgrade_at_start
from shared.observability import announce, log_config, startup_line
from shared.settings import get_settings
from shared.startup import check_bind, check_database, refusing


def main() -> None:
    """Start the chat backend, or refuse in one line when the configuration cannot work."""
    with refusing("chat"):
        settings = get_settings()
        logs = log_config("chat", settings.log_format)
        logging.config.dictConfig(logs)
        check_bind(settings, "CHAT_HOST", settings.chat_host)
        check_database(settings.database_url)
        # Imported only now: the agent and ChatKit stack takes seconds to load, and a
        # refusal above should not wait for it.
        from chat_server.app import create_app

        app = create_app(settings)
        schema = upgrade_at_start(settings.database_url, CHAT)
    url = f"http://{settings.chat_host}:{settings.port}"
    line = startup_line("chat", settings, url, schema=schema, model=settings.model_name)
    announce(line, settings.log_format)
    uvicorn.run(
        app, host=settings.chat_host, port=settings.port, log_level="warning", log_config=logs
    )


if __name__ == "__main__":
    main()
