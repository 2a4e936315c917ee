"""The registration rules, called directly: seats, the waiting list, promotions, refusals."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from eventmgr.events import service as events_service
from eventmgr.events.models import Event
from eventmgr.mail.models import OutboxMessage
from eventmgr.registrations import service
from eventmgr.registrations.models import Registration
from tests.conftest import is_postgres
from tests.registrations.conftest import hours_from_now


def details_of(event: Event, **changes) -> events_service.EventDetails:
    """The meeting's current details as the edit form would submit them, with `changes`."""
    details = events_service.EventDetails(
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        timezone=event.timezone,
        summary=event.summary,
        description=event.description,
        venue_name=event.venue_name,
        venue_address=event.venue_address,
        online_url=event.online_url,
        capacity=event.capacity,
        registration_opens_at=event.registration_opens_at,
        registration_closes_at=event.registration_closes_at,
        discussion_policy=event.discussion_policy,
    )
    return replace(details, **changes)


def statuses(db, event: Event) -> list[tuple[int, str, int | None]]:
    """(user id, status, waitlist position) of every registration, in queue order."""
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id)
        .order_by(Registration.queue_number)
    ).all()
    return [(r.user_id, r.status, service.waitlist_position(r)) for r in registrations]


def kinds(db) -> list[tuple[str, str]]:
    """Queued emails as (kind, recipient), oldest first."""
    statement = select(OutboxMessage.kind, OutboxMessage.to_address).order_by(OutboxMessage.id)
    return [tuple(row) for row in db.session.execute(statement)]


def register_all(db, event, users) -> list[Registration]:
    registrations = [service.register_member(event, user) for user in users]
    db.session.commit()
    return registrations


# Seats and the waiting list ----------------------------------------------------------------------


def test_seats_first_then_the_waiting_list_in_order_of_arrival(db, make_event, make_members):
    event = make_event(capacity=2)
    members = make_members(4)
    register_all(db, event, members)
    assert statuses(db, event) == [
        (members[0].id, "confirmed", None),
        (members[1].id, "confirmed", None),
        (members[2].id, "waitlisted", 1),
        (members[3].id, "waitlisted", 2),
    ]


def test_no_capacity_means_a_seat_for_everyone(db, make_event, make_members):
    event = make_event(capacity=None)
    register_all(db, event, make_members(5))
    assert {status for _, status, _ in statuses(db, event)} == {"confirmed"}


def test_capacity_zero_puts_everyone_on_the_waiting_list(db, make_event, make_members):
    event = make_event(capacity=0)
    register_all(db, event, make_members(2))
    assert [(status, position) for _, status, position in statuses(db, event)] == [
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]


def test_registration_queues_the_matching_email(db, make_event, make_members):
    event = make_event(capacity=1)
    first, second = make_members(2)
    register_all(db, event, [first, second])
    assert kinds(db) == [
        ("registration-confirmed", first.email),
        ("registration-waitlisted", second.email),
    ]


def test_registering_does_not_count_as_editing_the_meeting(db, make_event, member):
    event = make_event(capacity=5)
    updated_at = event.updated_at
    register_all(db, event, [member])
    db.session.refresh(event)
    assert event.updated_at == updated_at


# Registering twice -------------------------------------------------------------------------------


def test_registering_twice_changes_nothing_and_says_so(db, make_event, make_members):
    event = make_event(capacity=1)
    seated, waiting = make_members(2)
    register_all(db, event, [seated, waiting])
    before, emails = statuses(db, event), kinds(db)

    with pytest.raises(service.RegistrationError, match="already registered"):
        service.register_member(event, seated)
    db.session.rollback()
    with pytest.raises(
        service.RegistrationError, match="already on the waiting list for this meeting, at number 1"
    ):
        service.register_member(event, waiting)
    db.session.rollback()

    assert statuses(db, event) == before
    assert kinds(db) == emails


# Refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "draft"}, "published"),
        ({"status": "cancelled"}, "cancelled"),
        (
            {"starts_at": hours_from_now(-5), "ends_at": hours_from_now(-3)},
            "already taken place",
        ),
        ({"starts_at": hours_from_now(-1), "ends_at": hours_from_now(1)}, "already started"),
        ({"registration_opens_at": hours_from_now(24)}, "Registration opens on"),
        ({"registration_closes_at": hours_from_now(-1)}, "Registration closed on"),
    ],
    ids=["draft", "cancelled", "past", "started", "not-yet-open", "closed"],
)
def test_registration_is_refused_outside_its_window(db, make_event, member, fields, message):
    event = make_event(capacity=10, **fields)
    with pytest.raises(service.RegistrationError, match=message):
        service.register_member(event, member)
    db.session.rollback()
    assert statuses(db, event) == []
    assert kinds(db) == []


def test_registration_inside_the_window_is_accepted(db, make_event, member):
    event = make_event(
        registration_opens_at=hours_from_now(-1), registration_closes_at=hours_from_now(1)
    )
    assert service.register_member(event, member).is_confirmed


def test_window_messages_use_the_meetings_time_zone(db, make_event):
    event = make_event(
        starts_at=datetime(2030, 7, 10, 17, 0, tzinfo=UTC),
        timezone="Europe/London",
        registration_opens_at=datetime(2030, 7, 1, 8, 0, tzinfo=UTC),
    )
    assert service.registration_refusal(event, now=datetime(2030, 6, 1, tzinfo=UTC)) == (
        "Registration opens on 1 July 2030, 09:00 BST."
    )


# Unregistering and promotion ---------------------------------------------------------------------


def test_unregister_promotes_the_first_waitlisted(db, make_event, make_members):
    event = make_event(capacity=2)
    members = make_members(5)
    register_all(db, event, members)
    service.unregister_member(event, members[0])
    db.session.commit()
    assert statuses(db, event) == [
        (members[0].id, "cancelled", None),
        (members[1].id, "confirmed", None),
        (members[2].id, "confirmed", None),
        (members[3].id, "waitlisted", 1),
        (members[4].id, "waitlisted", 2),
    ]
    assert kinds(db)[-2:] == [
        ("registration-cancelled", members[0].email),
        ("registration-promoted", members[2].email),
    ]


def test_leaving_the_waiting_list_moves_those_behind_up(db, make_event, make_members):
    event = make_event(capacity=1)
    members = make_members(4)
    register_all(db, event, members)
    service.unregister_member(event, members[1])
    db.session.commit()
    assert statuses(db, event) == [
        (members[0].id, "confirmed", None),
        (members[1].id, "cancelled", None),
        (members[2].id, "waitlisted", 1),
        (members[3].id, "waitlisted", 2),
    ]


def test_registering_again_reuses_the_row_and_joins_the_back(db, make_event, make_members):
    event = make_event(capacity=1)
    members = make_members(3)
    register_all(db, event, members)
    first_row = db.session.scalar(select(Registration).where(Registration.user_id == members[0].id))
    row_id, created_at = first_row.id, first_row.created_at

    service.unregister_member(event, members[0])  # members[1] is promoted
    db.session.commit()
    again = service.register_member(event, members[0])
    db.session.commit()

    assert again.id == row_id
    assert again.created_at == created_at
    assert again.registered_at > created_at
    assert statuses(db, event) == [
        (members[1].id, "confirmed", None),
        (members[2].id, "waitlisted", 1),
        (members[0].id, "waitlisted", 2),
    ]
    count = db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.event_id == event.id)
    )
    assert count == 3


def test_a_cancelled_member_gets_a_free_seat_again(db, make_event, make_members):
    event = make_event(capacity=2)
    first, second = make_members(2)
    register_all(db, event, [first, second])
    service.unregister_member(event, first)
    db.session.commit()
    assert service.register_member(event, first).is_confirmed


def test_unregistering_without_a_registration_is_refused(db, make_event, member):
    event = make_event()
    with pytest.raises(service.RegistrationError, match="not registered"):
        service.unregister_member(event, member)


def test_unregistering_twice_is_refused(db, make_event, member):
    event = make_event()
    register_all(db, event, [member])
    service.unregister_member(event, member)
    db.session.commit()
    with pytest.raises(service.RegistrationError, match="already cancelled"):
        service.unregister_member(event, member)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "cancelled"}, "cancelled"),
        ({"starts_at": hours_from_now(-1), "ends_at": hours_from_now(1)}, "already started"),
    ],
    ids=["cancelled", "started"],
)
def test_unregistering_is_refused_once_the_meeting_is_off_or_on(
    db, make_event, member, fields, message
):
    event = make_event(capacity=5)
    register_all(db, event, [member])
    for name, value in fields.items():
        setattr(event, name, value)
    db.session.commit()
    with pytest.raises(service.RegistrationError, match=message):
        service.unregister_member(event, member)
    db.session.rollback()
    assert statuses(db, event) == [(member.id, "confirmed", None)]


# Capacity changes through the events service -----------------------------------------------------


def test_raising_capacity_promotes_in_queue_order(db, make_event, make_members):
    event = make_event(capacity=1)
    members = make_members(4)
    register_all(db, event, members)
    events_service.update_event(event, details_of(event, capacity=3))
    db.session.commit()
    assert event.capacity == 3
    assert statuses(db, event) == [
        (members[0].id, "confirmed", None),
        (members[1].id, "confirmed", None),
        (members[2].id, "confirmed", None),
        (members[3].id, "waitlisted", 1),
    ]
    assert kinds(db)[-2:] == [
        ("registration-promoted", members[1].email),
        ("registration-promoted", members[2].email),
    ]


def test_removing_the_limit_promotes_everyone(db, make_event, make_members):
    event = make_event(capacity=1)
    register_all(db, event, make_members(3))
    events_service.update_event(event, details_of(event, capacity=None))
    db.session.commit()
    assert {status for _, status, _ in statuses(db, event)} == {"confirmed"}


def test_lowering_capacity_below_the_confirmed_count_is_refused(db, make_event, make_members):
    event = make_event(capacity=5)
    register_all(db, event, make_members(3))
    with pytest.raises(events_service.EventError, match="3 members have a place already"):
        events_service.update_event(event, details_of(event, capacity=2, title="Renamed"))
    db.session.rollback()
    db.session.refresh(event)
    assert (event.capacity, event.title) != (2, "Renamed")
    assert event.capacity == 5


def test_lowering_capacity_to_the_confirmed_count_is_allowed(db, make_event, make_members):
    event = make_event(capacity=5)
    register_all(db, event, make_members(3))
    events_service.update_event(event, details_of(event, capacity=3))
    db.session.commit()
    assert event.capacity == 3


def test_other_edits_leave_registrations_alone(db, make_event, make_members):
    event = make_event(capacity=1)
    register_all(db, event, make_members(2))
    before = statuses(db, event)
    events_service.update_event(event, details_of(event, title="New title"))
    db.session.commit()
    assert statuses(db, event) == before


# Organisers: removal and check-in ----------------------------------------------------------------


def test_removing_a_confirmed_registration_promotes(db, make_event, make_members):
    event = make_event(capacity=1)
    members = make_members(2)
    first, _ = register_all(db, event, members)
    promoted = service.remove_registration(first)
    db.session.commit()
    assert [registration.user_id for registration in promoted] == [members[1].id]
    assert statuses(db, event) == [
        (members[0].id, "cancelled", None),
        (members[1].id, "confirmed", None),
    ]


def test_removing_a_cancelled_registration_is_refused(db, make_event, member):
    event = make_event()
    (registration,) = register_all(db, event, [member])
    service.remove_registration(registration)
    db.session.commit()
    with pytest.raises(service.RegistrationError, match="already cancelled"):
        service.remove_registration(registration)


def test_check_in_and_undo(db, make_event, member):
    event = make_event()
    (registration,) = register_all(db, event, [member])
    service.set_attendance(registration, attended=True)
    db.session.commit()
    assert registration.attended
    service.set_attendance(registration, attended=False)
    db.session.commit()
    assert not registration.attended


def test_only_confirmed_members_can_be_checked_in(db, make_event, make_members):
    event = make_event(capacity=0)
    (waiting,) = register_all(db, event, make_members(1))
    with pytest.raises(service.RegistrationError, match="Only members with a place"):
        service.set_attendance(waiting, attended=True)


def test_cancelling_clears_attendance(db, make_event, member):
    event = make_event()
    (registration,) = register_all(db, event, [member])
    service.set_attendance(registration, attended=True)
    service.remove_registration(registration)
    db.session.commit()
    assert (registration.status, registration.attended) == ("cancelled", False)


# The page panel, a member's meetings, the roster -------------------------------------------------


class Anonymous:
    is_authenticated = False


@pytest.mark.parametrize(
    ("capacity", "taken", "action"),
    [(2, 1, "register"), (1, 1, "waitlist"), (None, 3, "register")],
)
def test_panel_offers_the_button_that_fits(db, make_event, make_members, capacity, taken, action):
    event = make_event(capacity=capacity)
    register_all(db, event, make_members(taken))
    (newcomer,) = make_members(1)
    panel = service.panel_for(event, newcomer)
    assert (panel.action, panel.registration, panel.confirmed) == (action, None, taken)
    assert service.panel_for(event, Anonymous()).action == "login"


def test_panel_shows_the_members_own_status(db, make_event, make_members):
    event = make_event(capacity=1)
    seated, first_waiting, second_waiting = make_members(3)
    register_all(db, event, [seated, first_waiting, second_waiting])
    panel = service.panel_for(event, seated)
    assert (panel.action, panel.position, panel.seats_left) == ("withdraw", None, 0)
    panel = service.panel_for(event, second_waiting)
    assert (panel.action, panel.position, panel.waitlisted) == ("leave_waitlist", 2, 2)
    service.unregister_member(event, second_waiting)
    db.session.commit()
    panel = service.panel_for(event, second_waiting)
    assert (panel.action, panel.registration.status) == ("waitlist", "cancelled")


def test_panel_offers_nothing_when_registration_is_closed(db, make_event, member):
    event = make_event(registration_closes_at=hours_from_now(-1))
    panel = service.panel_for(event, member)
    assert panel.action is None
    assert panel.refusal.startswith("Registration closed on")


def test_member_meetings_split_upcoming_and_past(db, make_event, make_members):
    member, other = make_members(2)
    soon = make_event(capacity=1, starts_at=hours_from_now(24))
    later = make_event(starts_at=hours_from_now(48))
    register_all(db, soon, [other, member])
    register_all(db, later, [member])
    past = make_event(starts_at=hours_from_now(-48))
    db.session.add(
        Registration(event=past, user=member, status="confirmed", queue_number=1, attended=True)
    )
    draft = make_event(status="draft")
    db.session.add(Registration(event=draft, user=member, status="confirmed", queue_number=1))
    db.session.commit()

    meetings = service.member_meetings(member)
    assert [
        (line.event.id, line.registration.status, line.position) for line in meetings.upcoming
    ] == [
        (soon.id, "waitlisted", 1),
        (later.id, "confirmed", None),
    ]
    assert [line.event.id for line in meetings.past] == [past.id]


def test_roster_groups_by_status_in_queue_order(db, make_event, make_members):
    event = make_event(capacity=1)
    members = make_members(4)
    register_all(db, event, members)
    service.unregister_member(event, members[2])
    db.session.commit()
    roster = service.roster(event)
    assert [r.user_id for r in roster.confirmed] == [members[0].id]
    assert [r.user_id for r in roster.waitlisted] == [members[1].id, members[3].id]
    assert [r.user_id for r in roster.cancelled] == [members[2].id]


def test_waiting_list_positions_ignore_queue_number_gaps(db, make_event, make_members):
    event = make_event(capacity=0)
    members = make_members(3)
    register_all(db, event, members)
    # A refused attempt draws a queue number too; positions still count from 1 without gaps.
    with pytest.raises(service.RegistrationError):
        service.register_member(event, members[0])
    db.session.commit()
    (newcomer,) = make_members(1)
    register_all(db, event, [newcomer])
    assert [position for _, _, position in statuses(db, event)] == [1, 2, 3, 4]


def test_now_can_be_given_for_the_window(db, make_event, member):
    event = make_event(registration_opens_at=datetime.now(UTC) + timedelta(days=1))
    later = datetime.now(UTC) + timedelta(days=2)
    registration = service.register_member(event, member, now=later)
    assert (registration.status, registration.registered_at) == ("confirmed", later)


# Waiting for the lock ----------------------------------------------------------------------------


@pytest.mark.skipif(is_postgres(), reason="SQLite's database-wide write lock and busy_timeout")
def test_waits_again_when_sqlite_gives_up_on_its_write_lock(db, make_event, member, monkeypatch):
    event = make_event(capacity=1)
    # Give up on a busy database after 50 ms instead of 5 s, so the test need not wait.
    db.session.execute(text("PRAGMA busy_timeout = 50"))
    blocker = sqlite3.connect(db.engine.url.database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds SQLite's write lock
    refusals = []
    is_busy = service._is_sqlite_busy

    def release_after_first_refusal(error):
        refusals.append(error)
        blocker.execute("ROLLBACK")
        return is_busy(error)

    monkeypatch.setattr(service, "_is_sqlite_busy", release_after_first_refusal)
    try:
        registration = service.register_member(event, member)
        db.session.commit()
    finally:
        blocker.close()
    assert len(refusals) == 1
    assert "database is locked" in str(refusals[0])
    assert registration.is_confirmed


def test_get_registration_finds_it_whatever_its_status(db, make_event, member):
    event = make_event()
    assert service.get_registration(event, member) is None
    assert service.get_registration(event, Anonymous()) is None
    register_all(db, event, [member])
    service.unregister_member(event, member)
    db.session.commit()
    assert service.get_registration(event, member).status == "cancelled"


def test_an_unconfirmed_member_cannot_take_a_seat(db, make_event, make_user):
    from eventmgr.accounts.models import User

    event = db.session.get(Event, make_event(capacity=1).id)
    newcomer = db.session.get(User, make_user(email_confirmed=False).id)
    with pytest.raises(service.RegistrationError, match="Confirm your email address"):
        service.register_member(event, newcomer)
    assert statuses(db, event) == [] and kinds(db) == []
    newcomer.email_confirmed_at = datetime.now(UTC)
    assert service.register_member(event, newcomer).is_confirmed
