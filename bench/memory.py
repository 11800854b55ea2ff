"""Memory: resident set size of both servers idle, and as chat turns pile up.

Starts `python -m mcp_server` and `python -m chat_server` (JWT mode, offline model) on one
database, reads each one's RSS and peak RSS (VmHWM) when idle, then drives N chat turns
(default 10,000) from several users at once, each user cycling through
"add ... tomorrow", "show my tasks", "mark task <id> done" and "hello", and starting a new
thread every 20 turns. RSS is read after a warm-up (the first 5% of turns: lazy imports and
caches settle there) and at every tenth of the run; growth is reported from idle and from
the warmed-up value, and as MiB per 1,000 turns after the warm-up (the issue's "flat").

Run: .venv/bin/python -m bench.memory [--quick] [--turns 10000]
"""

import asyncio
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from bench.chat_turns import SECRET, chat_env
from bench.common import (
    base_parser,
    check,
    database,
    describe_machine,
    finish,
    fmt,
    memory_mib,
    process,
    table,
    write_json,
)
from bench.http import (
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

TURNS_PER_THREAD = 20
# The new task's id, from its widget's buttons.
CREATED = re.compile(rb'"payload":\{"task_id":(\d+)\}')
MARKERS = {
    "add": "Added “".encode(),
    "list": b"Found ",
    "complete": "Completed “".encode(),
    "hello": b"Hi! I keep your task list",
}
_serial = itertools.count(1)


@dataclass
class User:
    """One simulated user with a connection, a current thread and their last task id."""

    port: int
    headers: dict[str, str]
    connection: Connection
    thread_id: str = ""
    turns_in_thread: int = 0
    last_task: int | None = None
    cycle: Any = field(default_factory=lambda: itertools.cycle(MARKERS))

    async def turn(self) -> str | None:
        """Send the next turn of the cycle; the reason it failed, or None."""
        kind = next(self.cycle)
        if kind == "complete" and self.last_task is None:
            kind = next(self.cycle)
        text = {
            "add": f"add memory task {next(_serial)} tomorrow",
            "list": "show my tasks",
            "complete": f"mark task {self.last_task} done",
            "hello": "hello",
        }[kind]
        if not self.thread_id or self.turns_in_thread >= TURNS_PER_THREAD:
            request, self.turns_in_thread = create_thread(text), 0
        else:
            request = add_message(self.thread_id, text)
        try:
            answer = await self.connection.send(
                request_bytes(self.port, "/chatkit", request, self.headers)
            )
        except HTTPError as exc:
            return str(exc)
        if request["type"] == "threads.create":
            self.thread_id = thread_id_of(answer)
        self.turns_in_thread += 1
        if kind == "add" and (found := CREATED.search(answer.body)):
            self.last_task = int(found.group(1))
        problem = failed(answer)
        if problem is None and MARKERS[kind] not in answer.body:
            problem = f"{kind} turn: unexpected reply {answer.body[-300:]!r}"
        return problem


SHOWN_REASONS = 3
"""How many failure reasons a run keeps to print: enough to see a pattern."""


async def drive(users: list[User], turns: int, reasons: list[str]) -> int:
    """Send `turns` turns spread over the users, all at once; returns how many failed."""
    remaining = turns
    failures = 0

    async def user_loop(user: User) -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            problem = await user.turn()
            if problem is not None:
                failures += 1
                if len(reasons) < SHOWN_REASONS:
                    reasons.append(problem)

    await asyncio.gather(*(user_loop(user) for user in users))
    return failures


async def run(args: Any) -> None:
    print(describe_machine("before"))
    reasons: list[str] = []
    samples: list[tuple[int, float, float, float, float]] = []
    failures = 0
    with database(args.database) as url:
        env = chat_env(url)
        with process("mcp_server", env, "MCP_PORT") as mcp:
            chat_env_ = {**env, "MCP_SERVER_URL": f"{mcp.base_url}/mcp"}
            with process("chat_server", chat_env_, "CHAT_PORT") as chat:
                pids = (chat.process.pid, mcp.process.pid)
                await asyncio.sleep(1.0)  # let start-up finish allocating

                def sample(done: int) -> None:
                    chat_rss, chat_peak = memory_mib(pids[0])
                    mcp_rss, mcp_peak = memory_mib(pids[1])
                    samples.append((done, chat_rss, chat_peak, mcp_rss, mcp_peak))

                sample(0)
                settings = Settings(jwt_secret=SECRET)
                users = [
                    User(
                        chat.port,
                        {
                            "Authorization": "Bearer "
                            + mint_jwt(f"memory-user-{i}", settings, ttl_seconds=86400)
                        },
                        await Connection(chat.port).open(),
                    )
                    for i in range(args.users)
                ]
                warmup = max(args.turns // 20, args.users)
                steps = [warmup] + [(args.turns - warmup) // 10] * 10
                steps[-1] += args.turns - sum(steps)
                done = 0
                started = time.perf_counter()
                for step in steps:
                    failures += await drive(users, step, reasons)
                    done += step
                    sample(done)
                elapsed = time.perf_counter() - started
                for user in users:
                    await user.connection.close()
    print(describe_machine("after"))
    out = report(args, samples, failures, elapsed)
    problems: list[str] = []
    check(failures == 0, f"{failures} of {args.turns} turns failed, first: {reasons}", problems)
    write_json(args, {"benchmark": "memory", **out})
    finish(problems)


def report(args: Any, samples: list, failures: int, elapsed: float) -> dict[str, Any]:
    idle, warm, last = samples[0], samples[1], samples[-1]
    rows = []
    out: dict[str, Any] = {
        "turns": args.turns,
        "failures": failures,
        "turns_per_second": args.turns / elapsed,
    }
    for name, rss, peak in (("chat server", 1, 2), ("MCP server", 3, 4)):
        growth_warm = last[rss] / warm[rss] - 1
        growth_idle = last[rss] / idle[rss] - 1
        per_thousand = (last[rss] - warm[rss]) / max(last[0] - warm[0], 1) * 1000
        rows.append(
            [
                name,
                fmt(idle[rss], 1),
                fmt(warm[rss], 1),
                fmt(last[rss], 1),
                fmt(last[peak], 1),
                f"{growth_warm:+.1%}",
                f"{growth_idle:+.1%}",
                f"{per_thousand:+.2f}",
            ]
        )
        out[name] = {
            "idle_mib": idle[rss],
            "warm_mib": warm[rss],
            "end_mib": last[rss],
            "peak_mib": last[peak],
            "growth_from_warm": growth_warm,
            "growth_from_idle": growth_idle,
            "mib_per_1000_turns_from_warm": per_thousand,
        }
    print(
        table(
            f"RSS over {args.turns:,} chat turns ({args.users} users at once, "
            f"{args.turns / elapsed:.0f} turns/s, {failures} failed; MiB)",
            [
                "server",
                "idle",
                f"after {samples[1][0]:,} turns (warm)",
                f"after {args.turns:,}",
                "peak (VmHWM)",
                "growth from warm",
                "growth from idle",
                "MiB per 1,000 turns after warm",
            ],
            rows,
        )
    )
    curve = [[f"{done:,}", fmt(chat, 1), fmt(mcp, 1)] for done, chat, _, mcp, _ in samples]
    print(table("RSS as turns pile up (MiB)", ["turns", "chat server", "MCP server"], curve))
    out["curve"] = [{"turns": s[0], "chat_mib": s[1], "mcp_mib": s[3]} for s in samples]
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse options and run the benchmark."""
    parser = base_parser(__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--turns", type=int, help="chat turns (default 10000, quick 300)")
    parser.add_argument("--users", type=int, default=8, help="users sending turns at once")
    args = parser.parse_args(argv)
    args.turns = args.turns or (300 if args.quick else 10_000)
    if args.turns < 10 * args.users:
        parser.error(f"--turns must be at least {10 * args.users} (ten per user)")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
