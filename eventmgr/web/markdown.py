"""Markdown to safe HTML: CommonMark via markdown-it-py (raw HTML off), then sanitised by nh3."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

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

# js-default: CommonMark with raw HTML disabled, so `<script>` arrives as text, not markup.
_renderer = MarkdownIt("js-default")


#: Markdown headings start at h3: the page around them already has its h1 and h2 sections.
HEADING_OFFSET = 2


def render_markdown(text: str) -> str:
    """Render user Markdown to HTML that is safe to insert into a page."""
    tokens = _renderer.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_OFFSET, 6)}"
    html = _renderer.renderer.render(tokens, _renderer.options, {})
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="nofollow ugc noopener",
        strip_comments=True,
    )
