"""Emails about discussions: replies to your comments, through the outbox in the same transaction.

Replies to one member are gathered: the first reply in a while is emailed at once (as soon as the
worker runs), and any reply that comes while that email still waits joins it; after it has gone,
the next replies wait together until REPLY_EMAIL_WINDOW_MINUTES after it was queued. So a member
gets at most one reply email per window, and it lists every reply, however many people reply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from eventmgr.database import utcnow
from eventmgr.extensions import db
from eventmgr.mail import service as mail_service
from eventmgr.mail import unsubscribe
from eventmgr.web.urls import external_url

if TYPE_CHECKING:
    from eventmgr.accounts.models import User
    from eventmgr.discussions.models import Comment

#: The outbox kind (and, with underscores, the templates/mail/ name) of a reply email.
REPLY_KIND = "comment-reply"
#: How much of the reply the email quotes before linking to the rest.
EXCERPT_LENGTH = 600


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(maxsplit=1)[0].rstrip() + "…"


def reply_group(recipient: User) -> str:
    """The outbox group of the reply emails to `recipient`."""
    return f"{REPLY_KIND}:{recipient.id}"


def reply_posted(reply: Comment) -> None:
    """Tell the parent comment's author about `reply`, if they want it: in the reply email that
    waits for them, or in a new one; flushes."""
    # Never about one's own reply; nothing for guests, inactive accounts or those who opted out.
    parent = reply.parent
    recipient = parent.author if parent is not None else None
    if recipient is None or recipient.id == reply.author_id:
        return
    if not recipient.notify_replies or not recipient.active:
        return
    _lock_recipient(recipient)
    group = reply_group(recipient)
    waiting = mail_service.open_group_email(group)
    reply_ids = [*(waiting.group_items or []), reply.id] if waiting is not None else [reply.id]
    replies = _replies(reply_ids)
    subject, context = _reply_email(recipient, replies)
    if waiting is not None:
        mail_service.rewrite_email(waiting, subject=subject, template=_template(),
                                   context=context, group_items=reply_ids)  # fmt: skip
        return
    now = utcnow()
    last = mail_service.last_group_email_at(group)
    window = timedelta(minutes=current_app.config["REPLY_EMAIL_WINDOW_MINUTES"])
    mail_service.queue_email(
        kind=REPLY_KIND,
        to=recipient.email,
        subject=subject,
        template=_template(),
        context=context,
        headers=unsubscribe.headers_for(recipient, "replies"),
        group_key=group,
        group_items=reply_ids,
        send_at=max(now, last + window) if last is not None else now,
    )


def _template() -> str:
    return REPLY_KIND.replace("-", "_")


def _lock_recipient(recipient: User) -> None:
    """On PostgreSQL, hold an advisory lock on `recipient`'s reply emails until the transaction
    ends, so two replies at once take turns: the second finds the email the first one queued.

    An advisory lock of its own, not the recipient's row: a reply already holds its author's row
    (the posting rate check), and two members replying to each other must not deadlock. SQLite
    needs nothing: the reply's own writes already hold its database-wide write lock.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"eventmgr.reply-email:{recipient.id}".encode(), digest_size=8)
    db.session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest.digest(), "big",
                                                                        signed=True))))  # fmt: skip


def _replies(reply_ids: Sequence[int]) -> list[Comment]:
    """The replies an email lists, oldest first, with what it says of each (one query); replies
    hidden or deleted since they were gathered are left out."""
    from eventmgr.discussions.models import Comment, CommentStatus, Thread

    statement = (
        select(Comment)
        .where(Comment.id.in_(reply_ids), Comment.status == CommentStatus.PUBLISHED)
        .options(
            joinedload(Comment.author),
            joinedload(Comment.thread).joinedload(Thread.question),
            joinedload(Comment.thread).joinedload(Thread.event),
            joinedload(Comment.thread).joinedload(Thread.writeup),
        )
        .order_by(Comment.created_at, Comment.id)
    )
    return list(db.session.scalars(statement).unique())


def _describe(reply: Comment) -> dict[str, Any]:
    """What the email says of one reply: who, where, an excerpt and its link."""
    thread = reply.thread
    meeting = thread.meeting
    if thread.writeup is not None:
        topic_title = thread.writeup.title
    else:
        topic_title = thread.question.title if thread.question else "Follow-up discussion"
    # A draft meeting's title is not public yet (a write-up may outlive its meeting's publication).
    public_meeting = meeting is not None and not meeting.is_draft
    return {
        "reply_author": reply.author_name,
        "reply_text": excerpt(reply.body),
        "topic_title": topic_title,
        "meeting_title": meeting.title if public_meeting else topic_title,
        "reply_url": external_url("discussions.comment", comment_id=reply.id),
    }


def _reply_email(recipient: User, replies: Sequence[Comment]) -> tuple[str, dict[str, Any]]:
    """The subject and template context of the email listing `replies` to `recipient`."""
    described = [_describe(reply) for reply in replies]
    latest = described[-1]
    if len(described) == 1:
        subject = f"{latest['reply_author']} replied to your comment: {latest['meeting_title']}"
    else:
        subject = f"{len(described)} replies to your comments on {current_app.config['SITE_NAME']}"
    context = {
        **latest,
        "user": recipient,
        "reply": replies[-1],
        "replies": described,
        "settings_url": external_url("accounts.account"),
        "replies_unsubscribe_url": unsubscribe.url_for_user(recipient, "replies"),
    }
    return subject, context
