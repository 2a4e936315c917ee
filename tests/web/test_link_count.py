"""Links are counted in the HTML a comment renders to, not with a pattern over its Markdown."""

from __future__ import annotations

import pytest

from eventmgr.discussions.service import MAX_GUEST_LINKS, count_links
from eventmgr.web.markdown import count_links as count_html_links


@pytest.mark.parametrize(
    ("markdown", "links"),
    [
        ("No links at all. e.g. this.that", 0),
        ("[a](https://a.example)", 1),
        ("[a](//a.example)", 1),  # scheme-relative: no "http" in the source
        ("[a](/local/page)", 1),
        ("[a](h&#116;tps://a.example)", 1),  # entity-encoded scheme
        ("[a](&#x68;&#x74;&#x74;&#x70;&#x73;&#x3a;//a.example)", 1),
        ("![pixel](https://t.example/p.png)", 1),
        ("![pixel](//t.example/p.png)", 1),
        ("<https://a.example>", 1),  # autolink: counted once, not again for its text
        ("[https://a.example](https://b.example)", 1),
        ("[a][ref]\n\n[ref]: https://a.example", 1),  # reference-style: no URL on the line
        ("&#104;ttp://a.example written out", 1),
        ("HTTPS://A.EXAMPLE and www.b.example and //c.example/x", 3),
        ("[x](javascript:alert(1))", 0),  # dropped by the sanitiser: not a link
        ("`https://a.example` in code", 1),  # shown as text someone can copy
    ],
)
def test_links_in_the_rendered_html(markdown, links):
    assert count_links(markdown) == links


def test_raw_html_links_are_counted_whatever_their_spelling():
    html = (
        '<a href="//a.example">a</a><a HREF="https://b.example">b</a><img src=//c.example/x>'
        '<a name="anchor">not a link</a><img alt="no source">'
    )
    assert count_html_links(html) == 3


def test_three_links_of_any_kind_are_over_the_guest_limit():
    body = "[one](//a.example) ![two](https://b.example/x.png) and www.c.example"
    assert count_links(body) == 3 > MAX_GUEST_LINKS
