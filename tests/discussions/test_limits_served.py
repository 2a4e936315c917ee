"""Posting limits and gathered reply emails under parallel requests through gunicorn.

Four worker processes with four threads each (tests/registrations/crowd.py's serving) serve one
database, as in production; a barrier releases the posts together. Run on PostgreSQL with
TEST_DATABASE_URL, where the row and advisory locks are what keep the counts right; on SQLite the
database-wide write lock does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventmgr.accounts.models import User
from eventmgr.discussions import notifications
from eventmgr.discussions import service as discussions
from eventmgr.discussions.models import Comment
from eventmgr.events.models import Event, Question
from eventmgr.extensions import db
from eventmgr.mail.models import OutboxMessage
from tests.registrations.crowd import Server, Visitor, all_at_once, create_members, serving

MEMBER_ALLOWANCE = 3
MODERATOR_ALLOWANCE = 6
#: Parallel posts per scenario.
CROWD = 12


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """gunicorn with the posting limits on, on a fresh database."""
    with serving(
        tmp_path_factory.mktemp("posting-limits"),
        "postinglimits",
        COMMENTS_PER_MINUTE=str(MEMBER_ALLOWANCE),
        COMMENTS_PER_MINUTE_MODERATOR=str(MODERATOR_ALLOWANCE),
    ) as server:
        yield server


def open_questions(server: Server, slug: str, count: int = 1) -> list[str]:
    """A published meeting whose discussions every member may join; its questions' paths."""
    starts_at = datetime.now(UTC) - timedelta(days=7)
    with server.app.app_context():
        event = Event(slug=slug, title=slug.title(), starts_at=starts_at,
                      ends_at=starts_at + timedelta(hours=2), status="published",
                      published_at=starts_at, discussion_policy="members")  # fmt: skip
        for position in range(1, count + 1):
            event.questions.append(Question(position=position, title=f"Question {position}?"))
        db.session.add(event)
        db.session.commit()
        return [f"/events/{event.slug}/questions/{question.id}" for question in event.questions]


def root_comment(server: Server, path: str, author_id: int) -> int:
    """A comment by `author_id` on the question at `path`, stored directly."""
    slug, question_id = re.fullmatch(r"/events/([^/]+)/questions/(\d+)", path).groups()
    with server.app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        topic = discussions.Topic(event, db.session.get(Question, int(question_id)))
        comment = discussions.add_comment(topic, db.session.get(User, author_id), "Time, mostly.")
        db.session.commit()
        return comment.id


def reply_all_at_once(server: Server, path: str, roots: list[int], emails: list[str]) -> list[int]:
    """Each of `emails` logs in on a browser of its own; then all reply at once, the n-th to the
    n-th of `roots` (or all to the one root given)."""
    visitors = []
    for email in emails:
        visitor = Visitor(server)
        visitor.log_in(email)
        visitors.append((visitor, visitor.csrf_token(path)))

    def task(number: int):
        visitor, token = visitors[number]
        root = roots[number % len(roots)]

        def run(barrier: threading.Barrier) -> int:
            barrier.wait(timeout=60)
            form = {"body": f"Reply number {number}.", "csrf_token": token}
            status, _, body = visitor.request("POST", f"/comments/{root}/reply", form)
            if status == 400:
                assert "in the last minute" in body, body
            return status

        return run

    statuses, _ = all_at_once([task(number) for number in range(len(visitors))])
    return statuses


def stored_replies(server: Server, root: int, author_id: int | None = None) -> int:
    with server.app.app_context():
        statement = select(func.count()).select_from(Comment).where(Comment.parent_id == root)
        if author_id is not None:
            statement = statement.where(Comment.author_id == author_id)
        return db.session.scalar(statement)


def reply_emails(server: Server, to: str) -> list[OutboxMessage]:
    with server.app.app_context():
        statement = select(OutboxMessage).where(
            OutboxMessage.kind == notifications.REPLY_KIND, OutboxMessage.to_address == to
        )
        rows = list(db.session.scalars(statement))
        db.session.expunge_all()
        return rows


def test_one_member_posting_many_replies_at_once_gets_the_allowance_only(server):
    [path] = open_questions(server, "one-member-floods")
    (ann_id, ann), (max_id, flooder) = create_members(server, 2, "flood")
    root = root_comment(server, path, ann_id)
    # Twelve browsers (devices) of one member, all pressing "Reply" at the same moment.
    statuses = reply_all_at_once(server, path, [root], [flooder] * CROWD)
    assert sorted(statuses) == [302] * MEMBER_ALLOWANCE + [400] * (CROWD - MEMBER_ALLOWANCE)
    assert stored_replies(server, root, max_id) == MEMBER_ALLOWANCE
    # And the member replied to gets one email listing the replies that went through.
    [email] = reply_emails(server, ann)
    assert len(email.group_items) == MEMBER_ALLOWANCE
    assert email.text_body.count("Read it and reply:") == MEMBER_ALLOWANCE


def test_an_organiser_has_the_higher_allowance(server):
    [path] = open_questions(server, "organiser-posts")
    (ann_id, _), organiser = create_members(server, 2, "organiser")
    with server.app.app_context():
        db.session.get(User, organiser[0]).role = "organiser"
        db.session.commit()
    root = root_comment(server, path, ann_id)
    statuses = reply_all_at_once(server, path, [root], [organiser[1]] * CROWD)
    assert statuses.count(302) == MODERATOR_ALLOWANCE
    assert stored_replies(server, root, organiser[0]) == MODERATOR_ALLOWANCE


def test_many_members_replying_at_once_to_one_member_make_one_email_listing_all(server):
    # Bea's comments are in four threads, so the replies share no thread's or conversation's row
    # lock: only the lock on Bea's reply emails makes them take turns.
    paths = open_questions(server, "many-reply", 4)
    members = create_members(server, CROWD + 1, "replier")
    (bea_id, bea), repliers = members[0], members[1:]
    roots = [root_comment(server, path, bea_id) for path in paths]
    statuses = reply_all_at_once(server, paths[0], roots, [email for _, email in repliers])
    assert statuses == [302] * CROWD
    assert sum(stored_replies(server, root) for root in roots) == CROWD
    [email] = reply_emails(server, bea)
    with server.app.app_context():
        replies = select(Comment.id).where(Comment.parent_id.in_(roots))
        reply_ids = set(db.session.scalars(replies))
    assert set(email.group_items) == reply_ids
    assert email.subject == f"{CROWD} replies to your comments on eventmgr"
    for reply_id in reply_ids:
        assert f"/comments/{reply_id}" in email.text_body
        assert f"/comments/{reply_id}" in email.html_body
