"""Headers the outbox writes: every subject fits its column on one line, every header value is one
line, so no email is ever unstorable or unbuildable, whatever titles and names hold."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from eventmgr.accounts.models import User
from eventmgr.discussions import service as discussions
from eventmgr.events.models import Event
from eventmgr.extensions import db as _db
from eventmgr.mail import service
from eventmgr.mail.models import OutboxMessage
from eventmgr.writeups import service as writeups

#: The longest a meeting title (200) and a guest's name (100) may be, words all the way.
LONG_TITLE = " ".join(["Knowledge"] * 20)[:200].rstrip()
LONG_NAME = ("Gwendolyn Bartholomew-Featherstonehaugh " * 3)[:100].rstrip()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Plain", "Plain"), ("Two\r\nlines", "Two lines"), ("Bcc:\nx@evil.example", "Bcc: x@evil.example"),
     ("tab\tand\x0bvt\x0cff", "tab and vt ff"), ("nel\x85ls\u2028ps\u2029end", "nel ls ps end"),
     ("  \x00nul  ", "nul"), ("del\x7fc1\x9f", "del c1")],
)  # fmt: skip
def test_header_text_makes_one_line(value, expected):
    assert service.header_text(value) == expected


def test_a_long_subject_is_cut_at_a_word_boundary_with_an_ellipsis():
    subject = service.fit_subject(f"{LONG_NAME} replied to your comment: {LONG_TITLE}")
    assert len(subject) <= service.SUBJECT_MAX_LENGTH == 300
    assert subject.endswith("Knowledge…")
    assert service.fit_subject("x" * 400) == "x" * 299 + "…"
    assert service.fit_subject("Short one") == "Short one"


def test_a_multi_line_header_is_queued_as_one_line_and_builds(db, make_user):
    user = make_user()
    message = service.queue_email(
        kind="test",
        to=user.email,
        subject="Line one\r\nBcc: victim@example.org\nline three",
        template="password_reset",
        context={"user": user, "reset_url": "https://x.example/r"},
        headers={"List-Id": "Ours\r\nBcc: victim@example.org"},
    )
    assert message.subject == "Line one Bcc: victim@example.org line three"
    email = message_from_bytes(
        service.build_message(message, sender="site@example.org").as_bytes(), policy=policy.default
    )
    assert email["Subject"] == "Line one Bcc: victim@example.org line three"
    assert email["List-Id"] == "Ours Bcc: victim@example.org"
    assert email["Bcc"] is None


def test_a_stored_row_with_line_breaks_still_builds(db, make_user):
    # A row written before the outbox cleaned its headers: the builder makes it one line too.
    user = make_user()
    message = service.queue_email(kind="test", to=user.email, subject="x", template="password_reset",
                                  context={"user": user, "reset_url": "https://x.example/r"})  # fmt: skip
    message.subject = "Old\nrow"
    message.headers = {"X-Old": "a\r\nb"}
    email = service.build_message(message, sender="site@example.org")
    assert email["Subject"] == "Old row" and email["X-Old"] == "a b"


def test_approving_a_guest_reply_under_a_long_title_sends_the_reply_email(
    app, client, login_as, make_user, make_event, outbox
):
    # The subject is "<guest name> replied to your comment: <meeting title>": 100 + 200 characters
    # and more, past the column's 300 (PostgreSQL refused the row, so the approval was a 500).
    member = make_user(display_name="Max Member")
    organiser = make_user(role="organiser")
    meeting = make_event(title=LONG_TITLE)
    with app.app_context():
        event = _db.session.scalar(select(Event).where(Event.id == meeting.id))
        writeup = writeups.create_writeup(title="Report", slug="report", body="Notes.",
                                          author=None, event=event)  # fmt: skip
        writeups.publish_writeup(writeup)
        topic = writeups.topic(writeup)
        root = discussions.add_comment(topic, _db.session.get(User, member.id), "Max's thoughts.")
        reply = discussions.add_guest_comment(topic, name=LONG_NAME, email="gwen@example.org",
                                              body="I agree.", ip=None, parent=root)  # fmt: skip
        _db.session.commit()
        reply_id = reply.id
    sent_before = len(outbox())
    login_as(organiser)
    response = client.post(f"/comments/{reply_id}/approve", data={"reason": ""})
    assert response.status_code == 302
    rows = outbox()[sent_before:]
    replies = [row for row in rows if row.to_address == member.email]
    assert len(replies) == 1
    subject = replies[0].subject
    assert len(subject) <= 300 and subject.startswith(LONG_NAME) and subject.endswith("…")
    with app.app_context():
        stored = _db.session.get(OutboxMessage, replies[0].id)
        assert service.build_message(stored, sender="site@example.org")["Subject"] == subject
