"""Publishing a meeting's write-up emails its attendees once, through the outbox."""

from __future__ import annotations

from sqlalchemy import update

from eventmgr.accounts.models import User
from eventmgr.extensions import db as _db


def test_publishing_emails_attendees_once_with_the_link(
    client, organiser, login_as, meeting, make_user, register, make_writeup, outbox, in_app
):
    confirmed = make_user(display_name="Confirmed")
    checked_in = make_user(display_name="Checked in")
    waitlisted = make_user(display_name="Waitlisted")
    opted_out = make_user(display_name="Opted out")
    register(meeting, confirmed)
    register(meeting, checked_in, attended=True)
    cancelled = make_user(display_name="Cancelled")
    register(meeting, cancelled, status="cancelled")
    register(meeting, waitlisted, status="waitlisted")
    register(meeting, opted_out)
    in_app(
        lambda: (
            _db.session.execute(
                update(User).where(User.id == opted_out.id).values(notify_event_updates=False)
            ),
            _db.session.commit(),
        )
    )
    draft = make_writeup(slug="report", status="draft", event_id=meeting.id)

    login_as(organiser)
    assert client.post(f"{draft['url']}/publish").status_code == 302
    emails = outbox()
    assert sorted(row["to_address"] for row in emails) == sorted(
        [confirmed.email, checked_in.email]
    )
    message = emails[0]
    assert message["kind"] == "writeup-published"
    assert "http://127.0.0.1:5000/writeups/report" in message["text_body"]
    assert 'href="http://127.0.0.1:5000/writeups/report"' in message["html_body"]
    assert "List-Unsubscribe" in message["headers"]

    client.post(f"{draft['url']}/unpublish")
    client.post(f"{draft['url']}/publish")
    assert len(outbox()) == 2


def test_a_standalone_post_emails_nobody(client, organiser, login_as, make_writeup, outbox):
    draft = make_writeup(slug="news", status="draft")
    login_as(organiser)
    client.post(f"{draft['url']}/publish")
    assert outbox() == []
