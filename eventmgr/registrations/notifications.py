"""Emails about registrations, and about changes to the meetings members registered for.

The registrations service calls the four registration functions after a valid change and before the
commit; the meeting-change receivers are connected to the events domain's signals by create_app. Every
email goes to the outbox in the caller's transaction, so a rollback leaves none behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from eventmgr.accounts.models import User
from eventmgr.calendars import ics
from eventmgr.events import service as events_service
from eventmgr.events.models import Event
from eventmgr.extensions import db
from eventmgr.mail import service as mail_service
from eventmgr.mail import unsubscribe

# Registration emails: transactional, they always go -------------------------------------------------


def _queue_for_registration(
    registration: Any,
    *,
    kind: str,
    subject: str,
    with_calendar: bool,
    **context: Any,
) -> None:
    """Queue one email about `registration` to its member; flushes."""
    event, user = registration.event, registration.user
    entry = ics.CalendarEntry.from_event(event)
    mail_service.queue_email(
        kind=kind,
        to=user.email,
        subject=subject,
        template=kind.replace("-", "_"),
        context={"user": user, "meeting": entry, **context},
        attachments=[ics.calendar_attachment(entry)] if with_calendar else [],
    )


def registration_confirmed(registration: Any) -> None:
    """Queue 'you are registered', with the meeting's .ics attached; flushes."""
    _queue_for_registration(
        registration,
        kind="registration-confirmed",
        subject=f"You are registered: {registration.event.title}",
        with_calendar=True,
    )


def registration_waitlisted(registration: Any, *, position: int | None = None) -> None:
    """Queue 'you are on the waiting list' with the member's place in it; flushes."""
    if position is None:
        position = _waitlist_position(registration)
    _queue_for_registration(
        registration,
        kind="registration-waitlisted",
        subject=f"On the waiting list: {registration.event.title}",
        with_calendar=False,
        position=position,
    )


def promoted_from_waitlist(registration: Any) -> None:
    """Queue 'a place came free: you are registered', with the .ics attached; flushes."""
    _queue_for_registration(
        registration,
        kind="registration-promoted",
        subject=f"A place is yours: {registration.event.title}",
        with_calendar=True,
    )


def registration_cancelled(registration: Any) -> None:
    """Queue a confirmation that the member's registration is cancelled; flushes."""
    _queue_for_registration(
        registration,
        kind="registration-cancelled",
        subject=f"Registration cancelled: {registration.event.title}",
        with_calendar=False,
    )


def _waitlist_position(registration: Any) -> int | None:
    """The member's place on the waiting list, from the registrations service."""
    from eventmgr.registrations import service as registrations_service

    return registrations_service.waitlist_position(registration)


# Meeting changes: notifications, sent only to members who want them ------------------------------


def affected_users(event: Event) -> Sequence[User]:
    """Active members confirmed or waitlisted for `event` who want meeting updates; one query."""
    from eventmgr.registrations.models import ACTIVE_STATUSES, Registration

    statement = (
        select(Registration)
        .join(Registration.user)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(ACTIVE_STATUSES),
            User.notify_event_updates.is_(True),
            User.active.is_(True),
        )
        .options(contains_eager(Registration.user))
        .order_by(Registration.id)
    )
    return [registration.user for registration in db.session.scalars(statement)]


def _queue_update(user: User, *, kind: str, subject: str, attachment: Any, **context: Any) -> None:
    """Queue a meeting notification to `user` with a one-click unsubscribe and the meeting's .ics
    (`attachment`, built once for all recipients); flushes."""
    mail_service.queue_email(
        kind=kind,
        to=user.email,
        subject=subject,
        template=kind.replace("-", "_"),
        context={"user": user, **context, "unsubscribe_url": unsubscribe.url_for_user(user)},
        headers=unsubscribe.headers_for(user),
        attachments=[attachment],
    )


def meeting_changed(event: Event, *, changes: Mapping[str, tuple[Any, Any]], **_: Any) -> None:
    """Receiver of events.service.event_updated: tell members when the time or place changes.

    The signal comes before the new values are applied, so the email and its .ics are built from
    the meeting as it will be (the changes applied, SEQUENCE raised).
    """
    if not event.is_published or not changes.keys() & events_service.SCHEDULE_FIELDS:
        return
    before = ics.CalendarEntry.from_event(event)
    after = before.with_changes(changes)
    attachment = ics.calendar_attachment(after)
    for user in affected_users(event):
        _queue_update(
            user,
            attachment=attachment,
            kind="meeting-changed",
            subject=f"Changed: {after.title}, {after.date_text}",
            meeting=after,
            before=before,
        )


def meeting_cancelled(event: Event, **_: Any) -> None:
    """Receiver of events.service.event_cancelled: tell members, with a cancelled .ics."""
    entry = ics.CalendarEntry.from_event(event)
    attachment = ics.calendar_attachment(entry)
    for user in affected_users(event):
        _queue_update(
            user,
            attachment=attachment,
            kind="meeting-cancelled",
            subject=f"Cancelled: {entry.title}, {entry.date_text}",
            meeting=entry,
        )


def connect_signals() -> None:
    """Connect the meeting-change receivers; safe to call once per create_app (blinker dedupes)."""
    events_service.event_updated.connect(meeting_changed, weak=False)
    events_service.event_cancelled.connect(meeting_cancelled, weak=False)
