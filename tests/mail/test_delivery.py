"""The outbox worker: delivery over real SMTP, retries with backoff, giving up, the log backend."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from eventmgr.extensions import db as _db
from eventmgr.mail import service
from eventmgr.mail.models import OutboxMessage
from eventmgr.registrations import notifications
from tests.conftest import is_postgres


@pytest.fixture
def confirmation(db, make_user, make_event, make_registration):
    """A committed registration-confirmed email (text, HTML and an .ics) to Ada."""
    user = make_user(email="ada@example.org", display_name="Ada")
    event = make_event(title="Knowledge cafés", starts_at=datetime(2030, 10, 16, 17, tzinfo=UTC))
    notifications.registration_confirmed(make_registration(event, user))
    db.session.commit()
    return db.session.scalars(select(OutboxMessage)).one()


def queue_plain(db, to: str) -> OutboxMessage:
    """A committed email without attachments."""
    message = service.queue_email(
        kind="test",
        to=to,
        subject="Hello",
        template="registration_cancelled",
        context={"user": {"display_name": "Bo"}, "meeting": _meeting(db)},
    )
    db.session.commit()
    return message


def _meeting(db):
    from eventmgr.calendars.ics import CalendarEntry

    return CalendarEntry(
        event_id=1, slug="2030-01-01-x", title="X", summary="", sequence=0, cancelled=False,
        starts_at=datetime(2030, 1, 1, 18, tzinfo=UTC), ends_at=datetime(2030, 1, 1, 20, tzinfo=UTC),
        timezone="Europe/London", venue_name="Hall", venue_address="", online_url="",
    )  # fmt: skip


def reload(db, message: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id)


# Delivery ----------------------------------------------------------------------------------------


def test_delivers_a_multipart_email_with_the_ics(db, confirmation, smtp_server):
    report = service.deliver_pending()
    assert (report.sent, report.failed, report.gave_up) == (1, 0, 0)

    [envelope] = smtp_server.handler.received
    assert envelope.rcpt_tos == ["ada@example.org"]
    [email] = smtp_server.messages
    assert email["Subject"] == "You are registered: Knowledge cafés"
    assert email["From"] == "Meetings <meetings@events.example.org>"
    assert email["To"] == "ada@example.org"
    assert email["Message-ID"] == confirmation.message_id
    assert email["Date"].datetime.tzinfo is not None
    assert email["Auto-Submitted"] == "auto-generated"
    assert email.get_content_type() == "multipart/mixed"
    alternative, attachment = email.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, html = alternative.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert "Dear Ada," in text.get_content()
    assert html.get_content_type() == "text/html"
    assert "<p>Dear Ada,</p>" in html.get_content()
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename().endswith(".ics")
    assert attachment.get_param("method") == "PUBLISH"
    [vevent] = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Knowledge cafés"

    sent = reload(db, confirmation)
    assert sent.sent_at is not None and sent.attempts == 1 and sent.last_error == ""


def test_an_email_without_attachments_is_multipart_alternative(db, smtp_server):
    queue_plain(db, "bo@example.org")
    service.deliver_pending()
    [email] = smtp_server.messages
    assert email.get_content_type() == "multipart/alternative"


def test_sent_emails_are_not_sent_again(db, confirmation, smtp_server):
    service.deliver_pending()
    assert service.deliver_pending().sent == 0
    assert len(smtp_server.messages) == 1


def test_emails_not_due_yet_wait(db, confirmation, smtp_server):
    confirmation.next_attempt_at = datetime.now(UTC) + timedelta(minutes=5)
    db.session.commit()
    assert service.deliver_pending().sent == 0
    assert service.deliver_pending(now=datetime.now(UTC) + timedelta(minutes=6)).sent == 1


# Outage ------------------------------------------------------------------------------------------


def test_smtp_outage_leaves_emails_pending_until_the_server_is_back(db, confirmation, smtp_port):
    from tests.mail.conftest import SMTPServer

    # Nothing listens on the port: the server is down.
    report = service.deliver_pending()
    assert (report.sent, report.failed) == (0, 1)
    pending = reload(db, confirmation)
    assert pending.sent_at is None
    assert pending.attempts == 1
    assert "ConnectionRefusedError" in pending.last_error
    assert pending.next_attempt_at > datetime.now(UTC)

    server = SMTPServer(smtp_port)
    server.start()
    try:
        # Not due yet: the backoff holds it back even though the server is up.
        assert service.deliver_pending().sent == 0
        report = service.deliver_pending(now=pending.next_attempt_at)
        assert report.sent == 1
        [email] = server.messages
        assert email["Message-ID"] == confirmation.message_id  # the same across retries
    finally:
        server.stop()
    delivered = reload(db, confirmation)
    assert delivered.sent_at is not None and delivered.attempts == 2 and delivered.last_error == ""


def test_backoff_doubles_after_each_failure(db, confirmation, app):
    app.config.update(MAIL_RETRY_BASE_SECONDS=60, MAIL_RETRY_MAX_SECONDS=3600)
    now, delays = datetime.now(UTC), []
    for _ in range(7):
        service.deliver_pending(now=now)
        message = reload(db, confirmation)
        delays.append((message.next_attempt_at - now).total_seconds())
        now = message.next_attempt_at
    assert delays == [60, 120, 240, 480, 960, 1920, 3600]  # capped at MAIL_RETRY_MAX_SECONDS


def test_gives_up_after_max_attempts_and_keeps_the_error(db, confirmation, app, caplog):
    app.config.update(MAIL_MAX_ATTEMPTS=3)
    now = datetime.now(UTC)
    reports = []
    for _ in range(4):
        reports.append(service.deliver_pending(now=now))
        now += timedelta(days=1)
    assert [(r.failed, r.gave_up) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    message = reload(db, confirmation)
    assert message.attempts == 3 and message.sent_at is None
    assert "ConnectionRefusedError" in message.last_error
    assert "Gave up on" in caplog.text

    assert service.requeue_failed() == 1
    db.session.commit()
    assert reload(db, confirmation).attempts == 0


def test_a_refused_recipient_does_not_hold_up_the_others(db, smtp_server):
    smtp_server.handler.refuse.add("gone@example.org")
    refused, fine = queue_plain(db, "gone@example.org"), queue_plain(db, "fine@example.org")
    report = service.deliver_pending()
    assert (report.sent, report.failed) == (1, 1)
    assert [email["To"] for email in smtp_server.messages] == ["fine@example.org"]
    failed = reload(db, refused)
    assert failed.sent_at is None and "550" in failed.last_error
    assert reload(db, fine).sent_at is not None


def test_each_email_is_committed_on_its_own(db, smtp_server, monkeypatch):
    first, second = queue_plain(db, "a@example.org"), queue_plain(db, "b@example.org")
    original = service.SMTPTransport.send

    def send_then_crash(self, email, message):
        if message.to_address == "b@example.org":
            raise KeyboardInterrupt  # the worker is killed mid-run
        return original(self, email, message)

    monkeypatch.setattr(service.SMTPTransport, "send", send_then_crash)
    with pytest.raises(KeyboardInterrupt):
        service.deliver_pending()
    assert reload(db, first).sent_at is not None
    assert reload(db, second).sent_at is None and reload(db, second).attempts == 0


@pytest.mark.skipif(
    not is_postgres(), reason="SKIP LOCKED needs PostgreSQL; SQLite runs one worker"
)
def test_a_second_worker_skips_the_row_another_is_sending(db, smtp_server, cleanup_engine):
    from sqlalchemy import text

    locked = queue_plain(db, "locked@example.org")
    free = queue_plain(db, "free@example.org")
    with cleanup_engine.connect() as other_worker:
        other_worker.execute(
            text("SELECT id FROM outbox_messages WHERE id = :id FOR UPDATE"), {"id": locked.id}
        )
        report = service.deliver_pending()
        other_worker.rollback()
    assert report.sent == 1
    assert [email["To"] for email in smtp_server.messages] == ["free@example.org"]
    assert reload(db, locked).attempts == 0
    assert reload(db, free).sent_at is not None


# Development backend and the command -------------------------------------------------------------


def test_log_backend_prints_the_email_and_marks_it_sent(db, confirmation, app, caplog):
    app.config["MAIL_BACKEND"] = "log"
    with caplog.at_level(logging.INFO, logger="eventmgr.mail"):
        report = service.deliver_pending()
    assert report.sent == 1
    assert "You are registered: Knowledge cafés" in caplog.text
    assert "ada@example.org" in caplog.text
    assert "Dear Ada," in caplog.text
    assert reload(db, confirmation).sent_at is not None


def test_flask_mail_send_delivers_and_reports(app, smtp_server):
    with app.app_context():
        queue_plain(_db, "cli@example.org")
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0" in result.output
    assert [email["To"] for email in smtp_server.messages] == ["cli@example.org"]


def test_flask_mail_send_loop_keeps_delivering_until_stopped(app, smtp_server, monkeypatch):
    import eventmgr.mail.cli as mail_cli

    with app.app_context():
        queue_plain(_db, "loop@example.org")
    sleeps = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        raise KeyboardInterrupt

    monkeypatch.setattr(mail_cli.time, "sleep", sleep)
    result = app.test_cli_runner().invoke(args=["mail", "send", "--loop", "--interval", "2"])
    assert result.exit_code == 0, result.output
    assert "Stopped." in result.output
    assert sleeps == [0.5]
    assert [email["To"] for email in smtp_server.messages] == ["loop@example.org"]


def test_flask_mail_requeue(app, db, confirmation):
    confirmation.attempts = app.config["MAIL_MAX_ATTEMPTS"]
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "requeue"])
    assert "Requeued 1 email." in result.output
