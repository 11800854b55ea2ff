"""taskchat's terminal client: chat with the chat server, list threads, mint dev tokens.

Run `taskchat` (or `python -m taskchat_cli.cli`); `--help` lists the options. The protocol
lives in `taskchat_cli.client`; this module is terminal I/O and the command line.
"""

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import TextIO

import httpx
from chatkit.types import Thread
from pydantic import ValidationError

from taskchat_cli.client import (
    THREADS_SHOWN,
    ChatClient,
    ChatError,
    Output,
    TurnView,
    history_outputs,
)
from taskchat_cli.tasks import COMMANDS as TASK_COMMANDS
from taskchat_cli.tasks import TasksClient, print_tasks
from taskchat_cli.tasks import add_commands as add_task_commands
from taskchat_cli.tasks import run as run_tasks
from taskchat_cli.transfer import COMMANDS as TRANSFER_COMMANDS
from taskchat_cli.transfer import TransferClient, add_commands
from taskchat_cli.transfer import run as run_transfer

DEFAULT_URL = "http://127.0.0.1:8000"
HELP = """Type a message to chat. Commands:
  /new        start a new thread
  /threads    list your threads (* marks the current one)
  /open ID    switch to thread ID and show its history
  /tasks      list your open tasks (/tasks all, /tasks done)
  /help       show this help
  /quit       leave (Ctrl-D and Ctrl-C work too)"""


def format_when(moment: datetime) -> str:
    """A thread date in local time (naive values are shown as they are)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def thread_lines(threads: list[Thread], current: str | None = None) -> list[str]:
    """One aligned line per thread: id, date, title; `*` marks the current one."""
    width = max((len(thread.id) for thread in threads), default=0)
    return [
        f"{'*' if thread.id == current else ' '} {thread.id:<{width}}  "
        f"{format_when(thread.created_at)}  {thread.title or '(untitled)'}"
        for thread in threads
    ]


class Terminal:
    """Writes outputs: reply text streamed as it comes, tool lines dimmed, problems on stderr."""

    def __init__(self, out: TextIO, err: TextIO, color: bool = False) -> None:
        self.out, self.err, self.color = out, err, color
        self._line_open = False  # reply text written without its final newline yet

    @classmethod
    def for_streams(cls, out: TextIO, err: TextIO) -> "Terminal":
        """Colours only on a terminal, and never with NO_COLOR set."""
        tty = out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        return cls(out, err, color=tty)

    def show(self, output: Output) -> None:
        """Write one output; text is flushed at once so the reply appears as it streams."""
        match output.kind:
            case "text" if output.text:
                self.out.write(output.text)
                self._line_open = not output.text.endswith("\n")
                self.out.flush()
            case "error" | "notice":
                self.report(output.text)
            case "tool":
                self.line(f"  · {output.text}", dim=True)
            case "user":
                self.line(f"you> {output.text}", bold=True)
            case "info":
                self.line(output.text, dim=True)

    def line(self, text: str, *, dim: bool = False, bold: bool = False) -> None:
        """A whole line on stdout, on a line of its own."""
        self.end_line()
        if self.color and (dim or bold):
            text = f"\033[{2 if dim else 1}m{text}\033[0m"
        self.out.write(text + "\n")
        self.out.flush()

    def end_line(self) -> None:
        """Finish a reply line left open, so the next output starts on its own line."""
        if self._line_open:
            self.out.write("\n")
            self.out.flush()
            self._line_open = False

    def report(self, message: str) -> None:
        """One line on stderr, 'taskchat: <message>': errors, and notes kept off stdout."""
        self.end_line()
        self.err.write(f"taskchat: {message}\n")
        self.err.flush()


def run_turn(client: ChatClient, term: Terminal, text: str, view: TurnView) -> None:
    """Send one message and show the reply while it streams; `view` keeps what happened."""
    try:
        for event in client.send(text, view.thread_id):
            for output in view.feed(event):
                term.show(output)
    finally:
        term.end_line()


def run_message(client: ChatClient, term: Terminal, text: str, thread_id: str | None) -> int:
    """`--message`: one turn; 0 only when the server answered without an error."""
    view = TurnView(thread_id=thread_id)
    run_turn(client, term, text, view)
    if view.error is not None:
        return 1
    if not view.answered:
        term.report("the chat server ended the reply without an answer")
        return 1
    if thread_id is None and view.thread_id:
        term.report(f"new thread {view.thread_id} (continue it with --thread {view.thread_id})")
    return 0


def run_list(client: ChatClient, term: Terminal, current: str | None = None) -> int:
    """`--list` and /threads: the user's threads, newest first."""
    page = client.threads()
    if not page.data:
        term.line("No threads yet.")
    for line in thread_lines(page.data, current):
        term.line(line)
    if page.has_more:
        term.line(f"(only the newest {THREADS_SHOWN} are shown)", dim=True)
    return 0


def show_history(client: ChatClient, term: Terminal, thread_id: str) -> None:
    """Print a thread's recent items as a transcript."""
    items = client.items(thread_id)
    outputs = history_outputs(items) or [Output("info", "(this thread is empty)")]
    for output in outputs:
        term.show(output)


def run_interactive(client: ChatClient, term: Terminal, thread_id: str | None) -> int:
    """The prompt loop: chat, with slash commands; Ctrl-D or Ctrl-C at the prompt leaves."""
    prompt = "you> " if sys.stdin.isatty() else ""
    if prompt:
        # Line editing and history for input(); only at a terminal, where it cannot upset piped
        # output.
        import readline  # noqa: F401, PLC0415
    term.line(f"taskchat at {client.url}. Type /help for commands.", dim=True)
    if thread_id is not None:
        show_history(client, term, thread_id)  # a bad --thread fails here, before any prompt
    while True:
        try:
            line = input(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            term.out.write("\n" if prompt else "")
            return 0
        if not line:
            continue
        try:
            if line.startswith("/"):
                if line.split()[0] in ("/quit", "/exit"):
                    return 0
                thread_id = run_command(client, term, line, thread_id)
                continue
            view = TurnView(thread_id=thread_id)
            try:
                run_turn(client, term, line, view)
            finally:
                thread_id = view.thread_id  # keep a thread created before a failure
        except ChatError as exc:
            term.report(str(exc))
        except KeyboardInterrupt:
            term.report("reply interrupted")


def run_command(client: ChatClient, term: Terminal, line: str, thread_id: str | None) -> str | None:
    """Run one slash command; returns the thread the conversation continues in."""
    name, _, arg = line.partition(" ")
    arg = arg.strip()
    match name:
        case "/new":
            term.line("New thread: your next message starts it.", dim=True)
            return None
        case "/threads":
            run_list(client, term, current=thread_id)
        case "/open" if arg:
            show_history(client, term, arg)
            return arg
        case "/open":
            term.report("usage: /open THREAD_ID (see /threads)")
        case "/tasks" if isinstance(client, TasksClient) and arg in ("", "all", "done"):
            print_tasks(client, term, status=arg or "open")
        case "/tasks":
            term.report("usage: /tasks [all|done]")
        case "/help":
            term.line(HELP)
        case _:
            term.report(f"unknown command {name}; type /help")
    return thread_id


def run_token(term: Terminal, user: str, ttl: int) -> int:
    """`token USER`: print a JWT for USER signed with this machine's JWT_SECRET."""
    # The server's settings and signing are loaded for this command only: the chat client
    # itself needs neither JWT_SECRET nor a valid server configuration.
    import jwt  # noqa: PLC0415

    from shared.auth import mint_jwt  # noqa: PLC0415
    from shared.settings import get_common_settings  # noqa: PLC0415
    from shared.startup import EXIT_REFUSED, startup_errors  # noqa: PLC0415

    try:
        settings = get_common_settings()
    except ValidationError as exc:
        problems = startup_errors(exc)
        if not problems:
            raise
        for problem in problems:  # the servers' refusal lines, under the client's name
            term.report(str(problem))
        return EXIT_REFUSED
    if not settings.jwt_secret:
        term.report(
            "JWT_SECRET is not set (environment or .env): without it the server runs in local "
            "mode and needs no token"
        )
        return 1
    token = mint_jwt(user, settings, ttl)
    term.out.write(token + "\n")
    # On stderr, so `TOKEN=$(taskchat token alice)` still captures the token alone.
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ttl)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    term.report(
        f"token for {user} expires {expires.isoformat().replace('+00:00', 'Z')}; "
        f"its id is {jti} (list it in JWT_REVOKED_IDS to revoke it)"
    )
    return 0


# --- Command line -------------------------------------------------------------------------


def _url(value: str) -> str:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL (e.g. {DEFAULT_URL})")
    return value


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: str) -> int:
    """A lifetime such as 90s, 15m, 12h or 30d, in seconds."""
    number, unit = value[:-1], value[-1:]
    if unit not in DURATION_UNITS or not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a duration: a whole number and a unit, e.g. 90s, 15m, 12h or 30d"
        )
    return int(number) * DURATION_UNITS[unit]


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    """The command line: chat (interactive or --message), --list, and `token USER`."""
    parser = argparse.ArgumentParser(
        prog="taskchat",
        description="Chat with your taskchat task assistant from the terminal.",
        epilog="Interactive by default; type /help there. `taskchat token USER` mints a JWT.",
    )
    parser.add_argument(
        "--url",
        type=_url,
        default=os.environ.get("TASKCHAT_URL") or DEFAULT_URL,
        help="chat server base URL (env TASKCHAT_URL; default %(default)s)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("TASKCHAT_TOKEN") or None,
        help="bearer JWT for servers with JWT_SECRET set (env TASKCHAT_TOKEN)",
    )
    parser.add_argument("--thread", metavar="ID", help="continue thread ID")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--message", "-m", metavar="TEXT", help="send one message, print the reply")
    mode.add_argument("--list", action="store_true", help="list your threads, newest first")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="{token}")
    token = commands.add_parser("token", help="print a JWT for USER, signed with JWT_SECRET")
    token.add_argument("user", metavar="USER")
    lifetime = token.add_mutually_exclusive_group()
    lifetime.add_argument(
        "--expires",
        dest="ttl",
        type=_duration,
        default=3600,
        metavar="DURATION",
        help="lifetime: s, m, h or d, e.g. 30d for a client set up once (default 1h)",
    )
    lifetime.add_argument(
        "--ttl", dest="ttl", type=_positive_int, metavar="SECONDS", help="lifetime in seconds"
    )
    add_commands(commands)
    add_task_commands(commands)
    commands.metavar = "{" + ",".join(commands.choices) + "}"
    return parser


def main(argv: list[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """Run the client; returns the exit status (0 ok, 1 failure, 2 usage or settings, 130 ^C)."""
    args = parse_args(argv)
    if isinstance(args, int):
        return args
    term = Terminal.for_streams(sys.stdout, sys.stderr)
    if args.command == "token":
        return run_token(term, args.user.strip(), args.ttl)
    try:
        return run_chat(args, term, transport)
    except ChatError as exc:
        term.report(str(exc))
        return 1
    except KeyboardInterrupt:
        term.end_line()
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, and keep the interpreter's
        # final flush from failing too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def parse_args(argv: list[str] | None) -> argparse.Namespace | int:
    """The command line, or the exit status argparse chose (bad usage, --help)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.message is not None and not args.message.strip():
            parser.error("--message is empty")
        if args.list and args.thread:
            parser.error("--list cannot be combined with --thread")
        if args.command == "token" and not args.user.strip():
            parser.error("USER is empty")
    except SystemExit as exc:  # argparse exits on bad usage and --help; callers want a status
        return exc.code if isinstance(exc.code, int) else 0
    return args


def run_chat(
    args: argparse.Namespace, term: Terminal, transport: httpx.BaseTransport | None
) -> int:
    """List threads, send one message, or chat at the prompt, as the arguments ask."""
    token = args.token.strip().removeprefix("Bearer ").strip() if args.token else None
    if args.command in TASK_COMMANDS:
        with TasksClient(args.url, token, transport=transport) as api:
            return run_tasks(args, api, term)
    if args.command in TRANSFER_COMMANDS:
        with TransferClient(args.url, token, transport=transport) as files:
            return run_transfer(args, files, term)
    with TasksClient(args.url, token, transport=transport) as client:
        if args.list:
            return run_list(client, term)
        if args.message is not None:
            return run_message(client, term, args.message, args.thread)
        return run_interactive(client, term, args.thread)


if __name__ == "__main__":
    sys.exit(main())
