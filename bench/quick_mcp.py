"""Quick benchmark: an MCP tool call against the same database work behind a plain JSON endpoint.

Starts `python -m mcp_server` (local mode) and a minimal Starlette JSON app on the same
SQLite file, seeds 50 tasks, then measures with a tiny keep-alive HTTP/1.1 client (so the
load generator spends as little of the two cores as possible):
  - sequential latency (median / p90) of list_tasks (50 tasks) and add_task;
  - throughput with 32 concurrent callers.
Run: .venv/bin/python -m bench.quick_mcp [--seconds 5] [--protocol 2025-06-18]
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Run as a script, bench/ would come first on sys.path and its modules shadow the stdlib.
sys.path[:] = [ROOT] + [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(
    os.path.abspath(__file__))]

from tests.servers import free_port, running  # noqa: E402


def baseline_app(database_url: str):  # type: ignore[no-untyped-def]
    """The same task functions behind two plain JSON routes: the floor to compare with."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from shared import tasks
    from shared.db import make_engine, run_db

    engine = make_engine(database_url)

    async def list_route(request: Request) -> JSONResponse:
        body = await request.json()
        page = await run_db(engine, tasks.list_tasks, user_id="local",
                            query=tasks.TaskQuery(**body))
        return JSONResponse(page)

    async def add_route(request: Request) -> JSONResponse:
        body = await request.json()
        change = await run_db(engine, tasks.add_task, user_id="local",
                              data=tasks.NewTask(**body))
        return JSONResponse(change)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/list", list_route, methods=["POST"]),
                             Route("/add", add_route, methods=["POST"]),
                             Route("/healthz", healthz)])


class Conn:
    """One keep-alive HTTP/1.1 connection that sends prebuilt requests."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def open(self) -> "Conn":
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def send(self, request: bytes) -> bytes:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = head[9:12]
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await self.reader.readexactly(length)
        if status != b"200":
            raise RuntimeError(f"HTTP {status!r}: {body[:300]!r}")
        return body


def http_post(port: int, path: str, payload: dict, headers: dict[str, str]) -> bytes:
    body = json.dumps(payload).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
             "Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


MODERN = ("2026-07-28",)


def mcp_call(port: int, tool: str, arguments: dict, protocol: str | None) -> bytes:
    headers = {"Accept": "application/json, text/event-stream"}
    params: dict = {"name": tool, "arguments": arguments}
    if protocol:
        headers["MCP-Protocol-Version"] = protocol
    if protocol in MODERN:
        # 2026-07-28 requests carry their envelope in _meta and mirror routing in headers.
        headers.update({"Mcp-Method": "tools/call", "Mcp-Name": tool})
        params["_meta"] = {"io.modelcontextprotocol/protocolVersion": protocol,
                           "io.modelcontextprotocol/clientCapabilities": {}}
    payload = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    return http_post(port, "/mcp", payload, headers)


async def latency(port: int, request: bytes, calls: int) -> list[float]:
    conn = await Conn(port).open()
    for _ in range(20):
        await conn.send(request)
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await conn.send(request)
        samples.append(time.perf_counter() - start)
    conn.writer.close()
    return samples


async def throughput(port: int, request: bytes, workers: int, seconds: float) -> float:
    conns = [await Conn(port).open() for _ in range(workers)]
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(conn: Conn) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await conn.send(request)
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - start
    for conn in conns:
        conn.writer.close()
    return done / elapsed


def summary(samples: list[float]) -> str:
    samples = sorted(samples)
    return (f"median {statistics.median(samples) * 1000:.2f} ms, "
            f"p90 {samples[int(len(samples) * 0.9)] * 1000:.2f} ms")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux): immune to other processes' load."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(name: str, server, request: bytes, args: argparse.Namespace) -> float:  # type: ignore[no-untyped-def]
    """Print wall latency, server CPU per call and throughput; return the CPU per call."""
    before = cpu_seconds(server.process.pid)
    samples = await latency(server.port, request, args.calls)
    cpu = (cpu_seconds(server.process.pid) - before) / args.calls
    rate = await throughput(server.port, request, args.workers, args.seconds)
    print(f"  {name:<28} {summary(samples)}, server CPU {cpu * 1000:.2f} ms/call, "
          f"{rate:,.0f} calls/s with {args.workers} callers")
    return cpu


async def run(args: argparse.Namespace, database_url: str) -> None:
    from shared import tasks
    from shared.db import create_tables, make_engine, run_db

    engine = make_engine(database_url)
    create_tables(engine)
    for i in range(50):
        await run_db(engine, tasks.add_task, user_id="local", data=tasks.NewTask(
            title=f"task {i}", description="some words " * 5, due="2025-03-10",
            tags=["home", "errands"], priority="high"))
    env = {"DATABASE_URL": database_url, "JWT_SECRET": ""}
    mcp_port, base_port = free_port(), free_port()
    with running("mcp_server", {**env, "MCP_PORT": str(mcp_port)}, mcp_port) as mcp_server, \
            running("bench.quick_mcp", {**env, "BENCH_BASELINE_PORT": str(base_port)},
                    base_port) as base_server:
        list_args = {"limit": 50}
        add_args = {"title": "bench", "tags": ["x"], "due": "2025-03-10"}
        print(f"SQLite, 50 tasks; protocol header: {args.protocol or '(none)'}")
        rows = [
            ("list_tasks (50)", http_post(base_port, "/list", list_args, {}),
             mcp_call(mcp_port, "list_tasks", list_args, args.protocol)),
            ("add_task", http_post(base_port, "/add", add_args, {}),
             mcp_call(mcp_port, "add_task", add_args, args.protocol)),
        ]
        for name, plain, mcp in rows:
            base = await measure(f"plain JSON {name}", base_server, plain, args)
            tool = await measure(f"MCP tool   {name}", mcp_server, mcp, args)
            print(f"  -> MCP / plain server CPU per call: {tool / base:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--protocol", default="2026-07-28",
                        help="MCP-Protocol-Version to send: 2026-07-28 (what mcp.Client and "
                        "openai-agents negotiate), 2025-06-18, or '' for none")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        asyncio.run(run(args, url))


if __name__ == "__main__":
    if port := os.environ.get("BENCH_BASELINE_PORT"):
        import uvicorn

        uvicorn.run(baseline_app(os.environ["DATABASE_URL"]), host="127.0.0.1", port=int(port),
                    log_level="warning")
    else:
        main()
