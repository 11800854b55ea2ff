"""Task text in the assistant's markdown (chat_server/agent/markdown.py): escaped so that it
renders as exactly what was written, never as a link, an image or formatting.

The rendering checks run the page's own renderer (the vendored marked, with the options
chat_server/web/static/markdown.js uses) under Node, and are skipped without Node.
"""

import html
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chat_server.agent.markdown import plain
from chat_server.agent.offline import replies
from chat_server.agent.task_tools import describe
from tests.chat_server.test_offline_model import FakeTasks, chat

MARKED = Path(__file__).parents[2] / "chat_server" / "web" / "static" / "vendor" / "marked.esm.js"
RENDER = """
const { Marked } = await import(process.argv[1]);
const marked = new Marked({ gfm: true, breaks: true, async: false });
let input = "";
for await (const chunk of process.stdin) input += chunk;
process.stdout.write(JSON.stringify(JSON.parse(input).map((text) => marked.parse(text))));
"""
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

LINK = "[Session expired: sign in again](https://evil.example/login)"
IMAGE = "![x](https://evil.example/a.png)"
HOSTILE = [
    LINK,
    IMAGE,
    "https://evil.example/login",
    "HTTPS://EVIL.EXAMPLE",
    "<https://evil.example>",
    "www.evil.example",
    "www.www.evil.example _www.evil.example",
    "mail ceo@evil.example now",
    "[click][1]\n[1]: https://evil.example",
    "<img src=x onerror=alert(1)>",
    "*bold* _em_ **strong** __strong__ ~~gone~~ ~gone~",
    "snake_case get_task __init__ a__b__c _x_y_ x_*y*_z",
    "`code` ``more``",
    "# heading",
    "  ## indented heading",
    "> quote",
    "- item\n+ item\n* item",
    "1. first\n2) second",
    "title\n===",
    "title\n---",
    "***",
    "a | b\n--|--\nc | d",
    "&lt;b&gt; &#91;x&#93; &copy;",
    "back\\slash \\[ \\\\",
    "- [x] done",
]


def render(texts: list[str]) -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed")
    done = subprocess.run(
        [node, "--experimental-detect-module", "--input-type=module", "-e", RENDER,
         MARKED.as_uri()],
        input=json.dumps(texts), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def shown_text(rendered: str) -> str:
    """What a reader sees: the HTML's text, one line per line."""
    text = re.sub(r"<br>\n?", "\n", rendered)
    text = re.sub(r"</?p>", "", text).strip()
    return html.unescape(text)


def test_escaped_text_renders_as_exactly_what_was_written_and_as_nothing_else() -> None:
    rendered = render([plain(text) for text in HOSTILE])
    for text, out in zip(HOSTILE, rendered, strict=True):
        tags = set(re.findall(r"</?([a-z0-9]+)", out))
        assert tags <= {"p", "br"}, (text, out)
        # Line starts lose their indent in a paragraph, as any text would.
        assert shown_text(out) == "\n".join(line.strip() for line in text.split("\n")), out


def test_unescaped_the_same_texts_would_be_markup() -> None:
    """The renderer does make links and images of these: the escaping is what stops it."""
    rendered = render([LINK, IMAGE, "https://evil.example", "<https://evil.example>"])
    assert [("<a " in out or "<img " in out) for out in rendered] == [True] * 4


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        (LINK, r"\[Session expired: sign in again\](https\://evil.example/login)"),
        (IMAGE, r"!\[x\](https\://evil.example/a.png)"),
        ("<https://a.example>", r"\<https\://a.example>"),
        ("see www.a.example", r"see www\.a.example"),
        ("ceo@a.example", r"ceo\@a.example"),
        (r"a\b `c` *d* _e_ ~f~ |g|", r"a\\b \`c\` \*d\* \_e\_ \~f\~ \|g\|"),
        ("&amp; but Tom & Jerry", r"\&amp; but Tom & Jerry"),
        ("# h\n> q\n- a\n+ b\n= c\n10. d\n3) e",
         "\\# h\n\\> q\n\\- a\n\\+ b\n\\= c\n10\\. d\n3\\) e"),
        # Ordinary punctuation is left alone: the terminal client shows replies as they are.
        ("Buy milk. Call Bob (urgent)! 50% off: 2-3 #tags get_task", "Buy milk. Call Bob "
         "(urgent)! 50% off: 2-3 #tags get_task"),
        ("__init__ _x_", r"\_\_init\_\_ \_x\_"),
    ],
    ids=["link", "image", "autolink", "www", "email", "inline-marks", "entity", "line-starts",
         "ordinary", "underscores"],
)  # fmt: skip
def test_only_what_could_start_markup_is_escaped(text: str, escaped: str) -> None:
    assert plain(text) == escaped


def test_a_long_run_of_markup_characters_is_escaped_in_linear_time() -> None:
    text = "&" * 50_000 + "[" * 50_000 + "\n-" * 50_000 + "www." * 50_000
    # Every [, every line-start -, every www; no & (none is an entity).
    assert plain(text).count("\\") == 50_000 * 3


def change(title: str) -> dict:
    task = {"id": 1, "title": title, "description": None, "completed": False, "priority":
            "medium", "tags": [], "due": None, "recurrence": "none"}  # fmt: skip
    return {"task_id": 1, "status": "created", "title": title, "task": task, "next_task": None}


def test_the_offline_replies_and_the_activity_lines_repeat_a_hostile_title_as_text() -> None:
    made = change(LINK)
    texts = [
        replies.added(made, NOW),
        replies.task_line(made["task"], NOW),
        replies.deleted(made),
        replies.completed(made, NOW),
        replies.updated(made, {"task_id": 1, "title": LINK}, NOW),
        replies.undone("delete_task", made, now=NOW),
        replies.shown({**made["task"], "description": IMAGE + "\n# not a heading"}, NOW),
        describe("add_task", made),  # type: ignore[arg-type]
    ]
    assert texts[0] == (
        r"Added task 1: \[Session expired: sign in again\](https\://evil.example/login)."
    )
    for out in render(texts):
        assert not {"a", "img", "h1"} & set(re.findall(r"</?([a-z0-9]+)", out)), out
        assert "[Session expired: sign in again](https://evil.example/login)" in html.unescape(
            out
        ) or IMAGE in html.unescape(out)


@pytest.mark.parametrize(("title", "shown"), [(LINK, "link"), (IMAGE, "image")])
async def test_adding_a_task_with_a_markdown_title_gets_a_reply_that_renders_no_link(
    title: str, shown: str
) -> None:
    tasks = FakeTasks()
    reply, _ = await chat(tasks, f"add {title}")
    assert tasks.calls == [("add_task", {"title": title})]
    assert reply == f"Added task 1: {plain(title)}."
    [out] = render([reply])
    assert "<a " not in out and "<img " not in out
    # The image is not dropped either: it shows as the text it is.
    assert shown_text(out) == f"Added task 1: {title}."


async def test_listing_a_task_another_agent_named_with_a_link_shows_its_text() -> None:
    tasks = FakeTasks()
    tasks.seed(LINK)
    tasks.seed("see https://evil.example or <https://evil.example>")
    reply, _ = await chat(tasks, "show my tasks")
    [out] = render([reply])
    assert "<a " not in out
    assert LINK in shown_text(out)
