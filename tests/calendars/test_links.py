"""The meeting page's calendar links: download, subscribe (webcal), Google and Outlook."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from eventmgr.calendars import links
from eventmgr.calendars.ics import CalendarEntry

#: 18:00–20:30 BST on 20 October 2027.
STARTS = datetime(2027, 10, 20, 17, 0, tzinfo=UTC)


def calendar_links_on(response) -> dict[str, str]:
    """The calendar links the page shows, by their text."""
    page = BeautifulSoup(response.get_data(as_text=True), "html5lib")
    block = page.find(class_="calendar-links")
    if block is None:
        return {}
    return {anchor.get_text(strip=True): anchor["href"] for anchor in block.find_all("a")}


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_meeting_page_offers_download_subscribe_google_and_outlook(client, make_event):
    event = make_event(title="Taxonomies & tags", summary="Why tags?", starts_at=STARTS)
    found = calendar_links_on(client.get(f"/events/{event.slug}"))
    assert found["Download calendar file (.ics)"] == f"/events/{event.slug}.ics"
    assert found["Subscribe to all meetings"] == "webcal://events.example.org/events.ics"

    google = found["Add to Google Calendar"]
    assert google.startswith("https://calendar.google.com/calendar/render?")
    query = query_of(google)
    assert query["action"] == "TEMPLATE"
    assert query["text"] == "Taxonomies & tags"
    assert query["dates"] == "20271020T170000Z/20271020T193000Z"
    assert query["details"].startswith("Why tags?")
    assert query["location"] == "Conway Hall, 25 Red Lion Square, London WC1R 4RL"

    outlook = found["Add to Outlook"]
    assert outlook.startswith("https://outlook.live.com/calendar/0/action/compose?")
    query = query_of(outlook)
    assert query["subject"] == "Taxonomies & tags"
    assert query["startdt"] == "2027-10-20T17:00:00Z"
    assert query["enddt"] == "2027-10-20T19:30:00Z"
    assert query["body"].startswith("Why tags?")
    assert query["location"] == "Conway Hall, 25 Red Lion Square, London WC1R 4RL"


def test_the_download_link_serves_the_ics(client, make_event):
    event = make_event()
    found = calendar_links_on(client.get(f"/events/{event.slug}"))
    response = client.get(found["Download calendar file (.ics)"])
    assert response.status_code == 200 and response.mimetype == "text/calendar"


def test_cancelled_meetings_keep_the_ics_but_offer_no_add_links(client, make_event):
    event = make_event(status="cancelled")
    found = calendar_links_on(client.get(f"/events/{event.slug}"))
    assert set(found) == {"Download calendar file (.ics)", "Subscribe to all meetings"}


def test_drafts_show_no_calendar_links(client, make_event, make_user, login_as):
    draft = make_event(status="draft")
    login_as(make_user(role="organiser"))
    response = client.get(f"/events/{draft.slug}")
    assert response.status_code == 200
    assert calendar_links_on(response) == {}


def test_webcal_keeps_host_and_path():
    assert (
        links.webcal_url("http://127.0.0.1:5000/events.ics") == "webcal://127.0.0.1:5000/events.ics"
    )
    assert (
        links.webcal_url("https://example.org/km/events.ics")
        == "webcal://example.org/km/events.ics"
    )


def test_google_link_for_an_online_meeting_uses_the_link_as_location(app):
    entry = CalendarEntry(
        event_id=1, slug="2026-11-04-online", title="Online", summary="", sequence=0,
        cancelled=False, starts_at=datetime(2026, 11, 4, 18, tzinfo=UTC),
        ends_at=datetime(2026, 11, 4, 19, tzinfo=UTC), timezone="Europe/London",
        venue_name="", venue_address="", online_url="https://meet.example.org/x",
    )  # fmt: skip
    with app.app_context():
        query = query_of(links.google_calendar_url(entry))
    assert query["dates"] == "20261104T180000Z/20261104T190000Z"
    assert query["location"] == "https://meet.example.org/x"
    assert query["details"] == "https://events.example.org/events/2026-11-04-online"


def test_past_meetings_keep_the_ics_but_offer_no_add_links(client, make_event):
    event = make_event(starts_at=datetime(2015, 9, 23, 17, 0, tzinfo=UTC))
    found = calendar_links_on(client.get(f"/events/{event.slug}"))
    assert "Download calendar file (.ics)" in found
    assert "Add to Google Calendar" not in found
    assert "Add to Outlook" not in found
