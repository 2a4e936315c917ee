"""Replies to one member come in one email per window, listing every reply, over real SMTP.

tests/discussions/test_limits_served.py fires the replies at once through gunicorn.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from eventmgr.accounts.models import User
from eventmgr.database import utcnow
from eventmgr.discussions import notifications
from eventmgr.discussions import service as discussions
from eventmgr.discussions.models import Comment
from eventmgr.events.models import Event, Question
from eventmgr.extensions import db as _db
from eventmgr.mail import service
from eventmgr.mail.models import OutboxMessage
from tests.mail.conftest import BASE_URL


@pytest.fixture
def question(db, make_event):
    """A key question of a meeting whose discussion every member may join: (event id, question id)."""
    event = make_event(title="Knowledge cafés", discussion_policy="members",
                       questions=[{"title": "What do communities need?"}])  # fmt: skip
    return event.id, db.session.scalar(select(Question.id).where(Question.event_id == event.id))


@pytest.fixture
def ann(db, make_user):
    return make_user(email="ann@example.org", display_name="Ann")


def post(db, question, author, body: str, parent: int | None = None) -> int:
    """A comment through the discussions service, committed."""
    event_id, question_id = question
    topic = discussions.Topic(
        db.session.get(Event, event_id), db.session.get(Question, question_id)
    )
    comment = discussions.add_comment(
        topic,
        db.session.get(User, author.id),
        body,
        parent=db.session.get(Comment, parent) if parent else None,
    )
    db.session.commit()
    return comment.id


def reply_rows(db) -> list[OutboxMessage]:
    db.session.expire_all()
    statement = select(OutboxMessage).where(OutboxMessage.kind == notifications.REPLY_KIND)
    return list(db.session.scalars(statement.order_by(OutboxMessage.id)))


def text_of(email) -> str:
    return email.get_body(preferencelist=("plain",)).get_content()


def test_many_replies_to_one_member_arrive_as_one_email_listing_them_all(
    db, question, ann, make_user, smtp_server
):
    mine = post(db, question, ann, "Communities need time.")
    repliers = [make_user(display_name=f"Replier {number}") for number in range(5)]
    replies = [
        post(db, question, replier, f"Reply number {number}.", parent=mine)
        for number, replier in enumerate(repliers)
    ]
    [row] = reply_rows(db)
    assert row.to_address == "ann@example.org"
    assert row.group_items == replies
    assert service.deliver_pending().sent == 1
    [email] = smtp_server.messages
    assert email["To"] == "ann@example.org"
    assert email["Subject"] == "5 replies to your comments on eventmgr"
    text = text_of(email)
    assert "There are 5 new replies to your comments:" in text
    for number, reply in enumerate(replies):
        assert f'Replier {number} replied in "What do communities need?"' in text
        assert f"> Reply number {number}." in text
        assert f"{BASE_URL}/comments/{reply}" in text
    html = email.get_body(preferencelist=("html",)).get_content()
    assert html.count("<li>") == 5
    assert "List-Unsubscribe" in email


def test_one_reply_is_emailed_at_once_as_before(db, question, ann, make_user, smtp_server):
    mine = post(db, question, ann, "Communities need time.")
    reply = post(db, question, make_user(display_name="Bo"), "So true.", parent=mine)
    assert service.deliver_pending().sent == 1
    [email] = smtp_server.messages
    assert email["Subject"] == "Bo replied to your comment: Knowledge cafés"
    assert 'Bo replied to your comment in "What do communities need?"' in text_of(email)
    assert f"{BASE_URL}/comments/{reply}" in text_of(email)


def test_after_an_email_has_gone_the_next_replies_wait_for_the_window_together(
    app, db, question, ann, make_user, smtp_server
):
    window = timedelta(minutes=app.config["REPLY_EMAIL_WINDOW_MINUTES"])
    assert window == timedelta(minutes=10)
    mine = post(db, question, ann, "Communities need time.")
    post(db, question, make_user(display_name="Bo"), "First.", parent=mine)
    assert service.deliver_pending().sent == 1
    first_queued = reply_rows(db)[0].created_at
    later = [
        post(db, question, make_user(display_name=name), f"{name} here.", parent=mine)
        for name in ("Cy", "Di")
    ]
    sent, waiting = reply_rows(db)
    assert waiting.group_items == later
    assert waiting.next_attempt_at == first_queued + window
    # Nothing more goes out within the window; once it ends, one email with both.
    assert service.deliver_pending(now=first_queued + window - timedelta(seconds=1)).sent == 0
    assert service.deliver_pending(now=first_queued + window).sent == 1
    assert len(smtp_server.messages) == 2
    text = text_of(smtp_server.messages[1])
    assert "Cy replied" in text and "Di replied" in text and "First." not in text


def test_a_reply_after_a_quiet_window_is_emailed_at_once(
    app, db, question, ann, make_user, smtp_server
):
    mine = post(db, question, ann, "Communities need time.")
    post(db, question, make_user(), "First.", parent=mine)
    assert service.deliver_pending().sent == 1
    long_ago = utcnow() - timedelta(minutes=app.config["REPLY_EMAIL_WINDOW_MINUTES"], seconds=1)
    db.session.execute(update(OutboxMessage).values(created_at=long_ago))
    db.session.commit()
    before = utcnow()
    post(db, question, make_user(), "Second.", parent=mine)
    assert before <= reply_rows(db)[1].next_attempt_at <= utcnow()


def test_the_window_is_configurable(make_app, db, question, ann, make_user, smtp_server):
    mine = post(db, question, ann, "Communities need time.")
    post(db, question, make_user(), "First.", parent=mine)
    assert service.deliver_pending().sent == 1
    app = make_app(REPLY_EMAIL_WINDOW_MINUTES=2)
    with app.app_context():
        post(_db, question, make_user(), "Second.", parent=mine)
        first, second = reply_rows(_db)
        assert second.next_attempt_at == first.created_at + timedelta(minutes=2)


def test_replies_to_two_members_come_in_two_emails(db, question, ann, make_user, smtp_server):
    bo = make_user(email="bo@example.org", display_name="Bo")
    anns, bos = post(db, question, ann, "Ann's."), post(db, question, bo, "Bo's.")
    replier = make_user(display_name="Cy")
    post(db, question, replier, "To Ann.", parent=anns)
    post(db, question, replier, "To Bo.", parent=bos)
    post(db, question, replier, "To Ann again.", parent=anns)
    assert service.deliver_pending().sent == 2
    by_recipient = {email["To"]: text_of(email) for email in smtp_server.messages}
    assert "To Ann." in by_recipient["ann@example.org"]
    assert "To Ann again." in by_recipient["ann@example.org"]
    assert "To Bo." in by_recipient["bo@example.org"]
    assert "To Ann" not in by_recipient["bo@example.org"]


def test_a_reply_hidden_before_the_next_one_is_left_out(db, question, ann, make_user):
    mine = post(db, question, ann, "Communities need time.")
    spam = post(db, question, make_user(), "Buy things.", parent=mine)
    db.session.get(Comment, spam).status = "hidden"
    db.session.commit()
    post(db, question, make_user(display_name="Cy"), "A real reply.", parent=mine)
    [row] = reply_rows(db)
    assert "Buy things." not in row.text_body and "A real reply." in row.text_body
