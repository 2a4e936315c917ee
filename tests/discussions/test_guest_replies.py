"""Guests' replies on a write-up's thread, through add_guest_comment(parent=), and their approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eventmgr.accounts.models import User
from eventmgr.discussions import service
from eventmgr.discussions.models import Comment, CommentStatus
from eventmgr.discussions.service import DiscussionError, NotAllowed
from eventmgr.web.markdown import render_markdown
from eventmgr.writeups.models import WriteUp

AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


def published_topic(db, slug: str = "report") -> service.Topic:
    """The topic of a new published write-up."""
    writeup = WriteUp(
        slug=slug,
        title=f"Report {slug}",
        body="Text.",
        body_html=render_markdown("Text."),
        status="published",
        published_at=datetime.now(UTC),
    )
    db.session.add(writeup)
    db.session.flush()
    return service.Topic(None, writeup=writeup)


def guest_reply(topic: service.Topic, parent: Comment | None, **changes) -> Comment:
    """A guest comment on `topic` (under `parent`) from a fresh sender unless told otherwise."""
    fields = {"name": "Gina Guest", "email": "gina@example.org", "body": "Yes.", "ip": "10.0.0.1"}
    return service.add_guest_comment(topic, **{**fields, **changes}, parent=parent)


def emails(outbox) -> list[tuple[str, str]]:
    """(kind, recipient) of every queued email, oldest first."""
    return [(row["kind"], row["to_address"]) for row in outbox()]


@pytest.fixture
def topic(db) -> service.Topic:
    """A published write-up's topic."""
    return published_topic(db)


@pytest.fixture
def root(db, topic, member) -> Comment:
    """A member's top-level comment on the write-up, its conversation last active an hour ago."""
    comment = service.add_comment(topic, db.session.get(User, member.id), "Max's thoughts.")
    comment.activity_at = AN_HOUR_AGO
    comment.thread.last_activity_at = AN_HOUR_AGO
    db.session.flush()
    return comment


def approve_sender(db, topic, organiser, email: str) -> list[int]:
    """Approve an old comment from `email` and confirm the address; returns the guest pass
    (`proven`) with which its next comments are published at once."""
    earlier = service.add_guest_comment(
        topic, name="Old", email=email, body="Hi.", ip=None, now=AN_HOUR_AGO
    )
    service.approve_comment(earlier, db.session.get(User, organiser.id))
    address = service.confirm_guest(service.guest_confirmation_token(service.guest_address(email)))
    return [address.id]


def test_a_guest_reply_takes_its_place_under_the_parent_and_waits(db, topic, root, outbox):
    reply = guest_reply(topic, root)
    assert (reply.parent_id, reply.root_id, reply.depth) == (root.id, root.id, 1)
    assert reply.status == CommentStatus.PENDING
    db.session.refresh(root)
    db.session.refresh(root.thread)
    # Nothing shows, counts or freshens before a moderator approves it; nobody is told yet.
    assert root.activity_at == AN_HOUR_AGO and root.thread.last_activity_at == AN_HOUR_AGO
    assert root.thread.comment_count == 1
    db.session.commit()
    # Only the link that lets the guest confirm their address.
    assert emails(outbox) == [("guest_confirmation", "gina@example.org")]


def test_a_reply_to_a_reply_belongs_to_the_same_conversation(db, topic, root, organiser):
    proven = approve_sender(db, topic, organiser, "gina@example.org")
    first = guest_reply(topic, root, proven=proven)
    second = guest_reply(topic, first, email="hal@example.org", ip="10.0.0.2")
    assert (second.parent_id, second.root_id, second.depth) == (first.id, root.id, 2)


def test_an_approved_guests_reply_is_published_and_freshens_its_conversation(
    db, topic, root, organiser, member, outbox
):
    proven = approve_sender(db, topic, organiser, "gina@example.org")
    reply = guest_reply(topic, root, proven=proven)
    assert reply.is_published
    db.session.refresh(root)
    db.session.refresh(root.thread)
    assert root.activity_at == reply.created_at == root.thread.last_activity_at
    assert root.thread.comment_count == 3
    db.session.commit()
    # The one confirmation link of the approved comment; none for the trusted reply.
    assert emails(outbox) == [
        ("guest_confirmation", "gina@example.org"),
        ("comment-reply", member.email),
    ]


def test_approving_a_guest_reply_freshens_its_conversation_and_tells_the_parents_author(
    db, topic, root, organiser, member, outbox
):
    reply = guest_reply(topic, root)
    before = datetime.now(UTC)
    service.approve_comment(reply, db.session.get(User, organiser.id))
    db.session.refresh(root)
    db.session.refresh(root.thread)
    assert root.activity_at >= before
    assert root.thread.last_activity_at == root.activity_at
    assert root.thread.comment_count == 2
    db.session.commit()
    assert emails(outbox) == [
        ("guest_confirmation", "gina@example.org"),
        ("comment-reply", member.email),
    ]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        # One message whatever the reason, so a comment id reveals nothing (issue 11).
        (CommentStatus.PENDING, "not available for replies"),
        (CommentStatus.HIDDEN, "not available for replies"),
        (CommentStatus.DELETED, "not available for replies"),
        (CommentStatus.SPAM, "not available for replies"),
    ],
)
def test_guests_may_only_answer_published_comments(db, topic, root, status, message):
    root.status = status
    db.session.flush()
    with pytest.raises(DiscussionError, match=message):
        guest_reply(topic, root)
    assert db.session.get(Comment, root.id).thread.comment_count == 1


def test_guests_may_not_answer_a_comment_of_another_thread(db, topic, root):
    other = published_topic(db, "other")
    with pytest.raises(DiscussionError, match="not available for replies"):
        guest_reply(other, root)
    service.get_or_create_thread(other)
    with pytest.raises(DiscussionError, match="not available for replies"):
        guest_reply(other, root)


def test_no_guest_replies_in_a_locked_thread(db, topic, root, organiser):
    service.set_locked(topic, db.session.get(User, organiser.id), locked=True)
    with pytest.raises(NotAllowed, match="locked"):
        guest_reply(topic, root)


def test_guest_replies_keep_the_flood_limit(db, topic, root):
    guest_reply(topic, None)
    with pytest.raises(DiscussionError, match="too quickly"):
        guest_reply(topic, root, ip="10.0.0.9")
