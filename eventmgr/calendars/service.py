"""Which meetings calendars show: published ones, and cancelled ones marked as such."""

from __future__ import annotations

from collections.abc import Sequence

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import load_only

from eventmgr.calendars.ics import CalendarEntry
from eventmgr.events import service as events_service
from eventmgr.events.models import Event
from eventmgr.extensions import db

#: The columns a calendar entry needs; the long description stays in the database.
_ENTRY_COLUMNS = (
    Event.id, Event.slug, Event.title, Event.summary, Event.starts_at, Event.ends_at,
    Event.timezone, Event.venue_name, Event.venue_address, Event.online_url, Event.sequence,
    Event.status, Event.updated_at,
)  # fmt: skip


def is_in_calendars(event: Event) -> bool:
    """Whether a meeting is public enough for calendars (drafts are not)."""
    return event.status in events_service.LISTED_STATUSES


def entry_or_404(slug: str) -> CalendarEntry:
    """The calendar entry of a published or cancelled meeting; aborts with 404 otherwise."""
    # Odd strings cannot be slugs; don't send them to the database.
    if len(slug) > events_service.SLUG_MAX_LENGTH or not events_service.SLUG_PATTERN.fullmatch(
        slug
    ):
        abort(404)
    statement = select(Event).where(Event.slug == slug).options(load_only(*_ENTRY_COLUMNS))
    event = db.session.scalar(statement)
    if event is None or not is_in_calendars(event):
        abort(404)
    return CalendarEntry.from_event(event)


def feed_entries() -> Sequence[CalendarEntry]:
    """Every published or cancelled meeting, oldest first, in one query."""
    statement = (
        select(Event)
        .where(Event.status.in_(events_service.LISTED_STATUSES))
        .options(load_only(*_ENTRY_COLUMNS, raiseload=True))
        .order_by(Event.starts_at, Event.id)
    )
    return [CalendarEntry.from_event(event) for event in db.session.scalars(statement)]
