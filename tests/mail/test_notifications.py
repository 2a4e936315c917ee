"""The five emails members get: who receives them, what they say, and that they share the change's
transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from eventmgr import create_app
from eventmgr.events import service as events_service
from eventmgr.mail.models import OutboxMessage
from eventmgr.registrations import notifications
from eventmgr.registrations import service as registrations_service
from tests.conftest import base_config
from tests.events.helpers import meeting_form

#: 18:00 London (BST) on Wednesday 16 October 2030; the builder makes it 2½ hours long.
STARTS = datetime(2030, 10, 16, 17, 0, tzinfo=UTC)


def rows(db, kind: str | None = None) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        statement = statement.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(statement))


def attached_event(message: OutboxMessage) -> icalendar.Event:
    """The single VEVENT of the message's .ics attachment."""
    [attachment] = message.attachments
    assert attachment["content_type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(attachment["content"])
    [vevent] = calendar.walk("VEVENT")
    return vevent


def details_of(event, **changes) -> events_service.EventDetails:
    """The meeting's current details with `changes`, as the edit form would give them."""
    fields = {
        name: getattr(event, name) for name in events_service.EventDetails.__dataclass_fields__
    }
    fields.update(changes)
    return events_service.EventDetails(**fields)


# Registration emails -------------------------------------------------------------------------------


def test_confirmation_goes_to_the_member_with_the_meetings_ics(
    db, make_user, make_event, make_registration
):
    user, event = make_user(display_name="Ada"), make_event(starts_at=STARTS, title="Taxonomies")
    notifications.registration_confirmed(make_registration(event, user))
    [message] = rows(db)
    assert message.kind == "registration-confirmed"
    assert message.to_address == user.email
    assert message.subject == "You are registered: Taxonomies"
    assert "Dear Ada," in message.text_body
    assert "Wednesday 16 October 2030, 18:00–20:30 BST" in message.text_body
    assert "Conway Hall, 25 Red Lion Square, London WC1R 4RL" in message.text_body
    vevent = attached_event(message)
    assert str(vevent["UID"]) == f"event-{event.id}@events.example.org"
    assert vevent.start == STARTS
    assert message.headers == {}  # transactional: no unsubscribe


def test_waitlisted_email_says_the_place_in_the_queue(db, make_user, make_event, make_registration):
    event = make_event(title="Full house")
    registration = make_registration(event, make_user(), status="waitlisted")
    notifications.registration_waitlisted(registration, position=3)
    [message] = rows(db)
    assert message.kind == "registration-waitlisted"
    assert message.subject == "On the waiting list: Full house"
    assert "waiting list at number 3" in message.text_body
    assert "<strong>number 3</strong>" in message.html_body
    assert message.attachments == []


def test_waitlisted_email_asks_the_registrations_service_for_the_place(
    db, make_user, make_event, make_registration
):
    event = make_event()
    make_registration(event, make_user(), status="waitlisted")
    second = make_registration(event, make_user(), status="waitlisted")
    notifications.registration_waitlisted(second)
    assert "waiting list at number 2" in rows(db)[0].text_body


def test_promotion_email_has_the_ics(db, make_user, make_event, make_registration):
    event = make_event(title="Ontologies")
    notifications.promoted_from_waitlist(make_registration(event, make_user()))
    [message] = rows(db)
    assert message.kind == "registration-promoted"
    assert message.subject == "A place is yours: Ontologies"
    assert "a place came free and it is yours" in message.text_body
    assert str(attached_event(message)["SUMMARY"]) == "Ontologies"


def test_cancellation_confirmation_has_no_attachment(db, make_user, make_event, make_registration):
    event = make_event(title="Search")
    notifications.registration_cancelled(make_registration(event, make_user(), status="cancelled"))
    [message] = rows(db)
    assert message.kind == "registration-cancelled"
    assert message.subject == "Registration cancelled: Search"
    assert "Your registration for this meeting is cancelled" in message.text_body
    assert message.attachments == []


def test_registration_emails_go_even_to_members_who_turned_updates_off(
    db, make_user, make_event, make_registration
):
    user = make_user()
    user.notify_event_updates = False
    db.session.commit()
    notifications.registration_confirmed(make_registration(make_event(), user))
    assert len(rows(db)) == 1


def test_registering_through_the_service_queues_confirmation_then_waitlist(
    db, make_user, make_event
):
    event = make_event(capacity=1, registration_opens_at=None)
    first, second = make_user(), make_user()
    registrations_service.register_member(event, first)
    registrations_service.register_member(event, second)
    assert [(m.kind, m.to_address) for m in rows(db)] == [
        ("registration-confirmed", first.email),
        ("registration-waitlisted", second.email),
    ]
    assert "waiting list at number 1" in rows(db)[1].text_body


def test_unregistering_through_the_service_promotes_and_emails_both(db, make_user, make_event):
    event = make_event(capacity=1)
    first, second = make_user(), make_user()
    registrations_service.register_member(event, first)
    registrations_service.register_member(event, second)
    registrations_service.unregister_member(event, first)
    assert [(m.kind, m.to_address) for m in rows(db)][2:] == [
        ("registration-cancelled", first.email),
        ("registration-promoted", second.email),
    ]


def test_a_rolled_back_registration_leaves_no_email(db, make_user, make_event):
    registrations_service.register_member(make_event(), make_user())
    assert len(rows(db)) == 1
    db.session.rollback()
    assert rows(db) == []


# Meeting changed ---------------------------------------------------------------------------------


@pytest.fixture
def registered(db, make_user, make_event, make_registration):
    """A published meeting with a confirmed, a waitlisted, a cancelled and an opted-out member."""
    event = make_event(starts_at=STARTS, title="Knowledge cafés")
    members = {
        "confirmed": make_user(),
        "waitlisted": make_user(),
        "cancelled": make_user(),
        "opted_out": make_user(),
        "inactive": make_user(),
    }
    make_user()  # registered for nothing
    members["opted_out"].notify_event_updates = False
    members["inactive"].active = False
    db.session.commit()
    for name, user in members.items():
        status = name if name in ("waitlisted", "cancelled") else "confirmed"
        make_registration(event, user, status=status)
    return event, members


def test_time_change_emails_confirmed_and_waitlisted_members_only(db, registered):
    event, members = registered
    new_start = STARTS + timedelta(days=7)
    events_service.update_event(
        event, details_of(event, starts_at=new_start, ends_at=new_start + timedelta(hours=2))
    )
    messages = rows(db, "meeting-changed")
    assert sorted(m.to_address for m in messages) == sorted(
        [members["confirmed"].email, members["waitlisted"].email]
    )
    message = messages[0]
    assert message.subject == "Changed: Knowledge cafés, Wednesday 23 October 2030"
    assert "It is now:" in message.text_body
    assert "Wednesday 23 October 2030, 18:00–20:00 BST" in message.text_body
    assert "When:  Wednesday 16 October 2030, 18:00–20:30 BST" in message.text_body  # before
    vevent = attached_event(message)
    assert vevent.start == new_start
    assert vevent["SEQUENCE"] == 1 == event.sequence


def test_place_change_is_announced_too(db, registered):
    event, members = registered
    events_service.update_event(event, details_of(event, venue_name="The British Library"))
    [first, _second] = rows(db, "meeting-changed")
    assert "Where: The British Library, 25 Red Lion Square" in first.text_body
    assert "The British Library" in str(attached_event(first)["LOCATION"])


def test_changes_that_are_not_time_or_place_send_nothing(db, registered):
    event, _members = registered
    events_service.update_event(event, details_of(event, title="New title", summary="New"))
    assert rows(db) == []


def test_changes_to_a_draft_send_nothing(db, make_user, make_event, make_registration):
    event = make_event(status="draft")
    make_registration(event, make_user())
    events_service.update_event(event, details_of(event, venue_name="Elsewhere"))
    assert rows(db) == []


def test_change_emails_carry_one_click_unsubscribe(db, registered):
    event, _members = registered
    events_service.update_event(event, details_of(event, venue_name="Elsewhere"))
    for message in rows(db):
        assert message.headers["List-Unsubscribe"].startswith(
            "<https://events.example.org/mail/unsubscribe/"
        )
        assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = message.headers["List-Unsubscribe"][1:-1]
        assert link in message.text_body
        assert link in message.html_body


def test_a_rolled_back_change_leaves_no_email(db, registered):
    event, _members = registered
    events_service.update_event(event, details_of(event, venue_name="Elsewhere"))
    assert len(rows(db)) == 2
    db.session.rollback()
    assert rows(db) == []


def test_a_change_another_receiver_refuses_queues_no_email(db, registered, make_user):
    event, _members = registered
    with pytest.raises(events_service.EventError):
        events_service.update_event(event, details_of(event, venue_name="Tiny room", capacity=0))
    assert rows(db) == []


def test_recipients_are_loaded_in_one_query_whatever_their_number(
    db, make_user, make_event, make_registration, count_queries
):
    def statements_for(members: int) -> list[str]:
        event = make_event()
        for _ in range(members):
            make_registration(event, make_user())
        db.session.refresh(event)
        with count_queries() as statements:
            notifications.meeting_cancelled(event)
        return [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    one, five = statements_for(1), statements_for(5)
    assert len(one) == len(five) == 1
    assert len(rows(db, "meeting-cancelled")) == 6


# Meeting cancelled -------------------------------------------------------------------------------


def test_cancelling_emails_members_with_a_cancelled_ics(db, registered):
    event, members = registered
    events_service.cancel_event(event)
    messages = rows(db, "meeting-cancelled")
    assert sorted(m.to_address for m in messages) == sorted(
        [members["confirmed"].email, members["waitlisted"].email]
    )
    assert messages[0].subject == "Cancelled: Knowledge cafés, Wednesday 16 October 2030"
    assert "has been cancelled and will not take place" in messages[0].text_body
    vevent = attached_event(messages[0])
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["SEQUENCE"] == 1
    assert "List-Unsubscribe" in messages[0].headers


def test_receivers_are_connected_once_however_many_apps_are_built(db, registered, database_url):
    for _ in range(3):
        create_app(base_config(database_url))
    event, _members = registered
    events_service.cancel_event(event)
    assert len(rows(db, "meeting-cancelled")) == 2


# Over HTTP ---------------------------------------------------------------------------------------


def test_organisers_edit_of_the_time_emails_members(
    app, client, login_as, make_user, make_event, outbox
):
    from eventmgr.extensions import db as _db
    from eventmgr.registrations.models import Registration

    organiser, member = make_user(role="organiser"), make_user()
    event = make_event(starts_at=datetime(2030, 9, 23, 17, 0, tzinfo=UTC), capacity=60)
    with app.app_context():
        _db.session.add(
            Registration(event_id=event.id, user_id=member.id, status="confirmed", queue_number=1)
        )
        _db.session.commit()
    login_as(organiser)
    form = meeting_form(starts_at="2030-09-30T18:30", ends_at="2030-09-30T21:00")
    response = client.post(f"/events/{event.slug}/edit", data=form)
    assert response.status_code == 302
    [message] = outbox()
    assert message.kind == "meeting-changed" and message.to_address == member.email
    assert "Monday 30 September 2030, 18:30–21:00 BST" in message.text_body
