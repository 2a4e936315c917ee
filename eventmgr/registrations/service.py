"""Registration rules: places at meetings, the waiting list and its promotions, and the roster.

Every change to a meeting's registrations first locks the meeting (`_lock_meeting`), so that
concurrent requests, in any number of worker processes, change one meeting's registrations one after
another: seats are never overbooked and the waiting list keeps the order the database accepted
registrations in. Two unique constraints back this up in the database: one registration per member
and meeting, one queue number per meeting.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from flask import abort
from sqlalchemy import Select, case, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased, contains_eager, selectinload

from eventmgr.accounts.models import User
from eventmgr.database import utcnow
from eventmgr.events import service as events_service
from eventmgr.events.models import Event, EventStatus
from eventmgr.extensions import db
from eventmgr.registrations import notifications
from eventmgr.registrations.models import ACTIVE_STATUSES, Registration, RegistrationStatus
from eventmgr.web.times import format_datetime

#: How long a registration change keeps waiting for SQLite's database-wide write lock.
SQLITE_LOCK_WAIT_SECONDS = 30
#: The meeting columns registration rules read; reloaded once the meeting is locked.
RULE_COLUMNS = (
    "status",
    "capacity",
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "last_queue_number",
)


class RegistrationError(ValueError):
    """A registration change that the rules refuse; the message is safe to show."""


# Locking -----------------------------------------------------------------------------------------


def _lock_meeting(event: Event) -> int:
    """Hold the meeting's registration lock until the transaction ends; returns a new queue number.

    The lock is an UPDATE of the meeting's row, the first write of the transaction. PostgreSQL
    keeps the row locked and SQLite keeps its single write lock until commit or rollback, so a
    second request for the same meeting waits here, then reads what the first one wrote (PostgreSQL
    runs READ COMMITTED; SQLite's transaction only starts with this write). The meeting's rule
    columns are reloaded, because an organiser may have changed them while this request waited.
    `updated_at` is set to itself so that registrations do not count as edits of the meeting.
    """
    statement = (
        update(Event)
        .where(Event.id == event.id)
        .values(last_queue_number=Event.last_queue_number + 1, updated_at=Event.updated_at)
        .returning(Event.last_queue_number)
        .execution_options(synchronize_session=False)
    )
    deadline = time.monotonic() + SQLITE_LOCK_WAIT_SECONDS
    while True:
        try:
            number = db.session.execute(statement).scalar_one()
            break
        except OperationalError as error:
            # SQLite gives up waiting for its write lock after busy_timeout (5 s), which a burst
            # of registrations on a busy machine can exceed. The failed attempt was the
            # transaction's first write and left no lock behind, so waiting again is safe.
            # (PostgreSQL waits for the row lock as long as it takes and never gets here.)
            if not _is_sqlite_busy(error) or time.monotonic() > deadline:
                raise
    db.session.refresh(event, attribute_names=list(RULE_COLUMNS))
    return number


def _is_sqlite_busy(error: OperationalError) -> bool:
    """Whether SQLite gave up waiting for another connection's write lock (busy_timeout passed).

    Only plain SQLITE_BUSY: its extended forms (a stale snapshot, recovery) would fail again at
    once, and retrying them would spin.
    """
    return (
        isinstance(error.orig, sqlite3.Error)
        and getattr(error.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
    )


def _reloaded(statement: Select[Any]) -> Select[Any]:
    """`statement` set to overwrite objects already in the session with the rows as they are now."""
    return statement.execution_options(populate_existing=True)


# Reading -----------------------------------------------------------------------------------------


def _waitlist_position_of(registration: Any) -> Any:
    """SQL for the place of `registration` on its meeting's waiting list: the model or an alias
    (for a column of a listing), or one loaded registration (its values become parameters)."""
    ahead = aliased(Registration)
    return (
        select(func.count())
        .where(
            ahead.event_id == registration.event_id,
            ahead.status == RegistrationStatus.WAITLISTED,
            ahead.queue_number <= registration.queue_number,
        )
        .scalar_subquery()
    )


def waitlist_position(registration: Registration) -> int | None:
    """The member's place on the waiting list (1 is offered the next free seat); None unless
    waitlisted. One query."""
    if not registration.is_waitlisted:
        return None
    return db.session.scalar(select(_waitlist_position_of(registration)))


def count_confirmed(event: Event) -> int:
    """How many seats of the meeting are taken."""
    return db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED
        )
    )


def get_registration(event: Event, user: Any) -> Registration | None:
    """The member's registration for the meeting, whatever its status, or None (also for
    anonymous visitors). One query at most."""
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.user_id == user.id
        )
    )


def get_registration_or_404(event: Event, registration_id: int) -> Registration:
    """The registration `registration_id` of this meeting; aborts with 404 if it belongs elsewhere."""
    registration = db.session.scalar(
        select(Registration).where(
            Registration.id == registration_id, Registration.event_id == event.id
        )
    )
    if registration is None:
        abort(404)
    return registration


def _registration_for_update(event: Event, user: User) -> Registration | None:
    """The member's registration read after the meeting is locked (never a stale copy)."""
    return db.session.scalar(
        _reloaded(
            select(Registration).where(
                Registration.event_id == event.id, Registration.user_id == user.id
            )
        )
    )


# The rules ---------------------------------------------------------------------------------------


#: Why a member who has not confirmed their email address cannot register.
CONFIRM_EMAIL_MESSAGE = "Confirm your email address to register for meetings."


def registration_refusal(event: Event, *, now: datetime | None = None) -> str | None:
    """Why nobody can register for the meeting at `now`, or None while registration is open."""
    now = now or utcnow()
    if event.is_draft:
        return "Registration opens when this meeting is published."
    if event.is_cancelled:
        return "This meeting has been cancelled, so registration is closed."
    if event.ends_at <= now:
        return "This meeting has already taken place."
    if event.starts_at <= now:
        return "This meeting has already started, so registration is closed."
    opens, closes = event.registration_opens_at, event.registration_closes_at
    if opens is not None and now < opens:
        return f"Registration opens on {format_datetime(opens, event.timezone)}."
    if closes is not None and now >= closes:
        return f"Registration closed on {format_datetime(closes, event.timezone)}."
    return None


def withdrawal_refusal(event: Event, *, now: datetime | None = None) -> str | None:
    """Why registrations for the meeting can no longer be cancelled at `now`, or None."""
    now = now or utcnow()
    if event.is_cancelled:
        return "This meeting has been cancelled; there is nothing to withdraw from."
    if event.starts_at <= now:
        return "This meeting has already started, so registrations can no longer be cancelled."
    return None


def _promotes(event: Event, now: datetime) -> bool:
    """Whether freed seats still go to the waiting list: only before a published meeting starts."""
    return event.is_published and event.starts_at > now


def _fill_free_seats(event: Event, *, capacity: int | None, now: datetime) -> list[Registration]:
    """Give the seats `capacity` leaves free to the waiting list, first come first served; returns
    the registrations promoted. The meeting must be locked."""
    if not _promotes(event, now):
        return []
    statement = (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.queue_number)
        # Each promotion is emailed to its member: load them with the registrations, not one by one.
        .options(selectinload(Registration.user))
    )
    if capacity is not None:
        free = capacity - count_confirmed(event)
        if free <= 0:
            return []
        statement = statement.limit(free)
    promoted = list(db.session.scalars(_reloaded(statement)))
    for registration in promoted:
        registration.status = RegistrationStatus.CONFIRMED
        registration.changed_at = now
    return promoted


def _already_registered_message(registration: Registration) -> str:
    if registration.is_confirmed:
        return "You are already registered for this meeting; nothing has changed."
    return (
        "You are already on the waiting list for this meeting, at number "
        f"{waitlist_position(registration)}; nothing has changed."
    )


def register_member(event: Event, user: User, *, now: datetime | None = None) -> Registration:
    """Give the member a seat at the meeting, or the next place on its waiting list; flushes.

    Raises RegistrationError, changing nothing, when registration is not open or the member is
    already registered or waitlisted. A member who cancelled before gets their row back, at the
    back of the queue. Queues the matching email. A member whose email address is unconfirmed is
    refused (CONFIRM_EMAIL_MESSAGE): seats go only to people we know we can reach.
    """
    refusal = registration_refusal(event, now=now)
    if refusal:
        raise RegistrationError(refusal)
    if not user.email_confirmed:
        raise RegistrationError(CONFIRM_EMAIL_MESSAGE)
    queue_number = _lock_meeting(event)
    # Taken after the lock, so registration times follow the order the database accepted them in.
    now = now or utcnow()
    refusal = registration_refusal(event, now=now)
    if refusal:
        raise RegistrationError(refusal)
    registration = _registration_for_update(event, user)
    if registration is not None and not registration.is_cancelled:
        raise RegistrationError(_already_registered_message(registration))
    if registration is None:
        registration = Registration(event=event, user=user, created_at=now)
        db.session.add(registration)
    registration.status = RegistrationStatus.WAITLISTED
    registration.queue_number = queue_number
    registration.attended = False
    registration.registered_at = registration.changed_at = now
    # Joining at the back of the queue and filling free seats from its front is one rule for both
    # cases: a seat when nobody is waiting ahead, the waiting list otherwise.
    promoted = _fill_free_seats(event, capacity=event.capacity, now=now)
    for other in promoted:
        if other is not registration:
            notifications.promoted_from_waitlist(other)
    if registration.is_confirmed:
        notifications.registration_confirmed(registration)
    else:
        notifications.registration_waitlisted(
            registration, position=waitlist_position(registration)
        )
    db.session.flush()
    return registration


def _cancel(registration: Registration, *, now: datetime) -> list[Registration]:
    """Cancel the registration and give a seat it frees to the waiting list; returns those
    promoted. The meeting must be locked."""
    freed_seat = registration.is_confirmed
    registration.status = RegistrationStatus.CANCELLED
    registration.attended = False
    registration.changed_at = now
    if not freed_seat:
        return []
    event = registration.event
    return _fill_free_seats(event, capacity=event.capacity, now=now)


def unregister_member(event: Event, user: User, *, now: datetime | None = None) -> Registration:
    """Cancel the member's registration or take them off the waiting list; flushes.

    A freed seat goes at once to the first member waiting. Raises RegistrationError, changing
    nothing, when the member holds no registration or the meeting has started or been cancelled.
    """
    refusal = withdrawal_refusal(event, now=now)
    if refusal:
        raise RegistrationError(refusal)
    _lock_meeting(event)
    now = now or utcnow()
    refusal = withdrawal_refusal(event, now=now)
    if refusal:
        raise RegistrationError(refusal)
    registration = _registration_for_update(event, user)
    if registration is None:
        raise RegistrationError("You are not registered for this meeting.")
    if registration.is_cancelled:
        # Most often the second of two clicks: the first one cancelled it.
        raise RegistrationError("Your registration for this meeting is already cancelled.")
    promoted = _cancel(registration, now=now)
    notifications.registration_cancelled(registration)
    for other in promoted:
        notifications.promoted_from_waitlist(other)
    db.session.flush()
    return registration


def remove_registration(
    registration: Registration, *, now: datetime | None = None
) -> list[Registration]:
    """An organiser's removal of a registration (kept as cancelled); a freed seat goes to the
    waiting list. Returns those promoted; flushes; raises RegistrationError if already cancelled."""
    _lock_meeting(registration.event)
    now = now or utcnow()
    db.session.refresh(registration)
    if registration.is_cancelled:
        raise RegistrationError("This registration is already cancelled.")
    promoted = _cancel(registration, now=now)
    for other in promoted:
        notifications.promoted_from_waitlist(other)
    db.session.flush()
    return promoted


def set_attendance(registration: Registration, *, attended: bool) -> None:
    """Mark a member with a seat as present or not present; flushes; raises RegistrationError for
    waitlisted and cancelled registrations."""
    _lock_meeting(registration.event)
    db.session.refresh(registration)
    if not registration.is_confirmed:
        raise RegistrationError("Only members with a place can be checked in.")
    registration.attended = attended
    db.session.flush()


def describe(registration: Registration) -> str:
    """What happened, for the member, after registering or unregistering."""
    title = registration.event.title
    if registration.is_confirmed:
        return f"You are registered for {title}. A confirmation is on its way by email."
    if registration.is_waitlisted:
        return (
            f"{title} is full, so you are on the waiting list at number "
            f"{waitlist_position(registration)}. We will email you if a place comes free."
        )
    return f"Your registration for {title} is cancelled."


# Capacity changes --------------------------------------------------------------------------------


def check_capacity_change(event: Event, *, changes: dict[str, tuple[Any, Any]], **_: Any) -> None:
    """Receiver of events.service.event_updated: refuse a capacity below the seats already taken
    (EventError), and give the seats a higher capacity adds to the waiting list.

    The signal comes before the new values are applied, so the new capacity is taken from
    `changes`, never from the meeting.
    """
    if "capacity" not in changes:
        return
    _old, capacity = changes["capacity"]
    _lock_meeting(event)
    confirmed = count_confirmed(event)
    if capacity is not None and capacity < confirmed:
        members = "member has" if confirmed == 1 else "members have"
        raise events_service.EventError(
            f"{confirmed} {members} a place already, so the capacity cannot be lower than "
            f"{confirmed}. Remove registrations from the attendee list first."
        )
    for promoted in _fill_free_seats(event, capacity=capacity, now=utcnow()):
        notifications.promoted_from_waitlist(promoted)


def connect_signals() -> None:
    """Connect this domain's receivers to the events domain's signals (blinker ignores repeats)."""
    events_service.event_updated.connect(check_capacity_change, weak=False)


# The meeting page's panel ------------------------------------------------------------------------


@dataclass(kw_only=True)
class Panel:
    """What the meeting page shows about registering, for one visitor.

    The seat counts are read on first use (one query), so a page that shows none, such as an
    unlimited meeting seen by a visitor, does not pay for them.
    """

    event: Event
    #: The visitor: a User, or Flask-Login's anonymous user.
    visitor: Any
    #: The visitor's own registration (any status), or None.
    registration: Registration | None
    #: The visitor's place on the waiting list, when they are on it.
    position: int | None
    #: Why registering is not possible now, when it is not.
    refusal: str | None
    #: Why registrations can no longer be cancelled, when they cannot.
    withdrawal_refusal: str | None
    #: Whether places still matter: a published meeting that has not started.
    shows_places: bool

    @cached_property
    def _counts(self) -> dict[str, int]:
        rows = db.session.execute(
            select(Registration.status, func.count())
            .where(Registration.event_id == self.event.id, Registration.status.in_(ACTIVE_STATUSES))
            .group_by(Registration.status)
        )
        return dict(rows.tuples().all())

    @property
    def confirmed(self) -> int:
        """Seats taken."""
        return self._counts.get(RegistrationStatus.CONFIRMED, 0)

    @property
    def waitlisted(self) -> int:
        """Members on the waiting list."""
        return self._counts.get(RegistrationStatus.WAITLISTED, 0)

    @property
    def seats_left(self) -> int | None:
        """Free seats; None when the meeting has no limit."""
        if self.event.capacity is None:
            return None
        return max(self.event.capacity - self.confirmed, 0)

    @property
    def is_full(self) -> bool:
        """Whether newcomers join the waiting list (never without a limit: removing the limit
        gives everyone waiting a seat)."""
        if self.event.capacity is None:
            return False
        return self.seats_left == 0 or self.waitlisted > 0

    @property
    def action(self) -> str | None:
        """The one button that fits: register, waitlist, withdraw, leave_waitlist, login,
        confirm_email (resend the confirmation link), or None."""
        registration = self.registration
        if registration is not None and not registration.is_cancelled:
            if self.withdrawal_refusal:
                return None
            return "withdraw" if registration.is_confirmed else "leave_waitlist"
        if self.refusal:
            return None
        if self.visitor is None or not self.visitor.is_authenticated:
            return "login"
        if not self.visitor.email_confirmed:
            return "confirm_email"
        return "waitlist" if self.is_full else "register"


def panel_for(event: Event, user: Any, *, now: datetime | None = None) -> Panel:
    """The registration panel of the meeting page for `user` (possibly anonymous); at most two
    queries: the visitor's registration with their place in the queue, and the seat counts."""
    now = now or utcnow()
    registration, position = None, None
    if user is not None and user.is_authenticated:
        row = db.session.execute(
            select(Registration, _waitlist_position_of(Registration)).where(
                Registration.event_id == event.id, Registration.user_id == user.id
            )
        ).first()
        if row is not None:
            registration, position = row
            position = position if registration.is_waitlisted else None
    return Panel(
        event=event,
        visitor=user,
        registration=registration,
        position=position,
        refusal=registration_refusal(event, now=now),
        withdrawal_refusal=withdrawal_refusal(event, now=now),
        shows_places=_promotes(event, now),
    )


# A member's meetings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRegistration:
    """One line of a member's list: the registration, its meeting, and the place in the queue."""

    registration: Registration
    position: int | None

    @property
    def event(self) -> Event:
        return self.registration.event


@dataclass(frozen=True)
class MemberMeetings:
    """A member's registrations, upcoming (soonest first) and past (latest first)."""

    upcoming: list[MemberRegistration] = field(default_factory=list)
    past: list[MemberRegistration] = field(default_factory=list)


def member_meetings(user: User, *, now: datetime | None = None) -> MemberMeetings:
    """Every registration of the member with its meeting and waiting-list place; one query."""
    now = now or utcnow()
    position = case(
        (
            Registration.status == RegistrationStatus.WAITLISTED,
            _waitlist_position_of(Registration),
        ),
        else_=None,
    )
    statement = (
        select(Registration, position)
        .join(Registration.event)
        .where(Registration.user_id == user.id, Event.status != EventStatus.DRAFT)
        .options(
            contains_eager(Registration.event)
            .defer(Event.description, raiseload=True)
            .defer(Event.description_html, raiseload=True)
        )
        .order_by(Event.starts_at, Event.id)
    )
    meetings = MemberMeetings()
    for registration, place in db.session.execute(statement):
        line = MemberRegistration(registration, place)
        (meetings.upcoming if registration.event.ends_at > now else meetings.past).append(line)
    meetings.past.reverse()
    return meetings


# The organisers' roster --------------------------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    """A meeting's registrations grouped by status, each group in queue order."""

    event: Event
    confirmed: list[Registration]
    waitlisted: list[Registration]
    cancelled: list[Registration]

    @property
    def attended(self) -> int:
        """How many members have been checked in."""
        return sum(registration.attended for registration in self.confirmed)


def roster(event: Event) -> Roster:
    """The meeting's registrations with their members; one query."""
    statement = (
        select(Registration)
        .join(Registration.user)
        .where(Registration.event_id == event.id)
        .options(contains_eager(Registration.user))
        .order_by(Registration.queue_number)
    )
    groups: dict[str, list[Registration]] = {status: [] for status in RegistrationStatus}
    for registration in db.session.scalars(statement):
        groups[registration.status].append(registration)
    return Roster(
        event=event,
        confirmed=groups[RegistrationStatus.CONFIRMED],
        waitlisted=groups[RegistrationStatus.WAITLISTED],
        cancelled=groups[RegistrationStatus.CANCELLED],
    )
