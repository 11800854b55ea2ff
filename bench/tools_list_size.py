"""`python -m bench.tools_list_size`: how much of a model's context the task tools take.

Lists the tools of a local-mode task server (in process, on an in-memory database) and
prints the length of the compact JSON of `tools/list` (every tool's name, title,
description, input and output schema, annotations, icons and `_meta`), with and without
the icons and `_meta` most hosts keep out of the model's context, divided by 4: a common
estimate of tokens (docs/mcp-server.md, "Size of tools/list"). `--each` adds one line per
tool.
"""

import asyncio
import json
import sys
from typing import Any

from mcp import Client

from mcp_server.server import build_server
from shared.db import make_engine
from shared.settings import Settings


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def measure(each: bool = False) -> None:
    """Print the size of tools/list (and of each tool with `each`)."""
    server = build_server(Settings(_env_file=None, jwt_secret=None), make_engine("sqlite://"))
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    full = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
    seen = [{k: v for k, v in tool.items() if k not in {"icons", "_meta"}} for tool in full]
    for label, dumped in (("all", full), ("without icons and _meta", seen)):
        size = len(_compact(dumped))
        print(f"{len(tools)} tools, {label}: {size:,} characters, ~{size // 4:,} tokens")
    if each:
        for tool in seen:
            given, returned = (len(_compact(tool.get(k))) for k in ("inputSchema", "outputSchema"))
            whole = len(_compact(tool))
            print(f"  {tool['name']:<15} input {given:>6,}  output {returned:>6,}  all {whole:>6,}")


if __name__ == "__main__":
    asyncio.run(measure(each="--each" in sys.argv[1:]))
