"""Emails about discussions: a reply to your comment, through the outbox in the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventmgr.mail import service as mail_service
from eventmgr.mail import unsubscribe
from eventmgr.web.urls import external_url

if TYPE_CHECKING:
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


def reply_posted(reply: Comment) -> None:
    """Queue one email telling the parent comment's author about `reply`, if they want it; flushes."""
    # Never about one's own reply; nothing for guests, inactive accounts or those who opted out.
    parent = reply.parent
    recipient = parent.author if parent is not None else None
    if recipient is None or recipient.id == reply.author_id:
        return
    if not recipient.notify_replies or not recipient.active:
        return
    thread = reply.thread
    meeting = thread.meeting
    if thread.writeup is not None:
        topic_title = thread.writeup.title
    else:
        topic_title = thread.question.title if thread.question else "Follow-up discussion"
    # A draft meeting's title is not public yet (a write-up may outlive its meeting's publication).
    meeting_title = meeting.title if meeting is not None and not meeting.is_draft else topic_title
    mail_service.queue_email(
        kind=REPLY_KIND,
        to=recipient.email,
        subject=f"{reply.author_name} replied to your comment: {meeting_title}",
        template=REPLY_KIND.replace("-", "_"),
        context={
            "user": recipient,
            "reply": reply,
            "reply_author": reply.author_name,
            "reply_text": excerpt(reply.body),
            "topic_title": topic_title,
            "meeting_title": meeting_title,
            "reply_url": external_url("discussions.comment", comment_id=reply.id),
            "settings_url": external_url("accounts.account"),
            "replies_unsubscribe_url": unsubscribe.url_for_user(recipient, "replies"),
        },
        headers=unsubscribe.headers_for(recipient, "replies"),
    )
