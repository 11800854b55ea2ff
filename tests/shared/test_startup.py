"""Start-up refusals: the shared checks, and each process refusing a bad configuration in
one line (`taskchat-<process>: VARIABLE: ...`, exit status 2, no traceback, no banner)."""

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from shared.db import make_engine
from shared.migrate import upgrade_all
from shared.settings import Settings
from shared.startup import StartupError, check_bind, check_database
from testbed.servers import ROOT, free_port

GOOD_SECRET = "startup-test-secret-" + "s" * 20
GOOD_TOKEN = "startup-test-service-token-" + "t" * 10
PASSWORD = "hunter2-must-not-show"


def our_variables() -> set[str]:
    """Every variable the settings (or the terminal client) read."""
    return {name.upper() for name in Settings.model_fields} | {"TASKCHAT_URL", "TASKCHAT_TOKEN"}


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m *args` with only `env` as our configuration, in `cwd` (no stray .env)."""
    clean = {k: v for k, v in os.environ.items() if k not in our_variables()}
    clean["PYTHONPATH"] = ROOT
    return subprocess.run(
        [sys.executable, "-m", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_refused(done: subprocess.CompletedProcess[str], prefix: str) -> str:
    """Exit 2 with exactly one stderr line starting `prefix`; returns the rest of that line."""
    output = done.stdout + done.stderr
    assert "Traceback" not in output and PASSWORD not in output
    assert done.stdout == ""  # no "serving on" banner
    assert done.returncode == 2, done.stderr
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(prefix), done.stderr
    return done.stderr.removeprefix(prefix).rstrip("\n")


def postgres(server_url: str, **parts: object) -> str:
    """The test server's URL with some parts changed, and a password that must never show."""
    url = make_url(server_url).set(password=PASSWORD, **parts)  # type: ignore[arg-type]
    return url.render_as_string(hide_password=False)


# (variable named in the refusal, environment) for refusals common to both processes.
BAD_SETTINGS = [
    ("JWT_SECRET", {"JWT_SECRET": "short-secret", "MCP_SERVICE_TOKEN": GOOD_TOKEN}),
    ("JWT_SECRET", {"JWT_SECRET": " " * 40, "MCP_SERVICE_TOKEN": GOOD_TOKEN}),
    ("MCP_SERVICE_TOKEN", {"JWT_SECRET": GOOD_SECRET, "MCP_SERVICE_TOKEN": "svc-token"}),
    ("CORS_ORIGINS", {"CORS_ORIGINS": "*"}),
    ("CORS_ORIGINS", {"CORS_ORIGINS": "null"}),
    ("CORS_ORIGINS", {"CORS_ORIGINS": "https://*.example.com"}),
    ("CORS_ORIGIN_REGEX", {"CORS_ORIGIN_REGEX": "https?://.*"}),
]
BAD_SETTINGS_IDS = [
    "short-secret",
    "blank-secret",
    "short-token",
    "cors-star",
    "cors-null",
    "cors-wildcard",
    "loose-regex",
]


@pytest.mark.parametrize(("variable", "env"), BAD_SETTINGS, ids=BAD_SETTINGS_IDS)
def test_the_chat_server_refuses_weak_settings_in_one_line(tmp_path: Path, variable, env) -> None:
    assert_refused(run(["chat_server"], tmp_path, **env), f"taskchat-chat: {variable}: ")


@pytest.mark.parametrize(("variable", "env"), BAD_SETTINGS[:3], ids=BAD_SETTINGS_IDS[:3])
def test_the_mcp_server_refuses_weak_secrets_in_one_line(tmp_path: Path, variable, env) -> None:
    assert_refused(run(["mcp_server"], tmp_path, **env), f"taskchat-mcp: {variable}: ")


@pytest.mark.parametrize(("variable", "env"), BAD_SETTINGS[:2], ids=BAD_SETTINGS_IDS[:2])
def test_taskchat_token_refuses_a_weak_secret_in_one_line(tmp_path: Path, variable, env) -> None:
    done = run(["taskchat_cli.cli", "token", "alice"], tmp_path, **env)
    assert_refused(done, f"taskchat: {variable}: ")


@pytest.mark.parametrize(
    ("module", "process", "variable"),
    [("chat_server", "chat", "WEB_CONCURRENCY"), ("mcp_server", "mcp", "MCP_WORKERS")],
)
def test_each_process_refuses_fewer_than_one_worker(
    tmp_path: Path, module, process, variable
) -> None:
    done = run([module], tmp_path, **{variable: "0", "CHAT_PORT": "1", "MCP_PORT": "1"})
    assert assert_refused(done, f"taskchat-{process}: {variable}: ") == "must be at least 1"


def test_the_chat_server_refuses_jwt_mode_without_a_service_token(tmp_path: Path) -> None:
    done = run(["chat_server"], tmp_path, JWT_SECRET=GOOD_SECRET)
    assert assert_refused(done, "taskchat-chat: MCP_SERVICE_TOKEN: ").startswith(
        "is needed when JWT_SECRET is set"
    )


@pytest.mark.parametrize(
    ("module", "process", "variable"),
    [("chat_server", "chat", "CHAT_HOST"), ("mcp_server", "mcp", "MCP_HOST")],
)
def test_local_mode_refuses_a_non_loopback_host(tmp_path: Path, module, process, variable) -> None:
    done = run([module], tmp_path, **{variable: "0.0.0.0", "JWT_SECRET": ""})
    assert assert_refused(done, f"taskchat-{process}: {variable}: ") == (
        "0.0.0.0 is not a loopback address, and without JWT_SECRET (local mode) anyone who can "
        "connect acts as the single local user: bind to 127.0.0.1, or set JWT_SECRET"
    )


PROCESSES = [("chat_server", "chat"), ("mcp_server", "mcp")]


@pytest.mark.parametrize(
    ("module", "process", "others"),
    [
        ("chat_server", "chat", {"OAUTH_ISSUER": "http://not-https.example"}),
        ("mcp_server", "mcp", {"OIDC_ISSUER": "http://not-https.example", "CORS_ORIGINS": "*"}),
    ],
)
def test_each_process_starts_past_a_bad_setting_only_the_other_reads(
    tmp_path: Path, module, process, others
) -> None:
    # The settings pass: what stops the process is the next check, the database's directory.
    missing = tmp_path / "no-such-dir"
    done = run([module], tmp_path, DATABASE_URL=f"sqlite:///{missing}/tasks.db", **others)
    assert assert_refused(done, f"taskchat-{process}: DATABASE_URL: ").startswith(
        f"cannot use sqlite:///{missing}/tasks.db"
    )


@pytest.mark.postgres
@pytest.mark.parametrize(("module", "process"), PROCESSES)
def test_a_missing_postgres_database_is_refused_without_the_password(
    tmp_path: Path, postgres_server_url: str, module, process
) -> None:
    url = postgres(postgres_server_url, database="taskchat_no_such_db")
    done = run([module], tmp_path, DATABASE_URL=url)
    shown = make_url(url).render_as_string(hide_password=True)
    assert assert_refused(done, f"taskchat-{process}: DATABASE_URL: ") == (
        f'cannot connect to {shown}: database "taskchat_no_such_db" does not exist'
    )


@pytest.mark.parametrize(("module", "process"), PROCESSES)
def test_a_closed_postgres_port_is_refused_without_the_password(
    tmp_path: Path, module, process
) -> None:
    url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{free_port()}/test"
    done = run([module], tmp_path, DATABASE_URL=url)
    assert assert_refused(done, f"taskchat-{process}: DATABASE_URL: ") == (
        f"cannot connect to {url.replace(PASSWORD, '***')}: Connection refused"
    )


@pytest.mark.parametrize(("module", "process"), PROCESSES)
def test_a_sqlite_file_in_a_missing_directory_is_refused(tmp_path: Path, module, process) -> None:
    missing = tmp_path / "no-such-dir"
    done = run([module], tmp_path, DATABASE_URL=f"sqlite:///{missing}/tasks.db")
    assert assert_refused(done, f"taskchat-{process}: DATABASE_URL: ") == (
        f"cannot use sqlite:///{missing}/tasks.db: directory {missing} does not exist; "
        "create it, or point DATABASE_URL at a file in an existing directory"
    )


def test_check_database_accepts_a_sqlite_file_and_memory(tmp_path: Path) -> None:
    check_database(f"sqlite:///{tmp_path}/tasks.db")
    check_database("sqlite://")


@pytest.mark.postgres
def test_check_database_accepts_a_reachable_postgres(postgres_server_url: str) -> None:
    check_database(postgres_server_url)


def test_check_database_never_echoes_a_url_it_cannot_parse() -> None:
    with pytest.raises(StartupError) as refused:
        check_database(f"postgres ql://u:{PASSWORD}@h/db")
    assert refused.value.variable == "DATABASE_URL"
    assert refused.value.message.startswith("is not a database URL")
    assert PASSWORD not in str(refused.value)


def test_check_bind_allows_any_host_once_users_sign_in() -> None:
    check_bind(Settings(_env_file=None, jwt_secret=GOOD_SECRET), "CHAT_HOST", "0.0.0.0")
    check_bind(Settings(_env_file=None), "CHAT_HOST", "::1")
    with pytest.raises(StartupError, match="^CHAT_HOST: 10.0.0.5 is not a loopback address"):
        check_bind(Settings(_env_file=None), "CHAT_HOST", "10.0.0.5")


def test_the_mcp_server_refuses_a_short_cursor_secret_in_one_line(tmp_path: Path) -> None:
    done = run(["mcp_server"], tmp_path, CURSOR_SECRET="only-twenty-bytes!!!")
    assert assert_refused(done, "taskchat-mcp: CURSOR_SECRET: ").startswith(
        "is too short (20 of at least 32 bytes): leave it empty to use the secret the database "
        "keeps, or make one with: "
    )


# -- database files taskchat did not make, or cannot read --------------------------------------

TASKCHAT_DB = str(Path(sys.executable).with_name("taskchat-db"))


def sqlite_file(path: Path, *statements: str) -> bytes:
    """A SQLite file (rollback journal, as other programs leave theirs) made by `statements`."""
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path.read_bytes()


def random_bytes(path: Path) -> str:
    path.write_bytes(random.Random(7).randbytes(8192))
    return "file is not a database"


def cut_short(path: Path) -> str:
    path.write_bytes(sqlite_file(path, "CREATE TABLE task (id INTEGER)")[:50])
    return "database disk image is malformed"


def someone_elses(path: Path) -> str:
    sqlite_file(path, "CREATE TABLE users (id)", "CREATE TABLE orders (id)", "CREATE TABLE x (id)",
                "CREATE TABLE y (id)", "INSERT INTO users VALUES (1)")  # fmt: skip
    return "it holds tables orders, users, x, ... and none of taskchat's"


def someone_elses_task_table(path: Path) -> str:
    sqlite_file(path, "CREATE TABLE task (id INTEGER PRIMARY KEY, what TEXT)")
    return "its table task is not the one taskchat makes"


def no_revision(path: Path) -> str:
    engine = make_engine(f"sqlite:///{path}")
    upgrade_all(engine)
    engine.dispose()
    sqlite_file(path, "PRAGMA journal_mode=DELETE", "DELETE FROM alembic_version_tasks",
                "DELETE FROM alembic_version_chat")  # fmt: skip
    return ""


BAD_FILES = [random_bytes, cut_short, someone_elses, someone_elses_task_table, no_revision]
ENTRY_POINTS = [
    (["-m", "chat_server"], "taskchat-chat"),
    (["-m", "mcp_server"], "taskchat-mcp"),
    ([TASKCHAT_DB, "upgrade"], "taskchat-db"),
    ([TASKCHAT_DB, "current"], "taskchat-db"),
]


@pytest.mark.parametrize("make", BAD_FILES, ids=[make.__name__ for make in BAD_FILES])
@pytest.mark.parametrize(("command", "process"), ENTRY_POINTS, ids=lambda x: str(x)[-20:])
def test_a_database_file_taskchat_cannot_use_is_refused_and_left_as_it_is(
    tmp_path: Path, make, command, process
) -> None:
    path = tmp_path / "foreign.db"
    why = make(path)
    before = path.read_bytes()
    args = [sys.executable, *command] if command[0] == "-m" else command
    clean = {k: v for k, v in os.environ.items() if k not in our_variables()}
    done = subprocess.run(
        args,
        env={**clean, "PYTHONPATH": ROOT, "DATABASE_URL": f"sqlite:///{path}"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    told = assert_refused(done, f"{process}: DATABASE_URL: sqlite:///{path} ")
    if why:
        assert told == (
            f"is not a taskchat database ({why}); move it aside or point DATABASE_URL elsewhere"
        )
    else:
        assert told == (
            "has taskchat's tasks tables but alembic_version_tasks names no revision, so which "
            "migrations it has had is unknown: restore a backup, or move it aside and point "
            "DATABASE_URL elsewhere"
        )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.db"]
