"""`python -m chat_server`: serve the chat backend on CHAT_HOST:PORT."""

import uvicorn

from shared.settings import get_settings
from shared.startup import check_bind, check_database, refusing

# Imported by each worker process (uvicorn needs an import string for more than one).
APP_FACTORY = "chat_server.app:app_from_environment"


def main(app_factory: str = APP_FACTORY) -> None:
    """Start the chat backend, or refuse in one line when the configuration cannot work."""
    with refusing("chat"):
        settings = get_settings()
        check_bind(settings, "CHAT_HOST", settings.chat_host)
        check_database(settings.database_url)
        # Imported only now: the agent and ChatKit stack takes seconds to load, and a
        # refusal above should not wait for it.
        from chat_server.app import check_settings

        check_settings(settings)
    workers = settings.web_concurrency
    print(
        f"taskchat chat server on http://{settings.chat_host}:{settings.port} "
        f"({workers} worker{'s' if workers > 1 else ''})",
        flush=True,
    )
    # workers is always passed: uvicorn would otherwise read WEB_CONCURRENCY itself.
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.chat_host,
        port=settings.port,
        workers=workers,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
