"""render_markdown's input bounds: what they change (only pathological input) and what they keep.

Timing is measured by `make bench-markdown` (bench/markdown.py), not here: these tests check the
output of the bounded rendering.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import markdown_it.helpers
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventmgr.web import markdown
from eventmgr.web.markdown import MAX_QUOTE_DEPTH, render_markdown


@contextmanager
def unbounded() -> Iterator[None]:
    """render_markdown with markdown-it's own link-label parser, as before the bounds."""
    bounded = markdown._renderer.helpers
    markdown._renderer.helpers = markdown_it.helpers
    try:
        yield
    finally:
        markdown._renderer.helpers = bounded


def text_of(html: str) -> str:
    return BeautifulSoup(html, "html5lib").get_text()


PIECES = st.sampled_from([
    "[", "]", "](", ")", "![", "[a]", "[b]: http://b.example\n", "[a]: /a\n", "(", "<", ">",
    "`", "``", "*", "**", "_", "\n", "\n\n", "http://x.example/", "[x](http://x.example)",
    "[[n]](http://n.example)", " ", "\\[", "&#91;", "> ", "- ", "1. ",
])  # fmt: skip
MARKDOWN = st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(MARKDOWN)
def test_ordinary_input_renders_exactly_as_without_the_bounds(text):
    bounded = render_markdown(text)
    with unbounded():
        assert bounded == render_markdown(text)


def test_a_long_document_full_of_links_keeps_every_link():
    source = "\n\n".join(
        f"See [report {n}](https://example.org/{n}), [[nested {n}]](https://n.example/{n}), "
        f"![figure {n}](https://img.example/{n}.png) and [ref {n}][r{n}].\n\n[r{n}]: /r/{n}"
        for n in range(1500)
    )
    html = render_markdown(source)
    soup = BeautifulSoup(html, "html5lib")
    assert len(soup.select("a[href^='https://example.org/']")) == 1500
    assert len(soup.select("a[href^='https://n.example/']")) == 1500
    assert len(soup.select("a[href^='/r/']")) == 1500
    assert len(soup.select("img")) == 1500
    with unbounded():
        assert html == render_markdown(source)


def test_a_run_of_brackets_is_kept_as_text():
    for source in ("[" * 10_000, "![" * 5_000, "[" * 9_999 + "]", "[" * 5_000 + "a" + "]" * 5_000):
        html = render_markdown(source)
        assert text_of(html).strip() == source, source[:10]


def test_after_a_pathological_run_the_rest_of_the_text_survives():
    # The budget is spent on the run, so the link after it is shown as text, never dropped.
    source = "[" * 100_000 + " then [a link](https://example.org) and *emphasis*"
    html = render_markdown(source)
    assert (
        text_of(html).strip() == "[" * 100_000 + " then [a link](https://example.org) and emphasis"
    )
    assert "<em>emphasis</em>" in html


def test_a_link_before_a_pathological_run_still_links():
    html = render_markdown("[first](https://example.org) " + "[" * 100_000)
    assert '<a href="https://example.org"' in html


def test_deep_quotes_stop_at_the_maximum_depth_and_keep_their_text():
    html = render_markdown(">" * 500 + " the deepest thought\n\nafter")
    soup = BeautifulSoup(html, "html5lib")
    assert html.count("<blockquote>") == MAX_QUOTE_DEPTH
    assert soup.find_all("blockquote")[-1].get_text(strip=True) == "the deepest thought"
    assert soup.find_all("p")[-1].get_text() == "after"


def test_quotes_up_to_the_maximum_depth_are_unchanged():
    source = "> " * MAX_QUOTE_DEPTH + "deep\n\n> > two"
    with unbounded():
        expected = render_markdown(source)
    assert render_markdown(source) == expected
    assert expected.count("<blockquote>") == MAX_QUOTE_DEPTH + 2
