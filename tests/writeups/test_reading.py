"""The list, the page, the meeting's link and the Atom feed, with constant query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import feedparser
import pytest

from tests.discussions.helpers import soup

BASE_URL = "https://events.example.org"


@pytest.fixture
def public_client(make_app):
    """A client for an app whose public address is BASE_URL."""
    return make_app(
        BASE_URL=BASE_URL, WRITEUP_MIN_FILL_SECONDS=0, WRITEUPS_PER_PAGE=2
    ).test_client()


def publish_three(make_writeup, organiser, meeting_id=None):
    """Three published write-ups a day apart, and a draft."""
    now = datetime.now(UTC)
    for number in range(3):
        make_writeup(
            slug=f"report-{number}",
            title=f"Report {number}",
            body=f"Body of **report {number}**. " + "More words. " * 40,
            published_at=now - timedelta(days=3 - number),
            author_id=organiser.id,
            event_id=meeting_id if number == 2 else None,
        )
    make_writeup(slug="secret-draft", title="Secret draft", status="draft")


def test_list_is_newest_first_paginated_with_excerpts(public_client, make_writeup, organiser):
    publish_three(make_writeup, organiser)
    page = soup(public_client.get("/writeups/"))
    titles = [a.get_text() for a in page.select(".writeup-card__title a")]
    assert titles == ["Report 2", "Report 1"]
    excerpt = page.select_one(".writeup-card__excerpt").get_text()
    assert excerpt.startswith("Body of report 2. More words.") and excerpt.endswith("…")
    second = soup(public_client.get("/writeups/?page=2"))
    assert [a.get_text() for a in second.select(".writeup-card__title a")] == ["Report 0"]
    assert "Secret draft" not in second.get_text() + page.get_text()


def test_page_shows_the_report_its_meeting_and_meta_tags(
    public_client, make_writeup, organiser, meeting
):
    publish_three(make_writeup, organiser, meeting.id)
    page = soup(public_client.get("/writeups/report-2"))
    assert page.find("h1").get_text() == "Report 2"
    assert page.select_one(".writeup__body strong").get_text() == "report 2"
    assert page.select_one(".writeup__meeting a")["href"] == f"/events/{meeting.slug}"
    description = page.find("meta", attrs={"name": "description"})["content"]
    assert description.startswith("Body of report 2.")
    assert page.find("meta", property="og:title")["content"] == "Report 2"
    assert page.find("meta", property="og:description")["content"] == description
    meeting_page = soup(public_client.get(f"/events/{meeting.slug}"))
    assert (
        meeting_page.select_one("#writeup-heading").find_next("a")["href"] == "/writeups/report-2"
    )
    home = soup(public_client.get("/"))
    assert [a.get_text() for a in home.select(".writeup-card__title a")] == [
        "Report 2",
        "Report 1",
        "Report 0",
    ]


def test_the_atom_feed_is_valid_and_complete(public_client, make_writeup, organiser):
    publish_three(make_writeup, organiser)
    response = public_client.get("/writeups.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "eventmgr: write-ups"
    assert [entry.title for entry in parsed.entries] == ["Report 2", "Report 1", "Report 0"]
    entry = parsed.entries[0]
    assert entry.link == f"{BASE_URL}/writeups/report-2"
    assert entry.id == f"{BASE_URL}/writeups/report-2"
    assert entry.author == "Olivia Organiser"
    published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
    assert abs(published - (datetime.now(UTC) - timedelta(days=1))) < timedelta(minutes=1)
    assert entry.updated_parsed == entry.published_parsed
    assert "<strong>report 2</strong>" in entry.content[0].value
    assert {link.rel for link in parsed.feed.links} == {"self", "alternate"}


def test_the_feed_and_pages_leave_out_drafts_and_unpublished(public_client, make_writeup):
    make_writeup(slug="secret", title="Secret", status="draft")
    parsed = feedparser.parse(public_client.get("/writeups.atom").get_data())
    assert not parsed.bozo and parsed.entries == []


def test_query_counts_do_not_depend_on_the_number_of_write_ups(
    client, make_writeup, make_user, count_queries
):
    def measure() -> list[int]:
        sizes = []
        for path in ("/writeups/", "/writeups.atom", "/writeups/w-0"):
            with count_queries() as statements:
                assert client.get(path).status_code == 200
            sizes.append(len(statements))
        return sizes

    author = make_user(display_name="Author")
    make_writeup(slug="w-0", author_id=author.id)
    small = measure()
    for number in range(1, 15):
        make_writeup(slug=f"w-{number}", author_id=make_user().id)
    assert measure() == small


def test_control_characters_in_a_write_up_never_break_the_feed(public_client, make_writeup):
    # Stored before any form refused them, or typed into a multi-line body: XML 1.0 cannot hold
    # them at all, and one of them made the whole feed unparseable for every reader.
    make_writeup(slug="controls", title="Bell\x07 and\x1b escape \ufffe title",
                 body="Form\x0cfeed and vertical\x0btab and \x01 start")  # fmt: skip
    response = public_client.get("/writeups.atom")
    assert response.status_code == 200
    root = ElementTree.fromstring(response.get_data())  # noqa: S314 (our own feed)
    entry = root.find("{http://www.w3.org/2005/Atom}entry")
    assert entry.findtext("{http://www.w3.org/2005/Atom}title") == "Bell and escape  title"
    content = entry.findtext("{http://www.w3.org/2005/Atom}content")
    assert "Formfeed and verticaltab and  start" in content
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
