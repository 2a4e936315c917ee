"""Links that put a meeting into someone's calendar: .ics download, webcal feed, Google, Outlook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from flask import url_for

from eventmgr.calendars.ics import CalendarEntry
from eventmgr.calendars.service import is_in_calendars
from eventmgr.database import utcnow
from eventmgr.events.models import Event
from eventmgr.web.urls import external_url

#: Google Calendar's "create event" page.
GOOGLE_CALENDAR_URL = "https://calendar.google.com/calendar/render"
#: Outlook on the web's "new event" page.
OUTLOOK_CALENDAR_URL = "https://outlook.live.com/calendar/0/action/compose"


@dataclass(frozen=True)
class CalendarLinks:
    """Every way the meeting page offers to add the meeting to a calendar."""

    ics_url: str
    webcal_url: str
    google_url: str | None
    outlook_url: str | None


def webcal_url(url: str) -> str:
    """The same address with the webcal:// scheme calendar apps subscribe to."""
    return urlunsplit(urlsplit(url)._replace(scheme="webcal"))


def _google_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _iso_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def google_calendar_url(entry: CalendarEntry) -> str:
    """Google Calendar's pre-filled new-event page for the meeting."""
    query = {
        "action": "TEMPLATE",
        "text": entry.title,
        "dates": f"{_google_time(entry.starts_at)}/{_google_time(entry.ends_at)}",
        "details": entry.description,
        "location": entry.location,
        "ctz": entry.timezone,
    }
    return f"{GOOGLE_CALENDAR_URL}?{urlencode(query, quote_via=quote)}"


def outlook_calendar_url(entry: CalendarEntry) -> str:
    """Outlook on the web's pre-filled new-event page for the meeting."""
    query = {
        "subject": entry.title,
        "startdt": _iso_time(entry.starts_at),
        "enddt": _iso_time(entry.ends_at),
        "body": entry.description,
        "location": entry.location,
    }
    return f"{OUTLOOK_CALENDAR_URL}?{urlencode(query, quote_via=quote)}"


def calendar_links(event: Event) -> CalendarLinks | None:
    """The meeting page's calendar links, or None for drafts (not in any calendar yet).

    Jinja global `calendar_links(event)`; cancelled and past meetings keep the .ics (it says
    CANCELLED when it is) but get no "add to" links: nobody plans to go to them.
    """
    if not is_in_calendars(event):
        return None
    entry = CalendarEntry.from_event(event)
    offer_adding = not entry.cancelled and entry.ends_at > utcnow()
    return CalendarLinks(
        ics_url=url_for("calendars.event_calendar", slug=entry.slug),
        webcal_url=webcal_url(external_url("calendars.feed")),
        google_url=google_calendar_url(entry) if offer_adding else None,
        outlook_url=outlook_calendar_url(entry) if offer_adding else None,
    )
