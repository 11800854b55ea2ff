"""`python -m chat_server`: serve the chat backend on CHAT_HOST:CHAT_PORT."""

import logging.config
import multiprocessing
from multiprocessing.connection import Connection

import uvicorn

from shared.limits import server_limits
from shared.metrics import prepare_multiprocess_metrics
from shared.observability import announce, log_config, startup_line
from shared.settings import get_chat_settings
from shared.startup import check_bind, check_database, check_port, refusing
from shared.workers import report_worker_deaths

# Imported by each worker process (uvicorn needs an import string for more than one).
APP_FACTORY = "chat_server.app:app_from_environment"


def main(app_factory: str = APP_FACTORY) -> None:
    """Start the chat backend, or refuse in one line when the configuration cannot work."""
    with refusing("chat"):
        settings = get_chat_settings()
        logs = log_config("chat", settings.log_format)
        logging.config.dictConfig(logs)
        check_bind(settings, "CHAT_HOST", settings.chat_host)
        check_port("CHAT_PORT", settings.chat_host, settings.chat_port)
        check_database(settings.database_url)
        # Imported only now: the agent and ChatKit stack takes seconds to load, and a
        # refusal above should not wait for it.
        from chat_server.app import check_settings  # noqa: PLC0415

        check_settings(settings)
        # Once, here, before any worker starts: the workers then find the schema current.
        schema = upgrade_in_child(settings.database_url)
    url = f"http://{settings.chat_host}:{settings.chat_port}"
    line = startup_line("chat", settings, url, schema=schema, model=settings.model_name)
    announce(line, settings.log_format)
    prepare_multiprocess_metrics(settings.web_concurrency)
    report_worker_deaths()
    # workers is always passed: uvicorn would otherwise read WEB_CONCURRENCY itself.
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.chat_host,
        port=settings.chat_port,
        workers=settings.web_concurrency,
        timeout_worker_healthcheck=settings.worker_startup_timeout,
        **server_limits(settings),
        log_level="warning",
        log_config=logs,
    )


def upgrade_in_child(database_url: str) -> str:
    """Bring the chat tables up to date in a forked child; where they stand (start-up line).

    Alembic and Mako stay out of the serving process that way: about 11 MiB it would hold
    for ever to run once. A refusal is printed by the child, and this process exits with
    the child's status.
    """
    reader, writer = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_upgrade, args=(database_url, writer)
    )
    child.start()
    writer.close()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(child.exitcode)
    schema: str = reader.recv()
    return schema


def _upgrade(database_url: str, answer: Connection) -> None:
    # Alembic logs its plugins as it is imported, now after logging is set up: not wanted.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from shared.migrate import CHAT, upgrade_at_start  # noqa: PLC0415 (in the child only)

    with refusing("chat"):
        answer.send(upgrade_at_start(database_url, CHAT))


if __name__ == "__main__":
    main()
