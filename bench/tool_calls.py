"""Tool calls: list_tasks (50 results) and add_task through every way of calling them.

Ways, measured side by side in interleaved rounds against one database:
  in-process      mcp_server/tasks.py through run_db, no HTTP (the database work alone)
  plain HTTP      bench/floor_app.py: the same work behind a minimal JSON endpoint (the floor)
  MCP raw POST    a hand-built JSON-RPC tools/call POST to the MCP server (server cost only)
  official client one long-lived mcp.Client session, which validates every structured
                  result against the tool's output schema (what other agents pay)
  pool size N     the chat backend's pooled MCP client (chat_server/agent/pool/), N connections
  MCP per call    a new mcp Client per call (discover, tools/list, call), as naive clients do
Each at 1 and at 32 concurrent callers: latency p50/p95, calls/s, and the CPU time per call
in this (client) process and in the server process.

Run: .venv/bin/python -m bench.tool_calls [--quick] [--database sqlite|postgres]
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import httpx2
import pydantic_core
from mcp import Client

from bench.common import (
    CPUMeter,
    Samples,
    base_env,
    base_parser,
    check,
    database,
    describe_machine,
    finish,
    fmt,
    ms,
    process,
    rounds,
    table,
    write_json,
)
from chat_server.agent.pool import MCPPool
from mcp_server import calls, tasks
from shared.db import make_engine, run_db
from shared.migrate import upgrade_all

OPS: dict[str, dict[str, Any]] = {
    "list_tasks": {"limit": 50},
    "add_task": {"title": "Benchmark task", "tags": ["bench"], "due": "2030-01-15"},
}
FLOOR_PATHS = {"list_tasks": "/list", "add_task": "/add"}
PROTOCOL = "2026-07-28"  # what mcp.Client negotiates with our server
SEED_TASKS = 50
Call = Callable[[], Awaitable[None]]


class Way:
    """One way of making the calls; `call(op)` returns a zero-argument coroutine function."""

    name = ""
    server = ""  # "mcp", "floor" or "" (whose CPU time counts as server time)

    async def open(self) -> None:
        """Connect, if this way keeps connections."""

    async def close(self) -> None:
        """Disconnect."""

    def call(self, op: str) -> Call:
        raise NotImplementedError


class InProcess(Way):
    name, server = "in-process", ""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)

    def call(self, op: str) -> Call:
        if op == "list_tasks":
            query = tasks.TaskQuery(**OPS[op])

            async def list_call() -> None:
                pydantic_core.to_json(
                    await run_db(self.engine, tasks.list_tasks, user_id="local", query=query)
                )

            return list_call
        data = tasks.NewTask(**OPS[op])

        async def add_call() -> None:
            change = await run_db(
                self.engine, calls.apply, tasks.add_task, user_id="local", call_id=None, data=data
            )
            pydantic_core.to_json(change)

        return add_call

    async def close(self) -> None:
        self.engine.dispose()


class PlainHTTP(Way):
    name, server = "plain HTTP (floor)", "floor"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def open(self) -> None:
        limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
        # httpx's 5 s default counts a call queued on a busy 2-core machine as failed.
        self.http = httpx2.AsyncClient(base_url=self.base_url, limits=limits, timeout=30)

    async def close(self) -> None:
        await self.http.aclose()

    def call(self, op: str) -> Call:
        body, path = pydantic_core.to_json(OPS[op]), FLOOR_PATHS[op]
        headers = {"Content-Type": "application/json"}

        async def send() -> None:
            response = await self.http.post(path, content=body, headers=headers)
            if response.status_code != HTTPStatus.OK:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
            response.json()

        return send


class RawMCP(PlainHTTP):
    name, server = "MCP raw POST", "mcp"

    def call(self, op: str) -> Call:
        meta = {
            "io.modelcontextprotocol/protocolVersion": PROTOCOL,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        params = {"name": op, "arguments": OPS[op], "_meta": meta}
        body = pydantic_core.to_json(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
        )
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": PROTOCOL,
            "Mcp-Method": "tools/call",
            "Mcp-Name": op,
        }

        async def send() -> None:
            response = await self.http.post("/mcp", content=body, headers=headers)
            answer = response.json()
            if (
                response.status_code != HTTPStatus.OK
                or "error" in answer
                or answer["result"]["isError"]
            ):
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")

        return send


class Pooled(Way):
    server = "mcp"

    def __init__(self, url: str, size: int) -> None:
        self.name = f"MCPPool size {size}"
        self.pool = MCPPool(url, size=size)

    async def open(self) -> None:
        await self.pool.connect()

    async def close(self) -> None:
        await self.pool.cleanup()

    def call(self, op: str) -> Call:
        async def send() -> None:
            result = await self.pool.call_tool(op, OPS[op])
            if result.is_error:
                raise RuntimeError(str(result.content))

        return send


class OfficialClient(Way):
    name, server = "official client (validating)", "mcp"

    def __init__(self, url: str) -> None:
        self.client = Client(url)

    async def open(self) -> None:
        await self.client.__aenter__()
        await self.client.list_tools()  # the output schemas it validates results against

    async def close(self) -> None:
        await self.client.__aexit__(None, None, None)

    def call(self, op: str) -> Call:
        async def send() -> None:
            result = await self.client.call_tool(op, OPS[op])
            if result.is_error:
                raise RuntimeError(str(result.content))

        return send


class PerCall(Way):
    name, server = "MCP connection per call", "mcp"

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, op: str) -> Call:
        async def send() -> None:
            async with Client(self.url) as client:
                result = await client.call_tool(op, OPS[op])
            if result.is_error:
                raise RuntimeError(str(result.content))

        return send


async def load(call: Call, callers: int, seconds: float) -> tuple[list[float], float, int]:
    """`callers` loops calling `call` until `seconds` pass: (latencies, elapsed, failures)."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                await call()
            except Exception:
                failures += 1
                await asyncio.sleep(0.01)  # a broken way must not spin
                continue
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return latencies, time.perf_counter() - start, failures


async def seed(database_url: str) -> None:
    """Create the tables and the local user's first tasks, so list_tasks returns 50."""
    engine = make_engine(database_url)
    upgrade_all(engine)
    for i in range(SEED_TASKS):
        data = tasks.NewTask(title=f"Seeded task {i}", tags=["home"], due="2030-01-01")
        await run_db(engine, calls.apply, tasks.add_task, user_id="local", call_id=None, data=data)
    engine.dispose()


async def measure(args: Any, database_url: str, mcp_pid: int, mcp_url: str, floor: Any) -> dict:
    ways: list[Way] = [
        InProcess(database_url),
        PlainHTTP(floor.base_url),
        RawMCP(mcp_url.removesuffix("/mcp")),
        OfficialClient(mcp_url),
        *(Pooled(mcp_url, size) for size in args.pool_sizes),
        PerCall(mcp_url),
    ]
    pids = {"mcp": mcp_pid, "floor": floor.process.pid}
    for way in ways:
        await way.open()
    cells = [(op, callers, way) for op in OPS for callers in args.callers for way in ways]
    results = {(op, c, w.name): Samples() for op, c, w in cells}
    try:
        for op, callers, way in cells:  # warm every path (imports, connections, caches)
            await load(way.call(op), callers, args.warmup)
        for _, order in rounds(args.rounds, cells):
            for op, callers, way in order:
                with CPUMeter(list(pids.values())) as cpu:
                    latencies, elapsed, failures = await load(way.call(op), callers, args.seconds)
                samples = results[op, callers, way.name]
                samples.add_round(latencies, elapsed, failures)
                calls = max(len(latencies), 1)
                samples.note("client_cpu_us", cpu.client / calls * 1e6)
                samples.note("server_cpu_us", sum(cpu.servers) / calls * 1e6)
    finally:
        for way in ways:
            await way.close()
    return {"ways": [w.name for w in ways], "results": results}


def report(args: Any, measured: dict, database_kind: str) -> dict[str, Any]:
    ways, results = measured["ways"], measured["results"]
    headers = [
        "way",
        "callers",
        "p50 ms",
        "p95 ms",
        "calls/s",
        "p50 ÷ floor",
        "floor calls/s ÷",
        "client CPU µs/call",
        "server CPU µs/call",
        "failed",
    ]
    out: dict[str, Any] = {"database": database_kind, "tables": {}}
    for op in OPS:
        rows = []
        for callers in args.callers:
            floor = results[op, callers, PlainHTTP.name]
            for name in ways:
                s = results[op, callers, name]
                rows.append(
                    [
                        name,
                        str(callers),
                        fmt(ms(s.p50)),
                        fmt(ms(s.p95)),
                        fmt(s.rate, 0),
                        fmt(s.p50 / floor.p50),
                        fmt(floor.rate / s.rate),
                        fmt(s.median("client_cpu_us"), 0),
                        fmt(s.median("server_cpu_us"), 0),
                        str(s.failures),
                    ]
                )
                out["tables"].setdefault(op, {}).setdefault(str(callers), {})[name] = s.summary()
        title = f"{op} ({database_kind}, {SEED_TASKS}+ tasks; {args.rounds} rounds)"
        print(table(title, headers, rows))
    default = f"MCPPool size {args.ratio_pool}"
    ratio_rows = []
    for op in OPS:
        for callers in args.callers:
            pool = results[op, callers, default]
            floor = results[op, callers, PlainHTTP.name]
            per_call = results[op, callers, PerCall.name]
            ratios = {
                "pooled_p50_over_floor": pool.p50 / floor.p50,
                "floor_rate_over_pooled": floor.rate / pool.rate,
                "per_call_p50_over_pooled": per_call.p50 / pool.p50,
                "pooled_rate_over_per_call": pool.rate / per_call.rate,
            }
            out.setdefault("ratios", {}).setdefault(op, {})[str(callers)] = ratios
            ratio_rows.append([op, str(callers), *(fmt(v) for v in ratios.values())])
    print(
        table(
            f"Ratios ({default}, the chat backend's default)",
            [
                "tool",
                "callers",
                "pooled ÷ floor (p50)",
                "floor ÷ pooled (calls/s)",
                "per call ÷ pooled (p50)",
                "pooled ÷ per call (calls/s)",
            ],
            ratio_rows,
        )
    )
    return out


async def run(args: Any) -> None:
    problems: list[str] = []
    print(describe_machine("before"))
    with database(args.database) as url:
        await seed(url)
        env = {**base_env(), "DATABASE_URL": url, "JWT_SECRET": ""}
        with (
            process("mcp_server", env, "MCP_PORT") as mcp,
            process("bench.floor_app", env, "CHAT_PORT") as floor,
        ):
            measured = await measure(args, url, mcp.process.pid, f"{mcp.base_url}/mcp", floor)
    print(describe_machine("after"))
    out = report(args, measured, args.database)
    for (op, callers, name), s in measured["results"].items():
        check(s.failures == 0, f"{name} {op} x{callers}: {s.failures} failed calls", problems)
        check(len(s.latencies) > 0, f"{name} {op} x{callers}: no call completed", problems)
    write_json(args, {"benchmark": "tool_calls", **out})
    finish(problems)


def main(argv: list[str] | None = None) -> None:
    """Parse options and run the benchmark."""
    parser = base_parser(__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, help="per way and round (default 2, quick 0.3)")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.seconds = args.seconds or (0.3 if args.quick else 2.0)
    args.warmup = 0.1 if args.quick else 0.5
    args.callers = [1, 32]
    args.pool_sizes = [1, 4, 8]
    args.ratio_pool = 4
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
