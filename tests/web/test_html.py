"""Every main page is valid, semantic HTML; meeting pages carry schema.org JSON-LD and Open Graph tags.

Pages are fetched with the Flask test client and parsed with html5lib, as a browser parses them, and
again with html5lib's strict parser, which raises on the first parse error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import html5lib
import pytest
from bs4 import BeautifulSoup, Tag
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from eventmgr.events.models import Event, Question
from eventmgr.extensions import db as _db

SEPTEMBER_EVENING = datetime(2015, 9, 23, 17, 0, tzinfo=UTC)
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
#: Text that reads as a date: "23 September", "September 2015", "2015-09-23".
DATE_TEXT = re.compile(
    rf"\b\d{{1,2}} (?:{MONTHS})\b|\b(?:{MONTHS}) \d{{4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
)
#: Elements whose text is never shown as page content.
UNSHOWN = {"script", "style", "title", "template", "textarea", "option", "noscript"}
FIELDS = "input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea"

#: Pages anyone can open.
PUBLIC_PAGES = ["home", "upcoming", "past", "meeting", "cancelled meeting", "login", "signup",
                "not-found", "write-ups", "write-up"]  # fmt: skip
#: Pages an admin (also an organiser) sees.
SIGNED_IN_PAGES = [
    "home", "upcoming", "past", "meeting", "draft meeting", "cancelled meeting", "account", "users",
    "new meeting", "edit meeting", "speakers", "edit speaker", "questions", "edit question",
    "cancel meeting", "not-found", "my meetings", "attendees", "question thread",
    "follow-up discussion", "moderation", "write-ups", "write-up", "draft write-up", "new write-up",
    "draft from meeting", "edit write-up",
]  # fmt: skip


def parse(html: str) -> BeautifulSoup:
    """The page as a browser's parser builds it."""
    return BeautifulSoup(html, "html5lib")


@pytest.fixture
def site(make_user, make_event, app: Flask) -> dict[str, Any]:
    """An admin, and meetings in every state (upcoming, past, draft, cancelled) with programmes."""
    from eventmgr.events.models import Question, Speaker

    programme = {
        "speakers": [
            {"name": "Ada Lovelace", "affiliation": "Henley Business School",
             "talk_title": "Research and careers", "bio": "Ada runs the KM Forum."},
            {"name": "Bob Brown", "affiliation": "ISKO UK", "talk_title": "Knowledge organisation"},
        ],
        "questions": [
            {"title": "What do we need personally?", "body": "Support, advice, expertise."},
            {"title": "What are the needs of our organisations?"},
        ],
    }  # fmt: skip
    meeting = make_event(
        capacity=60,
        online_url="https://stream.example.org/ckc",
        registration_closes_at=datetime.now(UTC) + timedelta(days=6),
        **programme,
    )
    make_event(starts_at=SEPTEMBER_EVENING, **programme)
    draft = make_event(status="draft")
    cancelled = make_event(status="cancelled", cancelled_at=datetime.now(UTC))
    with app.app_context():
        speaker_id = _db.session.scalar(
            _db.select(Speaker.id).join(Event).where(Event.slug == meeting.slug)
        )
        question_id = _db.session.scalar(
            _db.select(Question.id).join(Event).where(Event.slug == meeting.slug)
        )
    slug = meeting.slug
    past_slug = _past_meeting_with_writeup(app, make_user)
    return {
        "admin": make_user(role="admin"),
        "paths": {
            "home": "/",
            "upcoming": "/events/",
            "past": "/events/past",
            "meeting": f"/events/{slug}",
            "draft meeting": f"/events/{draft.slug}",
            "cancelled meeting": f"/events/{cancelled.slug}",
            "login": "/account/login",
            "signup": "/account/signup",
            "account": "/account/",
            "users": "/account/users",
            "new meeting": "/events/new",
            "edit meeting": f"/events/{slug}/edit",
            "speakers": f"/events/{slug}/speakers",
            "edit speaker": f"/events/{slug}/speakers/{speaker_id}/edit",
            "questions": f"/events/{slug}/questions",
            "edit question": f"/events/{slug}/questions/{question_id}/edit",
            "cancel meeting": f"/events/{slug}/cancel",
            "not-found": "/no/such/page",
            "my meetings": "/my/events",
            "attendees": f"/events/{slug}/attendees",
            "question thread": f"/events/{slug}/questions/{question_id}",
            "follow-up discussion": f"/events/{slug}/discussion",
            "moderation": "/moderation/",
            "write-ups": "/writeups/",
            "write-up": "/writeups/september-report",
            "draft write-up": "/writeups/draft-report",
            "new write-up": "/writeups/new",
            "draft from meeting": f"/writeups/new?event={past_slug}",
            "edit write-up": "/writeups/september-report/edit",
        },
    }


def _past_meeting_with_writeup(app: Flask, make_user: Callable[..., Any]) -> str:
    """A published write-up of the September meeting with a member's and a guest's reply, a draft,
    and another past meeting with no write-up yet; returns that meeting's slug."""
    from eventmgr.accounts.models import User
    from eventmgr.discussions import service as discussions_service
    from eventmgr.writeups import service as writeups_service

    member = make_user(display_name="Rita Reader")
    with app.app_context(), app.test_request_context():
        september = _db.session.scalar(
            _db.select(Event).where(Event.starts_at == SEPTEMBER_EVENING)
        )
        # The pre-filled draft as an organiser edits it: its opening line names the date in plain
        # text, which (as in meeting descriptions) Markdown cannot put in a <time>.
        title, body = writeups_service.draft_for(september)
        body = "We met to talk about communities.\n\n" + body.split("\n\n", 1)[1]
        writeup = writeups_service.create_writeup(
            title=title, slug="september-report", body=body, author=None, event=september
        )
        writeups_service.publish_writeup(writeup)
        writeups_service.add_member_reply(
            writeup, _db.session.get(User, member.id), "Thanks, *a fine report*.", parent=None
        )
        discussions_service.add_guest_comment(
            writeups_service.topic(writeup),
            name="Gina Guest", email="gina@example.org", body="Held for moderation.", ip="10.0.0.1",
        )  # fmt: skip
        writeups_service.create_writeup(
            title="Draft report", slug="draft-report", body="Not yet.", author=None
        )
        other = Event(
            slug="2015-10-21-another-evening", title="Another evening", status="published",
            starts_at=SEPTEMBER_EVENING + timedelta(days=28),
            ends_at=SEPTEMBER_EVENING + timedelta(days=28, hours=2),
        )  # fmt: skip
        _db.session.add(other)
        _db.session.commit()
        return other.slug


def fetch(client: FlaskClient, path: str) -> str:
    """The page's HTML; 200, or 404 for the missing page."""
    response = client.get(path)
    assert response.status_code == (404 if path == "/no/such/page" else 200), path
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


# What every page must satisfy --------------------------------------------------------------------


def assert_parses_without_errors(html: str) -> None:
    """html5lib's strict parser raises ParseError at the first error (stray tags, bad nesting)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse(html)
    assert not parser.errors


def assert_landmarks(page: BeautifulSoup) -> None:
    """lang, one banner, navigation, main and contentinfo, and a skip link to main first."""
    assert page.html.get("lang") == "en-GB"
    assert page.title and page.title.get_text(strip=True)
    assert len(page.select("body > header")) == 1
    assert page.select("body > header nav[aria-label]")
    assert len(page.find_all("main")) == 1
    assert page.select_one("body > main")["id"] == "main"
    assert len(page.select("body > footer")) == 1
    first_link = page.body.find("a")
    assert first_link["href"] == "#main"
    assert "skip" in first_link.get_text().lower()


def assert_headings_in_order(page: BeautifulSoup) -> None:
    """Exactly one h1, first, and no heading level skipped on the way down."""
    levels = [int(heading.name[1]) for heading in page.find_all(re.compile(r"^h[1-6]$"))]
    assert levels.count(1) == 1, levels
    assert levels[0] == 1, levels
    for previous, current in zip(levels, levels[1:], strict=False):
        assert current <= previous + 1, levels


def assert_dates_are_time_elements(page: BeautifulSoup) -> None:
    """Every date shown sits in a <time> whose datetime attribute is a valid ISO 8601 instant."""
    for element in page.find_all("time"):
        value = element.get("datetime", "")
        assert datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None, value
    for text in page.body.find_all(string=DATE_TEXT):
        ancestors = {parent.name for parent in text.parents}
        if ancestors & UNSHOWN or text.find_parent(class_="prose"):
            continue  # not shown, or written by a person (a date in a report is just words)
        assert "time" in ancestors, f"date outside <time>: {text.strip()!r}"


def assert_no_inline_script_or_style(page: BeautifulSoup) -> None:
    """No style attributes or elements, no event-handler attributes, no scripts except JSON-LD."""
    assert not page.select("[style]")
    assert not page.find_all("style")
    for script in page.find_all("script"):
        assert script.get("src") or script.get("type") == "application/ld+json", script
    for element in page.find_all(True):
        assert not [name for name in element.attrs if name.lower().startswith("on")], element.name


def visible_text(element: Tag) -> str:
    """The element's text without the parts only screen readers get."""
    copy = BeautifulSoup(str(element), "html5lib")
    for hidden in copy.select(".visually-hidden, [aria-hidden=true]"):
        hidden.decompose()
    return copy.get_text(" ", strip=True)


def assert_fields_are_labelled(page: BeautifulSoup) -> None:
    """Unique ids; each field has a visible <label for>; aria-describedby points at real elements."""
    ids = [element["id"] for element in page.find_all(id=True)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for element in page.select(FIELDS):
        label = page.find("label", attrs={"for": element.get("id")})
        assert label is not None and visible_text(label), element
        for described_by in element.get("aria-describedby", "").split():
            assert page.find(id=described_by), (element["id"], described_by)


def assert_meta_description(page: BeautifulSoup) -> None:
    """Exactly one non-empty meta description."""
    descriptions = page.find_all("meta", attrs={"name": "description"})
    assert len(descriptions) == 1
    assert descriptions[0]["content"].strip()


def assert_good_page(html: str) -> None:
    """Everything a page of this site must satisfy."""
    assert_parses_without_errors(html)
    page = parse(html)
    assert_landmarks(page)
    assert_headings_in_order(page)
    assert_dates_are_time_elements(page)
    assert_no_inline_script_or_style(page)
    assert_fields_are_labelled(page)
    assert_meta_description(page)


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_is_valid_semantic_html(client, site, name):
    assert_good_page(fetch(client, site["paths"][name]))


@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_signed_in_page_is_valid_semantic_html(client, site, login_as, name):
    login_as(site["admin"])
    assert_good_page(fetch(client, site["paths"][name]))


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/account/signup", {"email": "not an email", "password": "short"}),
        ("/account/login", {"email": "", "password": ""}),
        ("/events/new", {"title": ""}),
    ],
)
def test_form_with_errors_is_valid_and_ties_errors_to_fields(client, site, login_as, path, data):
    login_as(site["admin"])
    if path.startswith("/account/"):
        client.post("/account/logout")
    response = client.post(path, data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_good_page(html)
    page = parse(html)
    summary = page.select_one(".error-summary")
    assert summary["role"] == "alert"
    invalid = page.select("[aria-invalid=true]")
    assert invalid
    for element in invalid:
        error = page.find(id=f"{element['id']}-error")
        assert error is not None and error.get_text(strip=True)
        assert error["id"] in element["aria-describedby"].split()
        assert summary.find("a", href=f"#{element['id']}")


def test_the_good_page_checks_can_fail():
    broken = (
        '<!doctype html><html><head><title>x</title></head><body><main id="main">'
        '<h1>A</h1><h3 style="color: red">B</h3><p>23 September 2015</p>'
        "<script>alert(1)</script><input id=a></main></body></html>"
    )
    page = parse(broken)
    for check in (assert_landmarks, assert_headings_in_order, assert_dates_are_time_elements,
                  assert_no_inline_script_or_style, assert_fields_are_labelled,
                  assert_meta_description):  # fmt: skip
        with pytest.raises(AssertionError):
            check(page)
    with pytest.raises(html5lib.html5parser.ParseError):
        assert_parses_without_errors("<!doctype html><p><div></span>")


# Search engines and link previews ----------------------------------------------------------------


BASE_URL = "https://events.example.org"


@pytest.fixture
def public_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """A client for an app whose public address is BASE_URL."""
    return make_app(BASE_URL=BASE_URL).test_client()


def json_ld(page: BeautifulSoup) -> dict[str, Any]:
    """The page's one JSON-LD block, decoded."""
    scripts = page.find_all("script", attrs={"type": "application/ld+json"})
    assert len(scripts) == 1
    return json.loads(scripts[0].string)


def open_graph(page: BeautifulSoup) -> dict[str, str]:
    """The page's og:* properties."""
    return {
        meta["property"]: meta["content"]
        for meta in page.find_all("meta", attrs={"property": re.compile(r"^og:")})
    }


def test_meeting_page_carries_schema_org_event_data(public_client, make_event):
    event = make_event(
        title="Connecting Knowledge Communities",
        summary="What do KM and IM professionals need from communities and networks?",
        starts_at=SEPTEMBER_EVENING,
        capacity=60,
        venue_name="Conway Hall",
        venue_address="25 Red Lion Square\nLondon WC1R 4RL",
        online_url="https://stream.example.org/ckc",
        speakers=[
            {"name": "Ada Lovelace", "affiliation": "Henley Business School"},
            {"name": "Bob Brown"},
        ],
    )
    data = json_ld(parse(fetch(public_client, f"/events/{event.slug}")))
    assert data == {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": "Connecting Knowledge Communities",
        "description": "What do KM and IM professionals need from communities and networks?",
        "url": f"{BASE_URL}/events/{event.slug}",
        "startDate": "2015-09-23T18:00:00+01:00",
        "endDate": "2015-09-23T20:30:00+01:00",
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/MixedEventAttendanceMode",
        "location": [
            {
                "@type": "Place",
                "name": "Conway Hall",
                "address": {
                    "@type": "PostalAddress",
                    "streetAddress": "25 Red Lion Square, London WC1R 4RL",
                },
            },
            {"@type": "VirtualLocation", "url": "https://stream.example.org/ckc"},
        ],
        "organizer": {"@type": "Organization", "name": "eventmgr", "url": f"{BASE_URL}/"},
        "performer": [
            {
                "@type": "Person",
                "name": "Ada Lovelace",
                "affiliation": {"@type": "Organization", "name": "Henley Business School"},
            },
            {"@type": "Person", "name": "Bob Brown"},
        ],
        "maximumAttendeeCapacity": 60,
    }


def test_winter_meeting_dates_carry_the_winter_offset(public_client, make_event):
    event = make_event(starts_at=datetime(2016, 1, 20, 18, 0, tzinfo=UTC), timezone="Europe/London")
    data = json_ld(parse(fetch(public_client, f"/events/{event.slug}")))
    assert data["startDate"] == "2016-01-20T18:00:00+00:00"
    assert datetime.fromisoformat(data["endDate"]) - datetime.fromisoformat(
        data["startDate"]
    ) == timedelta(hours=2, minutes=30)


def test_cancelled_meeting_is_event_cancelled(public_client, make_event):
    event = make_event(status="cancelled", cancelled_at=datetime.now(UTC))
    page = parse(fetch(public_client, f"/events/{event.slug}"))
    assert json_ld(page)["eventStatus"] == "https://schema.org/EventCancelled"
    assert open_graph(page)["og:title"].endswith("(cancelled)")


def test_online_meeting_has_a_virtual_location(public_client, make_event):
    event = make_event(venue_name="", venue_address="", online_url="https://meet.example.org/km")
    data = json_ld(parse(fetch(public_client, f"/events/{event.slug}")))
    assert data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert data["location"] == {"@type": "VirtualLocation", "url": "https://meet.example.org/km"}


def test_meeting_at_a_venue_is_offline(public_client, make_event):
    event = make_event(online_url="")
    data = json_ld(parse(fetch(public_client, f"/events/{event.slug}")))
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert data["location"]["@type"] == "Place"


def test_meeting_page_carries_open_graph_tags(public_client, make_event):
    event = make_event(title="Knowledge cafés", summary="Talk, listen, learn.")
    page = parse(fetch(public_client, f"/events/{event.slug}"))
    url = f"{BASE_URL}/events/{event.slug}"
    assert open_graph(page) == {
        "og:type": "website",
        "og:site_name": "eventmgr",
        "og:locale": "en_GB",
        "og:title": "Knowledge cafés",
        "og:description": "Talk, listen, learn.",
        "og:url": url,
    }
    assert page.find("link", rel="canonical")["href"] == url
    assert page.find("meta", attrs={"name": "description"})["content"] == "Talk, listen, learn."


def test_without_a_summary_the_description_is_plain_text_from_the_markdown(
    public_client, make_event
):
    event = make_event(
        summary="",
        description="Speakers from **five** [networks](https://example.org), then *discussion*. "
        + "More words follow here. " * 20,
    )
    page = parse(fetch(public_client, f"/events/{event.slug}"))
    description = json_ld(page)["description"]
    assert description.startswith("Speakers from five networks, then discussion. More words")
    assert description.endswith("…") and len(description) <= 200
    assert open_graph(page)["og:description"] == description
    assert page.find("meta", attrs={"name": "description"})["content"] == description


def test_json_ld_cannot_be_broken_out_of(public_client, make_event):
    title = "</script><script>alert(1)</script> & 'quotes'"
    event = make_event(title=title)
    page = parse(fetch(public_client, f"/events/{event.slug}"))
    assert json_ld(page)["name"] == title
    assert [script.get("type") for script in page.find_all("script")] == ["application/ld+json"]


def test_other_pages_have_the_default_description_and_no_json_ld(client):
    page = parse(fetch(client, "/"))
    assert (
        "knowledge and information management"
        in page.find("meta", attrs={"name": "description"})["content"]
    )
    assert not page.find_all("script", attrs={"type": "application/ld+json"})


DEMO_MEETING = "/events/2015-09-23-connecting-knowledge-communities"
DEMO_PAGES = {
    "home": "/",
    "meeting": DEMO_MEETING,
    "first question's thread": None,  # its id depends on the database's sequences
    "write-ups": "/writeups/",
    "write-up": "/writeups/connecting-knowledge-communities-what-we-heard",
}


@pytest.mark.parametrize("name", DEMO_PAGES)
def test_demo_page_is_valid_semantic_html(app, client, runner, name):
    # The demo has what tests rarely make: Markdown headings, replies, dates in the prose.
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    path = DEMO_PAGES[name]
    if path is None:
        with app.app_context():
            question_id = _db.session.scalar(
                select(Question.id).where(Question.title == "What do we need personally?")
            )
        path = f"{DEMO_MEETING}/questions/{question_id}"
    assert_good_page(fetch(client, path))
