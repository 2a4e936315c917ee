"""/events/<slug>.ics and /events.ics: RFC 5545 files that calendar apps can import and follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.calendars.conftest import parse_calendar, vevents_by_uid
from tests.events.helpers import meeting_form

LONDON = ZoneInfo("Europe/London")
#: 18:00 in London either side of the clocks going back on 25 October 2026.
IN_SUMMER_TIME = datetime(2026, 10, 21, 17, 0, tzinfo=UTC)  # 18:00 BST
IN_WINTER_TIME = datetime(2026, 11, 4, 18, 0, tzinfo=UTC)  # 18:00 GMT


def uid(event) -> str:
    return f"event-{event.id}@events.example.org"


# One meeting -------------------------------------------------------------------------------------


def test_meeting_ics_describes_the_meeting(client, make_event):
    event = make_event(
        title="Connecting Knowledge Communities",
        summary="What do KM professionals need from networks?",
        starts_at=IN_SUMMER_TIME,
    )
    response = client.get(f"/events/{event.slug}.ics")
    calendar = parse_calendar(response)
    assert response.headers["Content-Disposition"] == f'attachment; filename="{event.slug}.ics"'
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == uid(event)
    assert vevent["DTSTAMP"].dt.tzinfo is not None
    assert str(vevent["SUMMARY"]) == "Connecting Knowledge Communities"
    assert str(vevent["DESCRIPTION"]).startswith("What do KM professionals need from networks?")
    assert str(vevent["URL"]) == f"https://events.example.org/events/{event.slug}"
    assert str(vevent["LOCATION"]) == "Conway Hall, 25 Red Lion Square, London WC1R 4RL"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert vevent["SEQUENCE"] == 0


@pytest.mark.parametrize(
    ("starts_at", "utc_hour", "zone_name"),
    [(IN_SUMMER_TIME, 17, "BST"), (IN_WINTER_TIME, 18, "GMT")],
)
def test_times_are_in_the_meetings_zone_across_the_clock_change(
    client, make_event, starts_at, utc_hour, zone_name
):
    event = make_event(starts_at=starts_at)
    calendar = parse_calendar(client.get(f"/events/{event.slug}.ics"))
    [vevent] = calendar.walk("VEVENT")
    assert vevent["DTSTART"].params["TZID"] == "Europe/London"
    start = vevent.start
    assert (start.hour, start.minute) == (18, 0)  # the wall clock in London
    assert start.astimezone(UTC).hour == utc_hour
    assert start.tzname() == zone_name
    assert vevent.end - vevent.start == timedelta(hours=2, minutes=30)
    [vtimezone] = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/London"
    names = {
        str(part["TZNAME"]) for part in vtimezone.walk() if part.name in ("STANDARD", "DAYLIGHT")
    }
    assert {"GMT", "BST"} <= names
    # The VTIMEZONE alone gives the right instant: read the raw text with the file's own rules.
    assert vtimezone.to_tz().utcoffset(start.replace(tzinfo=None)) == start.utcoffset()


def test_an_online_meeting_gives_its_link_as_location(client, make_event):
    event = make_event(venue_name="", venue_address="", online_url="https://meet.example.org/km")
    [vevent] = parse_calendar(client.get(f"/events/{event.slug}.ics")).walk("VEVENT")
    assert str(vevent["LOCATION"]) == "https://meet.example.org/km"


def test_a_meeting_in_utc_needs_no_vtimezone(client, make_event):
    event = make_event(timezone="UTC")
    calendar = parse_calendar(client.get(f"/events/{event.slug}.ics"))
    assert calendar.walk("VTIMEZONE") == []
    [vevent] = calendar.walk("VEVENT")
    assert vevent.start.utcoffset() == timedelta(0)


def test_a_cancelled_meeting_says_so(client, make_event):
    event = make_event(status="cancelled", sequence=3)
    [vevent] = parse_calendar(client.get(f"/events/{event.slug}.ics")).walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["SEQUENCE"] == 3


def test_drafts_and_unknown_meetings_have_no_ics(client, make_event, make_user, login_as):
    draft = make_event(status="draft")
    login_as(make_user(role="organiser"))
    assert client.get(f"/events/{draft.slug}.ics").status_code == 404
    assert client.get("/events/2030-01-01-nothing.ics").status_code == 404
    assert client.get("/events/Not.A.Slug.ics").status_code == 404


def test_ics_and_page_routes_do_not_shadow_each_other(app, client, make_event):
    event = make_event()
    adapter = app.url_map.bind("localhost")
    assert adapter.match(f"/events/{event.slug}.ics") == (
        "calendars.event_calendar", {"slug": event.slug},
    )  # fmt: skip
    assert adapter.match(f"/events/{event.slug}") == ("events.detail", {"slug": event.slug})
    assert adapter.match("/events.ics") == ("calendars.feed", {})
    page = client.get(f"/events/{event.slug}")
    assert page.status_code == 200 and page.mimetype == "text/html"


# SEQUENCE follows changes ------------------------------------------------------------------------


def sequence_of(client, slug) -> int:
    [vevent] = parse_calendar(client.get(f"/events/{slug}.ics")).walk("VEVENT")
    return int(vevent["SEQUENCE"])


def test_sequence_rises_after_time_and_place_edits_and_cancelling(
    client, make_event, make_user, login_as
):
    event = make_event(starts_at=datetime(2030, 9, 23, 17, tzinfo=UTC), capacity=60)
    login_as(make_user(role="organiser"))
    assert sequence_of(client, event.slug) == 0

    form = meeting_form(starts_at="2030-09-23T18:00", ends_at="2030-09-23T20:30")
    assert client.post(f"/events/{event.slug}/edit", data=form).status_code == 302
    # The builder's meeting had other details (title, venue); the form replaced them.
    assert sequence_of(client, event.slug) == 1

    form = meeting_form(starts_at="2030-09-23T18:00", ends_at="2030-09-23T20:30")
    client.post(f"/events/{event.slug}/edit", data={**form, "summary": "Only words changed"})
    assert sequence_of(client, event.slug) == 1  # not a change of time or place

    moved = meeting_form(starts_at="2030-09-30T18:00", ends_at="2030-09-30T20:30")
    client.post(f"/events/{event.slug}/edit", data=moved)
    assert sequence_of(client, event.slug) == 2
    [vevent] = parse_calendar(client.get(f"/events/{event.slug}.ics")).walk("VEVENT")
    assert vevent.start.astimezone(UTC) == datetime(2030, 9, 30, 17, tzinfo=UTC)

    client.post(f"/events/{event.slug}/edit", data={**moved, "venue_name": "British Library"})
    assert sequence_of(client, event.slug) == 3

    assert client.post(f"/events/{event.slug}/cancel").status_code == 302
    [vevent] = parse_calendar(client.get(f"/events/{event.slug}.ics")).walk("VEVENT")
    assert vevent["SEQUENCE"] == 4
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["UID"]) == uid(event)  # the same entry, updated


# The feed ----------------------------------------------------------------------------------------


def test_feed_holds_published_and_cancelled_meetings_not_drafts(client, make_event):
    summer = make_event(starts_at=IN_SUMMER_TIME)
    winter = make_event(starts_at=IN_WINTER_TIME)
    cancelled = make_event(status="cancelled")
    draft = make_event(status="draft")
    response = client.get("/events.ics")
    calendar = parse_calendar(response)
    assert "max-age" in response.headers["Cache-Control"]
    assert "meetings" in str(calendar["X-WR-CALNAME"])
    vevents = vevents_by_uid(calendar)
    assert set(vevents) == {uid(summer), uid(winter), uid(cancelled)}
    assert uid(draft) not in vevents
    assert vevents[uid(summer)].start.astimezone(UTC).hour == 17
    assert vevents[uid(winter)].start.astimezone(UTC).hour == 18
    assert str(vevents[uid(cancelled)]["STATUS"]) == "CANCELLED"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]


def test_feed_has_one_vtimezone_per_zone(client, make_event):
    make_event(timezone="Europe/London")
    make_event(timezone="America/New_York")
    make_event(timezone="Europe/London")
    calendar = parse_calendar(client.get("/events.ics"))
    assert sorted(str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")) == [
        "America/New_York", "Europe/London",
    ]  # fmt: skip


def test_an_empty_feed_is_still_a_calendar(client):
    calendar = parse_calendar(client.get("/events.ics"))
    assert calendar.walk("VEVENT") == []


def test_feed_query_count_does_not_grow_with_meetings(app, client, make_event, count_queries):
    make_event()
    with count_queries() as few:
        client.get("/events.ics")
    for _ in range(5):
        make_event()
    with count_queries() as many:
        client.get("/events.ics")
    assert len(few) == len(many)


def test_feed_does_not_load_the_long_description(client, make_event, count_queries):
    make_event(description="Long *Markdown*")
    with count_queries() as statements:
        client.get("/events.ics")
    [feed_query] = [s for s in statements if "FROM events" in s]
    assert "events.description" not in feed_query
