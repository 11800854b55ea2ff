"""Text that others wrote, made safe to put into the assistant's markdown.

A task's title and description come from whoever wrote the task: another agent over MCP,
a shared script, an attacker who got a task into the list. Repeated in a reply, which the
pages render as markdown (GFM), `[Session expired: sign in again](https://evil.example)`
would become a live link in the assistant's voice, and `![x](https://evil.example/a.png)`
an image (or, where images are not allowed, nothing at all). `plain()` backslash-escapes
what would start markup, which CommonMark defines for every ASCII punctuation character
(spec section 2.4), so the renderer shows the text exactly as written.

Only what could start markup is escaped, so a title such as "Buy milk." or "Call Bob
(urgent)" reads the same in the terminal client, which shows replies as they are. No
library was chosen: the Python markdown libraries escape HTML, not markdown source, and
none knows GFM's bare-URL autolinks, which this must break.

Widget text (chat_server/conversation/widgets.py) is not markdown: ChatKit's Text and
Title components and the built-in page show it as it is, so it is never escaped.
"""

import re

# Each alternative is linear: single characters, bounded runs, or fixed lookarounds.
_MARKUP = re.compile(
    r"""
      (?P<char>
          [\\`*\[\]<|~@]        # emphasis, code, links and images, HTML and <autolinks>,
                                # tables, strikethrough, e-mail autolinks
        | (?<![^\W_])_ | _(?![^\W_])  # _ unless between letters or digits (get_task),
                                # where CommonMark never reads it as emphasis
        | &(?=\#?\w{1,32};)     # an entity (&lt; &#91;) that would become another character
        | :(?=//)               # a bare URL (https://...), which GFM links by itself
      )
    | (?P<www>(?i:www))(?=\.)  # a bare www.example.com, ditto (anywhere: marked links
                                # the second www of www.www.example.com)
    | (?m:^)(?P<lead>[ \t]{0,3}(?:\d{1,9}(?=[.)]))?)(?P<mark>[.)\#>+=-])
                                # a heading, quote, list item or rule at a line's start
    """,
    re.VERBOSE,
)


def _escaped(match: re.Match[str]) -> str:
    if (char := match["char"]) is not None:
        return "\\" + char
    if (www := match["www"]) is not None:
        return www + "\\"  # before the dot: www\.example.com
    return match["lead"] + "\\" + match["mark"]


def plain(text: str) -> str:
    """`text` as markdown that renders as exactly `text`: no link, image, emphasis or block."""
    return _MARKUP.sub(_escaped, text)
