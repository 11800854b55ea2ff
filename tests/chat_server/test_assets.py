"""The page's script bundle through the minifier: shorter, with every string's text kept."""

from chat_server.web.assets import _minified_script

NESTED = """export function summary(open, overdue, wait) {
  // A template inside another: rjsmin squeezed the spaces out of the inner one.
  const parts = [`${open} open`, `${overdue ? `${overdue} overdue` : "none overdue"}`];
  return `${parts.join(", ")}, try again${wait ? ` in ${wait} s` : " shortly"}.`;
}
"""


def test_a_template_string_inside_another_keeps_its_spaces_and_comments_go() -> None:
    minified = _minified_script(NESTED)

    assert len(minified) < len(NESTED)
    assert "rjsmin" not in minified
    assert "` in ${" in minified and "} s`" in minified
    assert "} overdue`" in minified and '"none overdue"' in minified


def test_a_script_the_minifier_cannot_read_is_served_as_written() -> None:
    broken = "const = ;"

    assert _minified_script(broken) == broken
