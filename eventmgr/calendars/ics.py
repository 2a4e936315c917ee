"""iCalendar (RFC 5545) files for meetings: one meeting, or the feed of all public ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from typing import Any

import icalendar

from eventmgr.events.models import Event
from eventmgr.events.service import SCHEDULE_FIELDS
from eventmgr.mail.service import Attachment
from eventmgr.web import times
from eventmgr.web.urls import external_url, site_host

#: Identifies the program that wrote the file (RFC 5545 §3.7.3).
PRODUCT_ID = "-//eventmgr//meetings//EN"
#: The media type of .ics files and of the feed.
CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True, kw_only=True)
class CalendarEntry:
    """What a calendar (and an email about a meeting) says about one meeting.

    A plain value rather than the Event itself, so that a change can be described as it will be
    before it is applied to the model (see `with_changes`).
    """

    event_id: int
    slug: str
    title: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue_name: str
    venue_address: str
    online_url: str
    sequence: int
    cancelled: bool
    updated_at: datetime | None = None

    @classmethod
    def from_event(cls, event: Event) -> CalendarEntry:
        """The entry for `event` as it stands."""
        values = {field.name: getattr(event, field.name, None) for field in fields(cls)}
        values.update(event_id=event.id, cancelled=event.is_cancelled, sequence=event.sequence or 0)
        return cls(**values)

    def with_changes(self, changes: Mapping[str, tuple[Any, Any]]) -> CalendarEntry:
        """The entry once `changes` ({field: (old, new)}) apply, SEQUENCE raised as the service does."""
        names = {field.name for field in fields(self)}
        values = {name: new for name, (_old, new) in changes.items() if name in names}
        if changes.keys() & SCHEDULE_FIELDS:
            values["sequence"] = self.sequence + 1
        return replace(self, **values)

    @property
    def uid(self) -> str:
        """Stable for the meeting's life, so calendars update the entry instead of adding one."""
        return f"event-{self.event_id}@{site_host()}"

    @property
    def url(self) -> str:
        """The meeting page, absolute on BASE_URL."""
        return external_url("events.detail", slug=self.slug)

    @property
    def location(self) -> str:
        """Venue name and address on one line, else the online link."""
        address = ", ".join(
            line.strip() for line in self.venue_address.splitlines() if line.strip()
        )
        place = ", ".join(part for part in (self.venue_name.strip(), address) if part)
        return place or self.online_url

    @property
    def date_text(self) -> str:
        """'Wednesday 21 October 2026' in the meeting's zone."""
        return times.format_date(self.starts_at, self.timezone)

    @property
    def time_text(self) -> str:
        """'18:00–20:30 BST' in the meeting's zone."""
        return times.format_time_range(self.starts_at, self.ends_at, self.timezone)

    @property
    def description(self) -> str:
        """The summary followed by the page's address, for calendar descriptions."""
        return "\n\n".join(part for part in (self.summary.strip(), self.url) if part)


def _vevent(entry: CalendarEntry, *, stamp: datetime) -> icalendar.Event:
    """The VEVENT of one meeting, its times in the meeting's own zone (TZID)."""
    zone = times.to_local(entry.starts_at, entry.timezone).tzinfo
    vevent = icalendar.Event()
    vevent.add("uid", entry.uid)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", entry.starts_at.astimezone(zone))
    vevent.add("dtend", entry.ends_at.astimezone(zone))
    vevent.add("sequence", entry.sequence)
    vevent.add("summary", entry.title)
    if entry.description:
        vevent.add("description", entry.description)
    if entry.location:
        vevent.add("location", entry.location)
    vevent.add("url", entry.url)
    vevent.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    if entry.updated_at is not None:
        vevent.add("last-modified", entry.updated_at.astimezone(UTC))
    return vevent


def build_calendar(
    entries: Iterable[CalendarEntry], *, name: str | None = None, now: datetime | None = None
) -> bytes:
    """An iCalendar file holding `entries`, with a VTIMEZONE for every zone they use."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    entries = list(entries)
    for entry in entries:
        calendar.add_component(_vevent(entry, stamp=stamp))
    if entries:
        # VTIMEZONEs cover the years the meetings fall in (plus one either side), not icalendar's
        # default 1970-2038: shorter files, and meetings after 2038 still get their rules.
        first = min(entry.starts_at for entry in entries).year - 1
        last = max(entry.ends_at for entry in entries).year + 2
        calendar.add_missing_timezones(date(first, 1, 1), date(last, 1, 1))
    return calendar.to_ical()


def calendar_attachment(entry: CalendarEntry) -> Attachment:
    """The meeting's .ics as an email attachment."""
    return Attachment(
        filename=f"{entry.slug}.ics",
        content_type="text/calendar; method=PUBLISH",
        content=build_calendar([entry]).decode("utf-8"),
    )
