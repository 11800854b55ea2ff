"""What every benchmark shares: statistics, Markdown tables, the machine, databases, processes.

Timings on a shared 2-core machine are noisy, so benchmarks run the things they compare in
interleaved rounds (`rounds()` rotates their order) and report ratios from the same run.
"""

import argparse
import json
import math
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from testbed.databases import postgres_problem, postgres_schema
from testbed.servers import Server, free_port, start_server

T = TypeVar("T")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- statistics ---------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Samples:
    """Latencies (seconds) of one measured thing, gathered over every round."""

    latencies: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    """Throughput of each round (per second)."""
    failures: int = 0
    extra: dict[str, list[float]] = field(default_factory=dict)

    def add_round(self, latencies: list[float], elapsed: float, failures: int = 0) -> None:
        """Record one round: its latencies, and its throughput over `elapsed` seconds."""
        self.latencies += latencies
        self.failures += failures
        if elapsed > 0:
            self.rates.append(len(latencies) / elapsed)

    def note(self, name: str, value: float) -> None:
        """Record one value of a side measurement (CPU per call, tool time...)."""
        self.extra.setdefault(name, []).append(value)

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95)

    @property
    def rate(self) -> float:
        """The median of the rounds' throughputs."""
        return statistics.median(self.rates) if self.rates else float("nan")

    def median(self, name: str) -> float:
        """The median of a side measurement, NaN if never recorded."""
        values = self.extra.get(name)
        return statistics.median(values) if values else float("nan")

    def summary(self) -> dict[str, Any]:
        """JSON-ready numbers: milliseconds, per-second rates and counts."""
        return {
            "n": len(self.latencies),
            "p50_ms": ms(self.p50),
            "p95_ms": ms(self.p95),
            "rate": round(self.rate, 1),
            "failures": self.failures,
            **{name: round(self.median(name), 4) for name in self.extra},
        }


def ms(seconds: float) -> float:
    """Seconds as milliseconds, rounded for tables."""
    return round(seconds * 1000, 3)


def rounds(count: int, names: Sequence[T]) -> Iterator[tuple[int, list[T]]]:
    """`count` rounds over `names`, each in a rotated order so no one always goes first."""
    for index in range(count):
        shift = index % len(names)
        yield index, [*names[shift:], *names[:shift]]


# --- output -------------------------------------------------------------------------


def fmt(value: float, digits: int = 2) -> str:
    """A number for a table cell; NaN becomes a dash."""
    if math.isnan(value):
        return "–"
    return f"{value:,.{digits}f}"


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with a bold title line, ready to paste into docs/benchmarks.md."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    lines = [f"**{title}**", "", line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [line(row) for row in rows]
    return "\n".join(lines) + "\n"


def machine() -> dict[str, Any]:
    """The machine the numbers came from, and how busy it was when they were taken."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read())
            model = found.group(1).strip() if found else model
    except OSError:
        pass
    ram_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(ram_gib, 1),
        "python": platform.python_version(),
        "load": [round(x, 2) for x in os.getloadavg()],
    }


LOADS_SEEN: list[float] = []
"""The 1-minute load averages `describe_machine` printed in this run (before and after)."""


def describe_machine(when: str) -> str:
    """One line on the machine and its load average, printed with every table."""
    m = machine()
    LOADS_SEEN.append(m["load"][0])
    load = ", ".join(f"{x:.2f}" for x in m["load"])
    return (
        f"machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, "
        f"Python {m['python']}; load average {when}: {load}"
    )


def base_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every benchmark takes: --quick, --rounds, --json."""
    parser = argparse.ArgumentParser(
        description=(doc or "").strip().splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a small run for CI (seconds)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default: 5, quick: 1)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    parser.add_argument(
        "--max-load",
        type=float,
        help="refuse to publish a run whose 1-minute load average, before or after, is above "
        "this: it exits with status 3 and writes no JSON (default for a full run: the number "
        "of CPUs; a --quick run is checked only when this is given)",
    )
    return parser


def write_json(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Write `results` plus the machine description to `args.json`, if given, unless the
    machine was busier than `--max-load` (then say so and exit 3: not fit to publish)."""
    limit = args.max_load
    if limit is None and not args.quick:
        limit = float(os.cpu_count() or 1)
    worst = max(LOADS_SEEN, default=os.getloadavg()[0])
    if limit is not None and worst > limit:
        print(
            f"NOT PUBLISHED: the load average reached {worst:.2f}, above --max-load "
            f"{limit:g}; other work shared the CPUs, so these numbers are not this code's",
            file=sys.stderr,
        )
        sys.exit(3)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": machine(), "max_load": limit, **results}, out, indent=2)


# --- databases ----------------------------------------------------------------------


def postgres_available() -> bool:
    """Whether the PostgreSQL server the tests use answers."""
    return postgres_problem() is None


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A URL to an empty database: a temporary SQLite file, or a PostgreSQL schema of its own."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="taskchat-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    if kind != "postgres":
        raise ValueError(f"database must be sqlite or postgres, not {kind!r}")
    with postgres_schema("bench") as url:
        yield url


# --- processes ----------------------------------------------------------------------


@contextmanager
def process(module: str, env: dict[str, str], port_var: str) -> Iterator[Server]:
    """Run `python -m module` on a free port (passed in `port_var`) until the block ends."""
    port = free_port()
    server = start_server(module, {**env, port_var: str(port)}, port, timeout=60)
    try:
        yield server
    finally:
        server.stop()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the command name (which may hold spaces) start after the last ')'.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children so far (uvicorn's worker processes)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            kids = [int(child) for child in children.read().split()]
    except OSError:
        kids = []
    return cpu_seconds(pid) + sum(cpu_seconds(kid) for kid in kids)


def memory_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process, in MiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


class CPUMeter:
    """CPU seconds used by this process and some server processes across a block of work."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)

    def __enter__(self) -> "CPUMeter":
        self._client = time.process_time()
        self._servers = [cpu_seconds(pid) for pid in self.pids]
        return self

    def __exit__(self, *exc: object) -> None:
        self.client = time.process_time() - self._client
        after = [cpu_seconds(pid) for pid in self.pids]
        self.servers = [a - b for a, b in zip(after, self._servers, strict=True)]


def check(condition: bool, message: str, problems: list[str]) -> None:
    """Collect `message` when a sanity condition fails (benchmarks exit 1 if any did)."""
    if not condition:
        problems.append(message)


def finish(problems: list[str]) -> None:
    """Exit non-zero, listing why, when a benchmark saw failures it must not hide."""
    if problems:
        for problem in problems:
            print(f"FAILED: {problem}", file=sys.stderr)
        sys.exit(1)


def base_env() -> dict[str, str]:
    """Settings every server process of a benchmark gets: a fixed zone for "tomorrow", and a
    tool-call limit no run reaches (the limiter still counts every call, so its cost shows;
    a one-second window keeps its per-user history as short as a real limit's)."""
    return {"TASKCHAT_TIMEZONE": "UTC", "MCP_RATE_LIMIT": "1000000/second"}
