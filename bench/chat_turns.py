"""Chat turns: whole ChatKit turns over HTTP with the offline model.

Starts the MCP task server, taskchat's chat server (bench/chat_app.py: the real server plus
a tool-call timer) and a stock ChatKit server built like the official samples
(bench/stock_chatkit.py), all on one database, in JWT mode with one token per user. Each
simulated user keeps one keep-alive connection and one thread, and sends turns back to back.
Workloads:
  hello   "hello" -> the help text, no tool call: taskchat beside the stock server
  add     "add <title> tomorrow" -> add_task through the pool, reply, task widget
  list    "show my tasks" -> list_tasks (a full page of 50 once the add turns ran), reply,
          list widget; one user
The add workload's floor runs beside it: the same insert (mcp_server/tasks.py add_task, due
tomorrow) behind one plain JSON POST (bench/floor_app.py), sent the same way, so each add
cell has a "floor" row at its number of users and the report divides the turn by it.
The add workload also runs on a second taskchat chat server with WEB_CONCURRENCY=2 (the
workers column), side by side with the one-worker server in the same rounds.
Reported per workload, server, workers and number of users: time to the first event and to
the final item (p50/p95), turns per second, failed turns, the chat server's CPU time per
turn (all its processes), and the share of the turn's time spent outside the MCP tool call
(one-worker server only: each worker counts its own calls).

Run: .venv/bin/python -m bench.chat_turns [--quick] [--database sqlite|postgres]
"""

import asyncio
import itertools
import json
import math
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench.common import (
    Samples,
    base_env,
    base_parser,
    check,
    database,
    describe_machine,
    finish,
    fmt,
    ms,
    percentile,
    process,
    rounds,
    table,
    tree_cpu_seconds,
    write_json,
)
from bench.http import (
    Answer,
    Connection,
    HTTPError,
    add_message,
    create_thread,
    failed,
    request_bytes,
    thread_id_of,
)
from shared.auth import mint_jwt
from shared.settings import Settings

SECRET = "bench-secret-that-is-long-enough-for-hs256"
SERVICE_TOKEN = "bench-service-token-of-32-characters-or-more"
# What each workload's reply must hold: its tool activity line, in plain words.
MARKERS = {
    "hello": b"Hi! I keep your task list",
    "add": "Added “".encode(),
    "list": b"Found ",
}
_serial = itertools.count(1)


def turn_text(workload: str) -> str:
    """The user's message for one turn of `workload`."""
    if workload == "hello":
        return "hello"
    if workload == "list":
        return "show my tasks"
    return f"add benchmark task {next(_serial)} tomorrow"


def chat_env(database_url: str) -> dict[str, str]:
    """Settings shared by every process: JWT mode, the offline model, no rate limiting."""
    return {
        **base_env(),
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "MCP_SERVICE_TOKEN": SERVICE_TOKEN,
        "TASKCHAT_MODEL": "offline",
        "RATE_LIMIT": "10000000/minute",
    }


@dataclass
class User:
    """One simulated user: a connection, a token and a thread on one server."""

    port: int
    headers: dict[str, str]
    connection: Connection
    thread_id: str = ""

    async def turn(self, text: str) -> Answer:
        """Send one message to the user's thread and read the whole streamed answer."""
        body = add_message(self.thread_id, text)
        return await self.connection.send(request_bytes(self.port, "/chatkit", body, self.headers))


class FloorUser(User):
    """The add turn's floor: its insert as one plain JSON POST to bench/floor_app.py."""

    async def turn(self, text: str) -> Answer:
        """POST the task the add turn would add (title, due tomorrow) and read the answer."""
        title = text.removeprefix("add ").removesuffix(" tomorrow")
        body = {"title": title, "due": (date.today() + timedelta(days=1)).isoformat()}
        return await self.connection.send(request_bytes(self.port, "/add", body))


async def make_users(port: int, count: int, tokens: list[str] | None) -> list[User]:
    """`count` users with a connection and a fresh thread each (started with "hello")."""
    users = []
    for index in range(count):
        headers = {"Authorization": f"Bearer {tokens[index]}"} if tokens else {}
        user = User(port, headers, await Connection(port).open())
        answer = await user.connection.send(
            request_bytes(port, "/chatkit", create_thread("hello"), headers)
        )
        user.thread_id = thread_id_of(answer)
        users.append(user)
    return users


async def tool_time(connection: Connection) -> tuple[float, float]:
    """(calls, seconds) the chat server has spent in MCP tool calls so far."""
    answer = await connection.send(b"GET /bench/tool-time HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = json.loads(answer.body)
    return data["calls"], data["seconds"]


class TurnSamples(Samples):
    """Samples of turns, keeping the first reason a turn failed."""

    first_failure: str | None = None

    def note_failure(self, reason: str) -> None:
        """Remember the first failure's reason, for the report."""
        if self.first_failure is None:
            self.first_failure = reason


async def drive(users: list[User], workload: str, seconds: float, samples: TurnSamples) -> float:
    """Every user sends turns back to back for `seconds`; returns the summed turn time."""
    deadline = time.perf_counter() + seconds
    marker = MARKERS[workload]
    finals: list[float] = []
    total = 0.0
    failures = 0

    async def user_loop(user: User) -> None:
        nonlocal total, failures
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                answer = await user.turn(turn_text(workload))
            except HTTPError as exc:
                failures += 1
                samples.note_failure(str(exc))
                await asyncio.sleep(0.05)
                continue
            end = time.perf_counter()
            if isinstance(user, FloorUser):
                problem = None if b'"id"' in answer.body else "unexpected reply"
            else:
                problem = failed(answer) or (None if marker in answer.body else "unexpected reply")
            if problem:
                failures += 1
                samples.note_failure(problem)
                continue
            finals.append(answer.last_item - start)
            samples.note("first_event_s", answer.first_byte - start)
            total += end - start

    start = time.perf_counter()
    await asyncio.gather(*(user_loop(user) for user in users))
    samples.add_round(finals, time.perf_counter() - start, failures)
    return total


Cell = tuple[str, str, int, int]  # workload, server, users, worker processes


async def measure(
    args: Any, ports: dict[tuple[str, int], int], pids: dict[tuple[str, int], int]
) -> dict[Cell, TurnSamples]:
    settings = Settings(jwt_secret=SECRET)
    most = max(args.levels)
    tokens = [mint_jwt(f"bench-user-{i}", settings, ttl_seconds=86400) for i in range(most)]
    hello_users = max(args.hello_levels)
    taskchat, stock = ports["taskchat", 1], ports["stock", 1]
    # Each workload has threads of its own, so a "hello" thread holds only "hello" turns on
    # both servers; the list user lists the tasks of the first add user.
    floor = ports["floor", 1]
    users: dict[tuple[str, str, int], list[User]] = {
        ("hello", "taskchat", 1): await make_users(taskchat, hello_users, tokens),
        ("hello", "stock", 1): await make_users(stock, hello_users, None),
        ("add", "taskchat", 1): await make_users(taskchat, most, tokens),
        ("list", "taskchat", 1): await make_users(taskchat, 1, tokens),
        ("add", "floor", 1): [
            FloorUser(floor, {}, await Connection(floor).open()) for _ in range(most)
        ],
    }
    for workers in args.workers[1:]:
        group = await make_users(ports["taskchat", workers], most, tokens)
        users["add", "taskchat", workers] = group
    timer = await Connection(taskchat).open()
    cells: list[Cell] = [
        ("hello", server, n, 1) for n in args.hello_levels for server in ("taskchat", "stock")
    ]
    cells += [("add", "taskchat", n, w) for n in args.levels for w in args.workers]
    cells += [("add", "floor", n, 1) for n in args.levels]
    cells.append(("list", "taskchat", 1, 1))
    results = {cell: TurnSamples() for cell in cells}
    for workload, server, n, w in cells:  # warm up every path
        await drive(users[workload, server, w][:n], workload, args.warmup, TurnSamples())
    for _, order in rounds(args.rounds, cells):
        for workload, server, n, w in order:
            samples = results[workload, server, n, w]
            timed = server == "taskchat" and w == 1
            before = await tool_time(timer) if timed else (0.0, 0.0)
            group = users[workload, server, w][:n]
            cpu_before, done_before = tree_cpu_seconds(pids[server, w]), len(samples.latencies)
            turn_seconds = await drive(group, workload, args.seconds, samples)
            turns = len(samples.latencies) - done_before
            if turns > 0:
                cpu = tree_cpu_seconds(pids[server, w]) - cpu_before
                samples.note("cpu_per_turn_s", cpu / turns)
            if timed and turn_seconds > 0:
                after = await tool_time(timer)
                calls, tool_seconds = after[0] - before[0], after[1] - before[1]
                samples.note("outside_tool_share", 1 - tool_seconds / turn_seconds)
                samples.note("tool_calls_per_turn", calls / max(len(samples.latencies), 1))
    for connection in [timer, *(u.connection for group in users.values() for u in group)]:
        await connection.close()
    return results


def report(args: Any, results: dict[Cell, TurnSamples]) -> dict[str, Any]:
    headers = [
        "workload",
        "server",
        "workers",
        "users",
        "first event p50 ms",
        "first event p95 ms",
        "final item p50 ms",
        "final item p95 ms",
        "turns/s",
        "failed",
        "chat CPU ms/turn",
        "outside tool call",
    ]
    rows, out = [], {}
    for (workload, server, n, w), s in results.items():
        firsts = s.extra.get("first_event_s", [])
        share = s.median("outside_tool_share") if "outside_tool_share" in s.extra else None
        rows.append(
            [
                workload,
                server,
                str(w),
                str(n),
                fmt(ms(percentile(firsts, 50))),
                fmt(ms(percentile(firsts, 95))),
                fmt(ms(s.p50)),
                fmt(ms(s.p95)),
                fmt(s.rate, 1),
                str(s.failures),
                fmt(ms(s.median("cpu_per_turn_s"))) if "cpu_per_turn_s" in s.extra else "–",
                "–"
                if workload == "hello" or share is None or math.isnan(share)
                else f"{share:.0%}",
            ]
        )
        summary = s.summary()
        summary.pop("first_event_s", None)
        summary["first_event_p50_ms"] = ms(percentile(firsts, 50))
        summary["first_event_p95_ms"] = ms(percentile(firsts, 95))
        summary["workers"] = w
        # One-worker cells keep their names; the others say how many workers ran.
        out[f"{workload}/{server}/{n}" + ("" if w == 1 else f"/w{w}")] = summary
    print(
        table(
            f"ChatKit turns, offline model ({args.database}; {args.rounds} rounds)", headers, rows
        )
    )
    ratio_rows = []
    ratios: dict[str, float] = {}
    for n in args.hello_levels:
        ours, stock = results["hello", "taskchat", n, 1], results["hello", "stock", n, 1]
        ratios[f"hello_p50_taskchat_over_stock_{n}"] = ours.p50 / stock.p50
        ratios[f"hello_rate_stock_over_taskchat_{n}"] = stock.rate / ours.rate
        ratio_rows.append(
            [f"no-tool turn, {n} user(s)", fmt(ours.p50 / stock.p50), fmt(stock.rate / ours.rate)]
        )
    print(
        table(
            "taskchat ÷ stock ChatKit server (same turn, same run)",
            ["turn", "final item p50 ratio", "stock turns/s ÷ taskchat"],
            ratio_rows,
        )
    )
    floor_rows = []
    for n in args.levels:
        ours, floor = results["add", "taskchat", n, 1], results["add", "floor", n, 1]
        wall = ours.p50 / floor.p50
        cpu = ours.median("cpu_per_turn_s") / floor.median("cpu_per_turn_s")
        ratios[f"add_p50_over_floor_{n}"] = wall
        ratios[f"add_cpu_over_floor_{n}"] = cpu
        floor_rows.append([f"add-task turn, {n} user(s)", fmt(wall), fmt(cpu)])
    print(
        table(
            "taskchat add-task turn ÷ its floor (one insert, one plain POST; same run)",
            ["turn", "final item p50 ratio", "server CPU per turn ratio"],
            floor_rows,
        )
    )
    return {"cells": out, "ratios": ratios}


async def run(args: Any) -> None:
    print(describe_machine("before"))
    with database(args.database) as url:
        env = chat_env(url)
        with process("mcp_server", env, "MCP_PORT") as mcp:
            chat_env_ = {**env, "MCP_SERVER_URL": f"{mcp.base_url}/mcp"}
            with ExitStack() as servers:
                started = {
                    ("stock", 1): servers.enter_context(
                        process("bench.stock_chatkit", chat_env_, "CHAT_PORT")
                    ),
                    ("floor", 1): servers.enter_context(
                        process("bench.floor_app", chat_env_, "CHAT_PORT")
                    ),
                }
                for workers in args.workers:
                    workers_env = {**chat_env_, "WEB_CONCURRENCY": str(workers)}
                    started["taskchat", workers] = servers.enter_context(
                        process("bench.chat_app", workers_env, "CHAT_PORT")
                    )
                ports = {key: server.port for key, server in started.items()}
                pids = {key: server.process.pid for key, server in started.items()}
                results = await measure(args, ports, pids)
    print(describe_machine("after"))
    out = report(args, results)
    problems: list[str] = []
    for (workload, server, n, _w), s in results.items():
        why = f" (first: {s.first_failure})" if s.first_failure else ""
        check(s.failures == 0, f"{workload}/{server}/{n}: {s.failures} failed turns{why}", problems)
        check(len(s.latencies) > 0, f"{workload}/{server}/{n}: no turn completed", problems)
    write_json(args, {"benchmark": "chat_turns", "database": args.database, **out})
    finish(problems)


def main(argv: list[str] | None = None) -> None:
    """Parse options and run the benchmark."""
    parser = base_parser(__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, help="per cell and round (default 3, quick 0.5)")
    parser.add_argument(
        "--workers", default="1,2", help="WEB_CONCURRENCY values for the add workload (1 always)"
    )
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.seconds = args.seconds or (0.5 if args.quick else 3.0)
    args.warmup = 0.2 if args.quick else 1.0
    args.levels = [1, 4] if args.quick else [1, 16, 64]
    args.hello_levels = [1] if args.quick else [1, 16]
    args.workers = sorted({1, *(int(w) for w in args.workers.split(","))})
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
