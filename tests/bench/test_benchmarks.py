"""Every benchmark's quick mode runs end to end and reports what it promises, so CI keeps the
benchmarks working. Timings are not asserted: CI machines are shared and noisy."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.common import postgres_available
from testbed.servers import ROOT

pytestmark = pytest.mark.e2e

WAYS = [
    "in-process",
    "plain HTTP (floor)",
    "MCP raw POST",
    "official client (validating)",
    "MCPPool size 1",
    "MCPPool size 4",
    "MCPPool size 8",
    "MCP connection per call",
]


def run_quick(module: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    """Run `python -m bench.<module> --quick` and return the JSON results it wrote."""
    out = tmp_path / f"{module}.json"
    command = [sys.executable, "-m", f"bench.{module}", "--quick", "--json", str(out), *args]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "**" in done.stdout  # printed its tables
    return json.loads(out.read_text())


def test_tool_calls_quick_mode_measures_every_way_at_1_and_32_callers(tmp_path: Path) -> None:
    results = run_quick("tool_calls", tmp_path)
    assert results["machine"]["nproc"] == os.cpu_count()
    for tool in ("list_tasks", "add_task"):
        assert sorted(results["tables"][tool]) == ["1", "32"]
        for callers in ("1", "32"):
            cells = results["tables"][tool][callers]
            assert list(cells) == WAYS
            assert all(cell["n"] > 0 and cell["failures"] == 0 for cell in cells.values())
        assert results["ratios"][tool]["1"]["pooled_p50_over_floor"] > 0


def test_chat_turns_quick_mode_runs_turns_on_both_servers_with_none_failing(
    tmp_path: Path,
) -> None:
    results = run_quick("chat_turns", tmp_path)
    cells = results["cells"]
    expected = [
        "add/floor/1",
        "add/floor/4",
        "add/taskchat/1",
        "add/taskchat/1/w2",
        "add/taskchat/4",
        "add/taskchat/4/w2",
        "hello/stock/1",
        "hello/taskchat/1",
        "list/taskchat/1",
    ]
    assert sorted(cells) == expected
    assert all(cell["n"] > 0 and cell["failures"] == 0 for cell in cells.values())
    assert 0 < cells["add/taskchat/1"]["outside_tool_share"] < 1
    assert cells["add/taskchat/1"]["tool_calls_per_turn"] == 1
    assert cells["add/taskchat/4/w2"]["workers"] == 2
    assert cells["add/taskchat/4"]["cpu_per_turn_s"] > 0
    assert results["ratios"]["hello_p50_taskchat_over_stock_1"] > 0
    assert results["ratios"]["add_cpu_over_floor_4"] > 0


def test_scale_quick_mode_lists_every_page_on_each_database(tmp_path: Path) -> None:
    # CI must measure PostgreSQL too (the conftest rule: skip it locally only when it is down).
    with_postgres = bool(os.environ.get("CI")) or postgres_available()
    databases = ["sqlite", "postgres"] if with_postgres else ["sqlite"]
    results = run_quick("scale", tmp_path, "--databases", ",".join(databases))
    assert results["sizes"] == [1000, 10000]
    sorts = ["created asc", "due desc", "priority asc", "title asc"]
    pages = ["first page", "90% deep"]
    calls = [f"list_tasks by {sort}, {page}" for sort in sorts for page in pages]
    calls += [f"{call}, {page}" for call in ("threads.list", "items.list") for page in pages]
    # A selective search everywhere; a search with a typo where similarity finds it.
    searches = {"sqlite": ["'plumber'"], "postgres": ["'plumber'", "'plumbr'"]}
    expected = [f"{db}/{call}" for db in databases for call in calls]
    expected += [f"{db}/list_tasks search {t}, 10 match" for db in databases for t in searches[db]]
    assert sorted(results["cells"]) == sorted(expected)
    assert all(cell["ratio"] > 0 for cell in results["cells"].values())


def test_memory_quick_mode_reads_both_servers_rss_with_no_failed_turn(tmp_path: Path) -> None:
    results = run_quick("memory", tmp_path)
    assert results["turns"] == 300
    assert results["failures"] == 0
    for server in ("chat server", "MCP server"):
        numbers = results[server]
        assert 0 < numbers["idle_mib"] <= numbers["peak_mib"]
    assert [point["turns"] for point in results["curve"]][-1] == 300


def test_offline_parse_quick_mode_times_ordinary_and_attack_messages_up_to_the_limit(
    tmp_path: Path,
) -> None:
    results = run_quick("offline_parse", tmp_path)
    corpora = results["corpora"]
    assert sorted(corpora) == ["attacks", "ordinary phrasings"]
    assert corpora["attacks"]["longest_chars"] == 4000
    assert all(0 < c["p50_ms"] <= c["worst_ms"] for c in corpora.values())
    report = results["report"]
    assert report[0]["old_title_tail_ms"] is not None and report[-1]["old_title_tail_ms"] is None


@pytest.mark.parametrize(("max_load", "published"), [("-1", False), ("10000", True)])
def test_a_run_on_a_machine_busier_than_max_load_is_not_published(
    tmp_path: Path, max_load: str, published: bool
) -> None:
    out = tmp_path / "parse.json"
    command = [sys.executable, "-m", "bench.offline_parse", "--quick", "--json", str(out),
               "--max-load", max_load]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert out.exists() is published
    if published:
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(out.read_text())["max_load"] == float(max_load)
    else:
        assert done.returncode == 3
        assert "NOT PUBLISHED: the load average reached" in done.stderr
        assert "above --max-load -1" in done.stderr
