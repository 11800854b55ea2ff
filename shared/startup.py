"""Start-up checks both processes share, and the one way they refuse to start.

Every refusal is one line on stderr, `taskchat-<process>: <VARIABLE>: <what to do>`, and exit
status 2: no traceback, and nothing printed as if the server were about to serve.
"""

import errno
import socket
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from shared.db import SQLITE_BUSY_SECONDS
from shared.settings import SETTINGS_CLASSES, CommonSettings, is_loopback

EXIT_REFUSED = 2
CONNECT_TIMEOUT_SECONDS = 3


class StartupError(Exception):
    """A reason not to start: the variable to fix, and what is wrong with it."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.message = message


def startup_errors(exc: Exception) -> list[StartupError]:
    """The refusals an exception stands for (one per invalid setting); empty if it is a bug."""
    if isinstance(exc, StartupError):
        return [exc]
    if isinstance(exc, ValidationError) and exc.title in {cls.__name__ for cls in SETTINGS_CLASSES}:
        return [
            StartupError(
                ".".join(map(str, error["loc"])).upper() or "settings",
                # The input is left out on purpose: it may be a secret.
                error["msg"].removeprefix("Value error, "),
            )
            for error in exc.errors(include_url=False, include_input=False)
        ]
    return []


@contextmanager
def refusing(process: str) -> Iterator[None]:
    """Run start-up checks; a refusal raised inside prints its lines and exits with status 2."""
    try:
        yield
    except (StartupError, ValidationError) as exc:
        problems = startup_errors(exc)
        if not problems:
            raise
        for problem in problems:
            print(f"taskchat-{process}: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_REFUSED) from None


def check_bind(
    settings: CommonSettings, variable: str, host: str, *, local: bool | None = None
) -> None:
    """Refuse a non-loopback bind address in local mode, where nobody has to sign in."""
    if (settings.local_mode if local is None else local) and not is_loopback(host):
        raise StartupError(
            variable,
            f"{host} is not a loopback address, and without JWT_SECRET (local mode) anyone who "
            "can connect acts as the single local user: bind to 127.0.0.1, or set JWT_SECRET",
        )


def check_database(database_url: str) -> None:
    """Connect once and run `select 1`, so a wrong DATABASE_URL stops the process at once.

    A SQLite file that is not a database (random bytes, a cut-short header, a corrupt schema)
    is refused too, before anything could write to it.
    """
    try:
        url = make_url(database_url)
    except ArgumentError:
        # Not echoed: an unparsable URL cannot have its password masked.
        raise StartupError(
            "DATABASE_URL",
            "is not a database URL: use e.g. sqlite:///./taskchat.db or "
            "postgresql+psycopg://user:password@host/db",
        ) from None
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).parent
        if not folder.is_dir():
            raise StartupError(
                "DATABASE_URL",
                f"cannot use {shown}: directory {folder} does not exist; create it, "
                "or point DATABASE_URL at a file in an existing directory",
            )
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(url))
    except (ArgumentError, ImportError) as exc:
        raise StartupError("DATABASE_URL", f"cannot use {shown}: {_short(exc, url)}") from None
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
            if url.get_backend_name() == "sqlite":
                # `select 1` reads no page of the file; the schema is on the first one.
                conn.execute(text("select count(*) from sqlite_master"))
    except SQLAlchemyError as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        # OperationalError is "cannot open" or "locked"; its base class means the bytes are wrong.
        if isinstance(cause, sqlite3.DatabaseError) and not isinstance(
            cause, sqlite3.OperationalError
        ):
            raise not_ours(shown, str(cause)) from None
        raise StartupError(
            "DATABASE_URL", f"cannot connect to {shown}: {_short(exc, url)}"
        ) from None
    finally:
        engine.dispose()


def not_ours(shown: str, why: str) -> StartupError:
    """The refusal of a database taskchat did not make (or cannot read), never to be touched."""
    return StartupError(
        "DATABASE_URL",
        f"{shown} is not a taskchat database ({why}); move it aside or point DATABASE_URL "
        "elsewhere",
    )


def connect_args(url: URL) -> dict[str, object]:
    """How long a start-up check's connection waits for the database."""
    # A host that drops packets would otherwise hang start-up for minutes.
    if url.get_backend_name() == "postgresql":
        return {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    # Another process starting on the same new file may hold its lock for a while (its
    # switch to WAL, its first upgrade): wait as long as a busy write would.
    return {"timeout": SQLITE_BUSY_SECONDS} if url.get_backend_name() == "sqlite" else {}


def _short(exc: Exception, url: URL) -> str:
    """The driver's reason in a few words, e.g. `database "x" does not exist`."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    # psycopg: 'connection failed: connection to server at "h", port 5432 failed: FATAL:  why'
    reason = lines[0].rpartition(" failed: ")[2].removeprefix("FATAL:").strip()
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason


def check_port(variable: str, host: str, port: int) -> None:
    """Refuse a port another process already listens on, before saying the server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                message = f"cannot listen on {host}:{port}: {exc.strerror}"
                raise StartupError(variable, message) from None
            raise StartupError(
                variable,
                f"{host}:{port} is already in use (another taskchat, or another program): "
                f"stop it, or set {variable} to a free port",
            ) from None
