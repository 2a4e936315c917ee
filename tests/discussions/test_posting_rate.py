"""Members' posting rate: COMMENTS_PER_MINUTE (COMMENTS_PER_MINUTE_MODERATOR for organisers).

Counted in the database under the author's lock; tests/discussions/test_limits_served.py fires the
posts at once through gunicorn.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from eventmgr.accounts.models import User
from eventmgr.config import load_config
from eventmgr.database import utcnow
from eventmgr.discussions import service
from eventmgr.discussions.models import Comment
from eventmgr.extensions import db as _db
from tests.discussions.conftest import topic_for
from tests.discussions.helpers import field_error, textarea


@pytest.fixture(autouse=True)
def limited(app):
    """Three comments a minute for members, five for moderators (tests default to no limit)."""
    app.config.update(COMMENTS_PER_MINUTE=3, COMMENTS_PER_MINUTE_MODERATOR=5)


def test_the_limits_are_on_except_in_testing():
    production = load_config({"APP_ENV": "production", "SECRET_KEY": "x" * 32})
    assert (production["COMMENTS_PER_MINUTE"], production["COMMENTS_PER_MINUTE_MODERATOR"]) == (
        5,
        30,
    )
    testing = load_config({"APP_ENV": "testing"})
    assert (testing["COMMENTS_PER_MINUTE"], testing["COMMENTS_PER_MINUTE_MODERATOR"]) == (0, 0)
    chosen = load_config({"APP_ENV": "testing", "COMMENTS_PER_MINUTE": "2"})
    assert chosen["COMMENTS_PER_MINUTE"] == 2


def test_a_member_past_the_allowance_is_refused_beside_the_body(db, meeting, attendee, post):
    for number in range(3):
        post(meeting, attendee, f"Thought {number}")
    user = _db.session.get(User, attendee.id)
    with pytest.raises(service.DiscussionError) as refused:
        service.add_comment(topic_for(meeting), user, "One too many")
    assert refused.value.field == "body"
    assert "posted 3 comments in the last minute" in str(refused.value)


def test_replies_and_comments_in_any_thread_count_together(
    db, meeting, attendee, member, register, post
):
    register(meeting, member)
    root = post(meeting, member, "Root")
    post(meeting, attendee, "A reply", parent=root)
    post(meeting, attendee, "Elsewhere", question=1)
    post(meeting, attendee, "Follow-up", question=None)
    with pytest.raises(service.DiscussionError):
        post(meeting, attendee, "Fourth", question=1)


def test_the_allowance_comes_back_after_a_minute(db, meeting, attendee, post):
    ids = [post(meeting, attendee, f"Thought {number}") for number in range(3)]
    # The first comment is now just over a minute old: one more may be posted, not two.
    _db.session.execute(
        update(Comment)
        .where(Comment.id == ids[0])
        .values(created_at=utcnow() - timedelta(seconds=61))
    )
    _db.session.commit()
    post(meeting, attendee, "Again")
    with pytest.raises(service.DiscussionError):
        post(meeting, attendee, "And again")


def test_others_are_not_held_up_by_one_member(db, meeting, attendee, member, register, post):
    register(meeting, member)
    for number in range(3):
        post(meeting, attendee, f"Thought {number}")
    post(meeting, member, "My own first")


def test_moderators_have_a_higher_allowance(db, meeting, organiser, post):
    for number in range(5):
        post(meeting, organiser, f"Announcement {number}")
    with pytest.raises(service.DiscussionError):
        post(meeting, organiser, "Sixth")


def test_zero_switches_the_limit_off(app, db, meeting, attendee, post):
    app.config["COMMENTS_PER_MINUTE"] = 0
    for number in range(6):
        post(meeting, attendee, f"Thought {number}")


def test_the_page_shows_the_refusal_beside_the_body_and_keeps_the_text(
    client, meeting, attendee, login_as, post, outbox, snapshot
):
    for number in range(3):
        post(meeting, attendee, f"Thought {number}")
    login_as(attendee)
    before = snapshot()
    response = client.post(meeting.question_url(), data={"body": "My *fourth* thought"})
    assert response.status_code == 400
    assert "You have posted 3 comments in the last minute" in field_error(response, "body")
    assert textarea(response) == "My *fourth* thought"
    assert snapshot() == before


def test_a_refused_reply_queues_no_email(client, meeting, attendee, member, register, login_as,
                                         post, outbox):  # fmt: skip
    register(meeting, member)
    root = post(meeting, member, "Root")
    for number in range(3):
        post(meeting, attendee, f"Reply {number}", parent=root)
    login_as(attendee)
    emails = outbox()
    response = client.post(f"/comments/{root}/reply", data={"body": "Reply 3"})
    assert response.status_code == 400
    assert "in the last minute" in field_error(response, "body")
    assert textarea(response) == "Reply 3"
    assert outbox() == emails
