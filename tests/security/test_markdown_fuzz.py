"""Fuzzing render_markdown: whatever goes in, only allowed elements, attributes and URL schemes
come out."""

from __future__ import annotations

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventmgr.web.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    render_markdown,
)

#: nh3 adds rel="nofollow ugc noopener" to links itself.
ATTRIBUTES = {
    tag: {*names, "rel"} if tag == "a" else set(names) for tag, names in ALLOWED_ATTRIBUTES.items()
}
PIECES = st.sampled_from([
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "javascript:",
    "java\nscript:", "data:text/html,", "vbscript:", "[", "](", ")", "![", "<", ">", '"', "'", "`",
    "```", "    ", "\n", "\n\n", "*", "_", "#", "> ", "- ", "1. ", "&#x6A;", "&lt;", "<a href=",
    "<style>", "expression(", "<!--", "-->", "<iframe", "http://x.example/", "mailto:a@b",
    "ftp://x", "//evil.example", "\x00", "\u202e", "<math>", "<https://x.example>",
])  # fmt: skip
MARKDOWN = st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=30).map("".join)


def schemes_ok(url: str) -> bool:
    compact = "".join(url.split()).lower()
    if ":" not in compact.split("/")[0].split("?")[0].split("#")[0]:
        return True  # relative
    return compact.split(":", 1)[0] in ALLOWED_URL_SCHEMES


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(MARKDOWN)
def test_render_markdown_output_stays_within_the_allow_list(text):
    html = render_markdown(text)
    for tag in BeautifulSoup(html, "html5lib").body.find_all(True):
        assert tag.name in ALLOWED_TAGS, html
        for name, value in tag.attrs.items():
            assert name in ATTRIBUTES.get(tag.name, set()), html
            if name in ("href", "src"):
                assert schemes_ok(value), html
