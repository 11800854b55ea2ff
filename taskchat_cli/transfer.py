"""`taskchat import FILE`, `taskchat export --format json|csv|ics`, `taskchat
calendar-feed [--off]` and `taskchat app-password [new | list | revoke ID]`: the chat
server's /api/import, /api/export, /api/calendar-feed and /api/app-passwords from the
terminal."""

import argparse
import sys
from pathlib import Path
from typing import Any, Protocol

import httpx

from taskchat_cli.client import ChatClient, ChatError

IMPORT_FORMATS = ("todoist-csv", "todoist-json", "ticktick-csv", "csv", "json")
EXPORT_FORMATS = ("json", "csv", "ics")
COMMANDS = frozenset({"import", "export", "calendar-feed", "app-password"})


class Lines(Protocol):
    """Where results go: the terminal's stdout lines and stderr reports."""

    def line(self, text: str, *, dim: bool = False, bold: bool = False) -> None: ...

    def report(self, message: str) -> None: ...


class TransferClient(ChatClient):
    """The chat client, with the two file endpoints beside ChatKit."""

    def __enter__(self) -> "TransferClient":
        return self

    def upload(self, path: Path, fmt: str | None, *, completed: bool) -> dict[str, Any]:
        """POST the file to /api/import; the server's report."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ChatError(f"cannot read {path}: {exc.strerror or exc}") from None
        # The client's JSON content type must not ride along: this body is multipart.
        headers = {k: v for k, v in self._http.headers.items() if k.lower() != "content-type"}
        form = {"completed": "true" if completed else "false"}
        if fmt:
            form["format"] = fmt
        request = httpx.Request(
            "POST", f"{self.url}/api/import", headers=headers,
            files={"file": (path.name, data)}, data=form,
        )  # fmt: skip
        with self._errors():
            response = self._http.send(request)
            self._check(response)
        report: dict[str, Any] = response.json()
        return report

    def download(self, fmt: str) -> bytes:
        """GET /api/export in the format."""
        with self._errors():
            response = self._http.get(f"{self.url}/api/export", params={"format": fmt})
            self._check(response)
        return response.content


    def calendar_feed(self, *, on: bool) -> str | None:
        """Turn the calendar feed on with a new URL (the old one stops working), or off."""
        with self._errors():
            response = self._http.request(
                "POST" if on else "DELETE", f"{self.url}/api/calendar-feed"
            )
            self._check(response)
        url: str | None = response.json().get("url")
        return url

    def app_passwords(self, method: str, path: str = "") -> dict[str, Any]:
        """POST (a new one), GET (the list) or DELETE (one) under /api/app-passwords."""
        with self._errors():
            response = self._http.request(method, f"{self.url}/api/app-passwords{path}")
            self._check(response)
        answer: dict[str, Any] = response.json()
        return answer


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """The `import` and `export` subcommands."""
    importing = commands.add_parser(
        "import", help="import tasks from a file (Todoist, TickTick, CSV, JSON)"
    )
    importing.add_argument("file", metavar="FILE", type=Path)
    importing.add_argument(
        "--format", choices=IMPORT_FORMATS, help="the file's format (default: guessed)"
    )
    importing.add_argument(
        "--no-completed", dest="completed", action="store_false", help="leave done tasks out"
    )
    exporting = commands.add_parser("export", help="write all your tasks as JSON, CSV or iCalendar")
    exporting.add_argument("--format", choices=EXPORT_FORMATS, default="json")
    exporting.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write here (default: stdout)"
    )
    feed = commands.add_parser(
        "calendar-feed",
        help="print a new private calendar feed URL (the one before stops working)",
    )
    feed.add_argument("--off", action="store_true", help="turn the feed off instead")
    passwords = commands.add_parser(
        "app-password",
        help="CalDAV app passwords for phones and calendar apps: new (default), list, revoke",
    )
    actions = passwords.add_subparsers(dest="action", metavar="{new,list,revoke}")
    actions.add_parser("new", help="print a new one with the server and user name (shown once)")
    actions.add_parser("list", help="list yours: id and when it was made")
    revoke = actions.add_parser("revoke", help="revoke one: its client is refused from then on")
    revoke.add_argument("id", metavar="ID", type=int)


def run(args: argparse.Namespace, client: TransferClient, term: Lines) -> int:
    """Run `import` or `export`; the exit status (1 when some items were not imported)."""
    if args.command == "calendar-feed":
        url = client.calendar_feed(on=not args.off)
        term.line(url or "calendar feed turned off: its URL answers 404 from now on")
        return 0
    if args.command == "app-password":
        return run_app_password(args, client, term)
    if args.command == "export":
        data = client.download(args.format)
        if args.output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            args.output.write_bytes(data)
            term.report(f"wrote {len(data):,} bytes to {args.output}")
        return 0
    report = client.upload(args.file, args.format, completed=args.completed)
    term.line(
        f"{report['imported']} imported, {report['already_imported']} already there, "
        f"{report['not_imported']} not imported ({report['format']})"
    )
    for problem in report["problems"]:
        state = "imported, but" if problem["imported"] else "not imported:"
        term.line(f"  {problem['item']} {problem['title']!r}: {state} {problem['reason']}")
    return 1 if report["not_imported"] else 0


def run_app_password(args: argparse.Namespace, client: TransferClient, term: Lines) -> int:
    """`app-password new|list|revoke ID`: what the page's CalDAV part does, in lines."""
    if args.action == "list":
        found = client.app_passwords("GET")["app_passwords"]
        for made in found:
            term.line(f"{made['id']}  made {made['created_at']}")
        if not found:
            term.report("no app passwords (`taskchat app-password new` makes one)")
        return 0
    if args.action == "revoke":
        client.app_passwords("DELETE", f"/{args.id}")
        term.line(f"app password {args.id} revoked: its client is refused from its next request")
        return 0
    made = client.app_passwords("POST")
    term.line(f"server:    {made['url']}")
    term.line(f"user name: {made['username']}")
    term.line(f"password:  {made['password']}")
    term.report(f"app password {made['id']}: shown only this once; enter it in the app now")
    return 0
