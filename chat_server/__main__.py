"""`python -m chat_server`: serve the chat backend on CHAT_HOST:PORT."""

import logging
import sys

import uvicorn

from chat_server.app import SettingsError, create_app
from shared.settings import is_loopback, settings_or_exit


def main() -> None:
    """Start the chat backend; refuse a non-loopback host in single-user local mode."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # One line per MCP request would drown everything else (and costs time per call).
    for noisy in ("httpx", "httpx2", "mcp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = settings_or_exit()
    if settings.local_mode and not is_loopback(settings.chat_host):
        sys.exit(
            f"Refusing to serve on {settings.chat_host}: local mode (no JWT_SECRET) lets anyone "
            "who can connect act as the single local user. Bind to 127.0.0.1, or set JWT_SECRET."
        )
    try:
        app = create_app(settings)
    except SettingsError as exc:
        sys.exit(f"Configuration error: {exc}")
    print(f"taskchat chat server on http://{settings.chat_host}:{settings.port}", flush=True)
    uvicorn.run(app, host=settings.chat_host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
