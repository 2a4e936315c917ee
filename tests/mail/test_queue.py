"""queue_email: a row in the caller's transaction, bodies rendered from templates/mail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from eventmgr.mail import service
from eventmgr.mail.models import OutboxMessage


def count_rows(db) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def queue_confirmation(db, make_user, make_event, **event_fields):
    from eventmgr.calendars.ics import CalendarEntry

    user, event = make_user(display_name="Ada <Lovelace>"), make_event(**event_fields)
    return service.queue_email(
        kind="registration-confirmed",
        to=user.email,
        subject=f"You are registered: {event.title}",
        template="registration_confirmed",
        context={"user": user, "meeting": CalendarEntry.from_event(event)},
    )


def test_queue_email_renders_both_bodies_and_flushes(db, make_user, make_event):
    message = queue_confirmation(db, make_user, make_event, title="KM & IM")
    assert message.id is not None  # flushed
    assert message.sent_at is None and message.attempts == 0 and message.last_error == ""
    assert "You are registered for this meeting" in message.text_body
    assert "KM & IM" in message.text_body  # plain text is not escaped
    assert "KM &amp; IM" in message.html_body  # HTML is
    assert "Ada &lt;Lovelace&gt;" in message.html_body
    assert "https://events.example.org/events/" in message.text_body


def test_message_id_is_fixed_when_queued_and_unique(db, make_user, make_event):
    first = queue_confirmation(db, make_user, make_event)
    second = queue_confirmation(db, make_user, make_event)
    assert first.message_id.startswith("<") and first.message_id.endswith("@events.example.org>")
    assert first.message_id != second.message_id


def test_queue_email_never_commits_so_a_rollback_leaves_no_row(db, make_user, make_event):
    queue_confirmation(db, make_user, make_event)
    assert count_rows(db) == 1
    db.session.rollback()
    assert count_rows(db) == 0


def test_missing_template_is_an_error_not_an_empty_email(db):
    from jinja2 import TemplateNotFound

    with pytest.raises(TemplateNotFound):
        service.queue_email(kind="x", to="a@example.org", subject="x", template="no_such_mail")
    assert count_rows(db) == 0
