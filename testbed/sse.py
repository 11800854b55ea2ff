"""Reading a whole server-sent event stream the way the spec says, for assertions."""

import json
import re
from typing import Any

# Only CR, LF and CRLF end an SSE line; str.splitlines() would also split on U+0085 and
# U+2028, which are ordinary characters inside an event's JSON.
_LINE_END = re.compile(r"\r\n|\r|\n")


def sse_json(body: str) -> list[Any]:
    """The JSON of every `data:` line of an event stream, in order."""
    return [json.loads(line[6:]) for line in _LINE_END.split(body) if line.startswith("data: ")]
