"""Markdown sanitising, safe redirects and time-zone helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup

from eventmgr.web.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown
from eventmgr.web.redirects import safe_next_url
from eventmgr.web.times import (
    LocalTimeError,
    format_time_range,
    is_valid_timezone,
    iso,
    relative,
    to_utc,
)


def assert_safe_html(html: str) -> None:
    """Every element and attribute in `html` is on the allow-list; links use safe schemes."""
    soup = BeautifulSoup(html, "html5lib")
    for element in soup.body.find_all(True):
        assert element.name in ALLOWED_TAGS, element
        for name, value in element.attrs.items():
            assert not name.lower().startswith("on"), element
            assert name in ALLOWED_ATTRIBUTES.get(element.name, set()) | {"rel"}, element
            if name in ("href", "src"):
                assert value.split(":", 1)[0].lower() in {"http", "https", "mailto"} or (
                    ":" not in value
                ), element


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        '<a href="#" onclick="alert(1)">x</a>',
        "<svg onload=alert(1)>",
        "<iframe src=https://evil.example></iframe>",
    ],
)
def test_markdown_never_lets_scripts_through(source):
    html = render_markdown(source)
    assert_safe_html(html)
    assert "<script" not in html.lower()


def test_markdown_renders_commonmark():
    html = render_markdown(
        "**bold**, *em*, `code`\n\n> quoted\n\n- one\n- two\n\n[NetIKX](https://netikx.example)"
    )
    assert "<strong>bold</strong>" in html
    assert "<em>em</em>" in html
    assert "<code>code</code>" in html
    assert "<blockquote>" in html
    assert "<li>one</li>" in html
    assert 'href="https://netikx.example"' in html
    assert 'rel="nofollow ugc noopener"' in html


@pytest.mark.parametrize("target", ["/events/", "/events/x?page=2", "/"])
def test_local_next_urls_are_kept(target):
    assert safe_next_url(target) == target


@pytest.mark.parametrize(
    "target",
    [None, "", "//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
     "javascript:alert(1)", "evil.example", "/\tevil", "http:/evil.example"],
)  # fmt: skip
def test_foreign_next_urls_are_refused(target):
    assert safe_next_url(target) is None


def test_london_summer_and_winter_times():
    summer = to_utc(datetime(2015, 9, 23, 18, 0), "Europe/London")
    winter = to_utc(datetime(2025, 12, 3, 18, 0), "Europe/London")
    assert summer == datetime(2015, 9, 23, 17, 0, tzinfo=UTC)
    assert winter == datetime(2025, 12, 3, 18, 0, tzinfo=UTC)
    assert format_time_range(summer, summer.replace(hour=19, minute=30), "Europe/London") == (
        "18:00–20:30 BST"
    )
    assert format_time_range(winter, winter.replace(hour=20, minute=30), "Europe/London") == (
        "18:00–20:30 GMT"
    )


def test_time_in_the_spring_gap_is_refused():
    with pytest.raises(LocalTimeError, match="does not exist"):
        to_utc(datetime(2026, 3, 29, 1, 30), "Europe/London")


def test_ambiguous_autumn_time_is_its_first_occurrence():
    assert to_utc(datetime(2026, 10, 25, 1, 30), "Europe/London") == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("name", ["Europe/London", "America/New_York", "UTC"])
def test_known_time_zones(name):
    assert is_valid_timezone(name)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", " Europe/London", "../etc/passwd", "\x00"])
def test_unknown_time_zones(name):
    assert not is_valid_timezone(name)


def test_iso_and_relative():
    instant = datetime(2015, 9, 23, 17, 0, tzinfo=UTC)
    assert iso(instant) == "2015-09-23T17:00:00Z"
    now = datetime(2015, 9, 26, 17, 0, tzinfo=UTC)
    assert relative(instant, now) == "3 days ago"
    assert relative(now, instant) == "in 3 days"
