"""Markdown to safe HTML: CommonMark via markdown-it-py (raw HTML off), then sanitised by nh3.

Rendering is kept roughly linear in the input's length, whatever a client sends (`make
bench-markdown` measures it): markdown-it scans from every `[` to the end of its paragraph looking
for the `]` that would close a link, which is quadratic for "[" * 10000 (0.4 s per post, seconds
in a preview). The scans of one document share a budget proportional to its length; once it is
spent, a further `[` is plain text. Quote markers beyond MAX_QUOTE_DEPTH on one line are dropped
before parsing, so a deep `>` run stays a readable quote instead of losing its text to the parser's
nesting limit.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.helpers import parseLinkDestination, parseLinkLabel, parseLinkTitle
from markdown_it.rules_inline import StateInline

#: Elements Markdown can produce that we keep; anything else is stripped with its markup.
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "blockquote", "br", "code", "em", "h3", "h4", "h5", "h6",
        "hr", "li", "ol", "p", "pre", "strong", "ul", "img", "del", "s",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

#: Characters the link-label scans of one document may cover, per character of the document
#: (real links need about one: each label is read once), plus a fixed allowance.
LINK_SCAN_PER_CHARACTER = 4
LINK_SCAN_ALLOWANCE = 20_000
#: Nested quotes beyond this depth on one line are flattened into the deepest one.
MAX_QUOTE_DEPTH = 20
_DEEP_QUOTE = re.compile(rf"^((?: {{0,3}}> ?){{{MAX_QUOTE_DEPTH}}})(?: {{0,3}}> ?)+", re.MULTILINE)
_BUDGET_KEY = "eventmgr_link_scan_budget"


def _bounded_link_label(state: StateInline, start: int, disableNested: bool = False) -> int:  # noqa: N803
    """markdown-it's parseLinkLabel, charged to the document's scan budget; -1 (no link) once the
    budget is spent."""
    env: dict[str, Any] = state.env
    if env.get(_BUDGET_KEY, 0) <= 0:
        return -1
    end = parseLinkLabel(state, start, disableNested)
    env[_BUDGET_KEY] -= (end if end >= 0 else state.posMax) - start
    return end


# js-default: CommonMark with raw HTML disabled, so `<script>` arrives as text, not markup.
_renderer = MarkdownIt("js-default")
# The link and image rules call the label parser through md.helpers: this instance's own.
_renderer.helpers = SimpleNamespace(
    parseLinkLabel=_bounded_link_label,
    parseLinkDestination=parseLinkDestination,
    parseLinkTitle=parseLinkTitle,
)


#: Markdown headings start at h3: the page around them already has its h1 and h2 sections.
HEADING_OFFSET = 2


def render_markdown(text: str) -> str:
    """Render user Markdown to HTML that is safe to insert into a page, in time roughly linear in
    the text's length."""
    text = _DEEP_QUOTE.sub(r"\1", text or "")
    env: dict[str, Any] = {_BUDGET_KEY: LINK_SCAN_PER_CHARACTER * len(text) + LINK_SCAN_ALLOWANCE}
    tokens = _renderer.parse(text, env)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_OFFSET, 6)}"
    html = _renderer.renderer.render(tokens, _renderer.options, env)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="nofollow ugc noopener",
        strip_comments=True,
    )


#: A web address written out in text: a scheme and "//", a "//host" or a "www." name.
_BARE_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*:)?//[^\s/]|\bwww\.", re.IGNORECASE)


class _LinkCounter(HTMLParser):
    """Counts a[href] and img[src] in HTML, and web addresses in the text outside links."""

    def __init__(self) -> None:
        # convert_charrefs: attribute values and text arrive decoded, so "&#104;ttp" is "http".
        super().__init__(convert_charrefs=True)
        self.links = 0
        self._inside_link = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, value in attrs if value is not None and value.strip()}
        if (tag == "a" and "href" in names) or (tag == "img" and "src" in names):
            self.links += 1
        if tag == "a":
            self._inside_link += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._inside_link:
            self._inside_link -= 1

    def handle_data(self, data: str) -> None:
        # A link's own text is usually its address: it is counted once, as the link.
        if not self._inside_link:
            self.links += len(_BARE_URL.findall(data))


def count_links(html: str) -> int:
    """How many links rendered HTML holds: every a[href] and img[src] (relative, "//host" and
    entity-encoded ones included), plus web addresses written out in its text."""
    counter = _LinkCounter()
    counter.feed(html or "")
    counter.close()
    return counter.links
