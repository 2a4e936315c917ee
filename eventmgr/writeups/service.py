"""Write-up rules: drafting, the pre-filled report of a meeting, publishing, lists and replies."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Any

import nh3
from flask import abort, current_app
from flask_sqlalchemy.pagination import Pagination
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from eventmgr.accounts.models import User
from eventmgr.database import lock_row, utcnow
from eventmgr.discussions import service as discussions_service
from eventmgr.discussions.models import Comment, CommentStatus, Thread
from eventmgr.events import service as events_service
from eventmgr.events.models import Event
from eventmgr.extensions import db
from eventmgr.mail import service as mail_service
from eventmgr.mail import unsubscribe
from eventmgr.registrations.models import Registration, RegistrationStatus
from eventmgr.web import text as text_rules
from eventmgr.web.markdown import render_markdown
from eventmgr.web.times import format_date
from eventmgr.web.urls import external_url
from eventmgr.writeups.models import WriteUp, WriteUpStatus

TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 100_000
SLUG_MAX_LENGTH = 120
#: Addresses under /writeups/ that are pages, not write-ups.
RESERVED_SLUGS = frozenset({"new"})
#: How long an excerpt in lists and descriptions may be.
EXCERPT_LENGTH = 200
#: Entries in the Atom feed.
FEED_LENGTH = 20
#: The outbox kind (and, with underscores, the templates/mail/ name) of the publication email.
PUBLISHED_KIND = "writeup-published"
#: Signs the time a reply form was shown (a bot answers at once; people take a few seconds).
_FORM_SALT = "writeup-reply-form"
TOO_FAST_MESSAGE = "That was quick. Please read over your comment and send it again."
SPAM_MESSAGE = "Your comment could not be accepted. Please reload the page and try again."
DRAFT_MEETING_MESSAGE = (
    "Publish the meeting first: its write-up cannot be published while the meeting is a draft."
)


class WriteUpError(ValueError):
    """A change the write-up rules refuse; the message is safe to show, `field` names the input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        """`field` (e.g. "slug") lets a view show the message beside that form field."""
        super().__init__(message)
        self.field = field


class AlreadyDone(WriteUpError):
    """The change was made already (a double click, another organiser); nothing changed again."""


# Loading -----------------------------------------------------------------------------------------


def can_author(user: Any) -> bool:
    """Organisers and admins write, publish and see drafts."""
    return events_service.can_manage_events(user)


def get_writeup_by_slug(slug: str) -> WriteUp | None:
    """The write-up with this slug, whatever its status, or None."""
    if len(slug) > SLUG_MAX_LENGTH or not events_service.SLUG_PATTERN.fullmatch(slug):
        return None
    return db.session.scalar(
        select(WriteUp).where(WriteUp.slug == slug).options(joinedload(WriteUp.author))
    )


def get_visible_or_404(slug: str, viewer: Any) -> WriteUp:
    """The write-up if `viewer` may read it (drafts: organisers only); aborts with 404 otherwise."""
    writeup = get_writeup_by_slug(slug)
    if writeup is None or (writeup.is_draft and not can_author(viewer)):
        abort(404)
    return writeup


def writeup_for_event(event: Event) -> WriteUp | None:
    """The meeting's write-up, whatever its status, or None; one query."""
    return db.session.scalar(select(WriteUp).where(WriteUp.event_id == event.id))


def meeting_writeup(event: Event, viewer: Any) -> WriteUp | None:
    """The meeting's write-up as `viewer` may see it (drafts for organisers only)."""
    writeup = writeup_for_event(event)
    if writeup is None or (writeup.is_draft and not can_author(viewer)):
        return None
    return writeup


def _published() -> Any:
    """Published write-ups, newest first, with their meeting and author."""
    return (
        select(WriteUp)
        .where(WriteUp.status == WriteUpStatus.PUBLISHED)
        .options(joinedload(WriteUp.author))
        .order_by(WriteUp.published_at.desc(), WriteUp.id.desc())
    )


def published_writeups(*, page: int, per_page: int) -> Pagination:
    """One page of published write-ups, newest first; two queries."""
    return db.paginate(
        _published(), page=page, per_page=per_page, max_per_page=per_page, error_out=False
    )


def latest_writeups(*, limit: int = 3) -> Sequence[WriteUp]:
    """The newest published write-ups; one query."""
    return db.session.scalars(_published().limit(limit)).all()


def feed_writeups(*, limit: int = FEED_LENGTH) -> Sequence[WriteUp]:
    """What the Atom feed lists; one query."""
    return latest_writeups(limit=limit)


def draft_writeups() -> Sequence[WriteUp]:
    """Every draft, most recently changed first (organisers' list)."""
    return db.session.scalars(
        select(WriteUp)
        .where(WriteUp.status == WriteUpStatus.DRAFT)
        .order_by(WriteUp.updated_at.desc(), WriteUp.id.desc())
    ).all()


def excerpt(writeup: WriteUp, *, max_length: int = EXCERPT_LENGTH) -> str:
    """The start of the body as plain text, cut at a word boundary."""
    text = html.unescape(nh3.clean(writeup.body_html or "", tags=set()))
    text = " ".join(text.split())
    if len(text) <= max_length:
        return text
    return text[: max_length - 1].rsplit(" ", 1)[0].rstrip(",;:.–—- ") + "…"


# Writing -----------------------------------------------------------------------------------------


def _checked(title: str | None, slug: str | None, body: str | None) -> tuple[str, str, str]:
    """Trimmed title, slug (from the title when blank) and body; raises WriteUpError (a line
    break or control character in the title included)."""
    title = (title or "").replace("\x00", "").strip()
    problem = text_rules.single_line_problem(title)
    if problem:
        raise WriteUpError(problem, field="title")
    title = " ".join(title.split())
    body = (body or "").replace("\x00", "").rstrip()
    slug = (slug or "").strip().lower() or events_service.slugify(title)[:SLUG_MAX_LENGTH]
    if not title:
        raise WriteUpError("Give the write-up a title.", field="title")
    if len(title) > TITLE_MAX_LENGTH:
        raise WriteUpError(f"Titles can be at most {TITLE_MAX_LENGTH} characters.", field="title")
    if not body.strip():
        raise WriteUpError("Write the report before saving it.", field="body")
    if len(body) > BODY_MAX_LENGTH:
        raise WriteUpError(
            f"Write-ups can be at most {BODY_MAX_LENGTH:,} characters.", field="body"
        )
    if (
        len(slug) > SLUG_MAX_LENGTH
        or not events_service.SLUG_PATTERN.fullmatch(slug)
        or slug in RESERVED_SLUGS
    ):
        raise WriteUpError(
            "Use lower-case letters, digits and single hyphens in the address.", field="slug"
        )
    return title, slug, body


def _check_slug_free(slug: str, writeup: WriteUp | None) -> None:
    """Raise WriteUpError if another write-up has `slug`."""
    taken = db.session.scalar(
        select(
            exists().where(
                WriteUp.slug == slug, WriteUp.id != (writeup.id if writeup is not None else -1)
            )
        )
    )
    if taken:
        raise WriteUpError("Another write-up already uses this address.", field="slug")


def _flush_unique() -> None:
    """Flush; a unique-key race lost to another request becomes a WriteUpError."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise WriteUpError(
            "Another write-up took this address or meeting at the same moment.", field="slug"
        ) from None


def preview(body: str | None) -> str:
    """The HTML a body will be shown as (nothing saved)."""
    return render_markdown(body or "")


def create_writeup(
    *, title: str, slug: str, body: str, author: User | None, event: Event | None = None
) -> WriteUp:
    """Save a new draft (for `event`, or standalone); flushes; raises WriteUpError for bad input."""
    title, slug, body = _checked(title, slug, body)
    _check_slug_free(slug, None)
    if event is not None and writeup_for_event(event) is not None:
        raise WriteUpError("This meeting already has a write-up.")
    writeup = WriteUp(
        event=event,
        slug=slug,
        title=title,
        body=body,
        body_html=render_markdown(body),
        author=author,
        status=WriteUpStatus.DRAFT,
    )
    db.session.add(writeup)
    _flush_unique()
    return writeup


def update_writeup(writeup: WriteUp, *, title: str, slug: str, body: str) -> WriteUp:
    """Change the text (marked "updated" once published); flushes; raises WriteUpError."""
    title, slug, body = _checked(title, slug, body)
    _check_slug_free(slug, writeup)
    changed = (title, slug, body) != (writeup.title, writeup.slug, writeup.body)
    if changed:
        writeup.title, writeup.slug, writeup.body = title, slug, body
        writeup.body_html = render_markdown(body)
        if writeup.published_at is not None:
            writeup.edited_at = utcnow()
        _flush_unique()
    return writeup


def publish_writeup(writeup: WriteUp) -> int:
    """Publish; the first time, email the meeting's attendees; flushes; returns emails queued.

    Raises AlreadyDone if it is published already: the row is locked and re-read first, so however
    many requests race, one publishes and the attendees get one email each.
    """
    if writeup.is_published:
        raise AlreadyDone("This write-up is already published.")
    lock_row(db.session, writeup)
    if writeup.is_published:
        raise AlreadyDone("This write-up is already published.")
    if writeup.event is not None and writeup.event.is_draft:
        # Published, it would show the draft meeting's title and address to everyone.
        raise WriteUpError(DRAFT_MEETING_MESSAGE)
    now = utcnow()
    writeup.status = WriteUpStatus.PUBLISHED
    if writeup.published_at is None:
        writeup.published_at = now
    db.session.flush()
    if writeup.notified_at is not None or writeup.event is None:
        return 0
    writeup.notified_at = now
    queued = 0
    for user in readers_to_notify(writeup.event):
        _queue_published_email(writeup, user)
        queued += 1
    db.session.flush()
    return queued


def unpublish_writeup(writeup: WriteUp) -> None:
    """Make a published write-up a draft again (its replies stay); flushes; AlreadyDone if it is
    a draft already (after the row lock, so racing requests change it once)."""
    if not writeup.is_published:
        raise AlreadyDone("This write-up is already a draft.")
    lock_row(db.session, writeup)
    if not writeup.is_published:
        raise AlreadyDone("This write-up is already a draft.")
    writeup.status = WriteUpStatus.DRAFT
    db.session.flush()


def readers_to_notify(event: Event) -> Sequence[User]:
    """Active attendees (confirmed places; only they can be checked in) who want meeting emails;
    one query."""
    return db.session.scalars(
        select(User)
        .join(Registration, Registration.user_id == User.id)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            User.active.is_(True),
            User.notify_event_updates.is_(True),
        )
        .order_by(User.id)
    ).all()


def _queue_published_email(writeup: WriteUp, user: User) -> None:
    """One "the write-up is out" email in the outbox."""
    mail_service.queue_email(
        kind=PUBLISHED_KIND,
        to=user.email,
        subject=f"Write-up: {writeup.title}",
        template=PUBLISHED_KIND.replace("-", "_"),
        context={
            "user": user,
            "writeup": writeup,
            "meeting_title": writeup.event.title,
            "excerpt": excerpt(writeup, max_length=400),
            "writeup_url": external_url("writeups.detail", slug=writeup.slug),
            "unsubscribe_url": unsubscribe.url_for_user(user),
        },
        headers=unsubscribe.headers_for(user),
    )


# The pre-filled report ---------------------------------------------------------------------------


def _attribution(comment: Comment) -> str:
    """ "— Name, Organisation" under a quoted comment."""
    name = comment.author_name
    if comment.author is not None and comment.author.organisation:
        name += f", {comment.author.organisation}"
    return f"— {name}"


def draft_for(event: Event) -> tuple[str, str]:
    """A title and Markdown body summarising the meeting and its discussions, to edit; two queries."""
    zone = event.timezone
    lines = [
        f"On {format_date(event.starts_at, zone)}"
        + (f" at {event.venue_name}" if event.venue_name else "")
        + f", we met for *{event.title}*.",
        "",
    ]
    if event.speakers:
        lines += ["# Speakers", ""]
        for speaker in event.speakers:
            who = speaker.name + (f" ({speaker.affiliation})" if speaker.affiliation else "")
            lines.append(f"- **{who}**" + (f": {speaker.talk_title}" if speaker.talk_title else ""))
        lines.append("")
    threads = {
        thread.question_id: thread
        for thread in db.session.scalars(
            select(Thread).where(Thread.question_id.in_([q.id for q in event.current_questions]))
        )
    }
    comments = db.session.scalars(
        select(Comment)
        .where(
            Comment.thread_id.in_([thread.id for thread in threads.values()]),
            Comment.parent_id.is_(None),
            Comment.status == CommentStatus.PUBLISHED,
        )
        .options(joinedload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    for question in event.current_questions:
        thread = threads.get(question.id)
        count = thread.comment_count if thread is not None else 0
        lines += [f"# {question.title}", "", f"{count} comment{'' if count == 1 else 's'}.", ""]
        for comment in comments:
            if thread is not None and comment.thread_id == thread.id:
                lines += [f"> {line}".rstrip() for line in comment.body.splitlines()]
                lines += [">", f"> {_attribution(comment)}", ""]
    return f"Write-up: {event.title}", "\n".join(lines).rstrip() + "\n"


# Replies -----------------------------------------------------------------------------------------


def _form_serializer() -> URLSafeSerializer:
    """Signs the time a reply form was shown."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_FORM_SALT)


def form_token(writeup: WriteUp, *, now: float | None = None) -> str:
    """A signed token holding the write-up and the moment its reply form was shown."""
    return _form_serializer().dumps([writeup.id, now if now is not None else time.time()])


def check_form_token(writeup: WriteUp, token: str | None, *, now: float | None = None) -> None:
    """Raise WriteUpError if the token is forged, for another write-up, or the form came back
    sooner than WRITEUP_MIN_FILL_SECONDS."""
    try:
        writeup_id, shown_at = _form_serializer().loads(token or "")
        shown_at = float(shown_at)
    except (BadData, TypeError, ValueError):
        raise WriteUpError(SPAM_MESSAGE) from None
    if writeup_id != writeup.id:
        raise WriteUpError(SPAM_MESSAGE)
    elapsed = (now if now is not None else time.time()) - shown_at
    if elapsed < float(current_app.config["WRITEUP_MIN_FILL_SECONDS"]):
        raise WriteUpError(TOO_FAST_MESSAGE)


def topic(writeup: WriteUp) -> discussions_service.Topic:
    """The discussions topic holding the write-up's replies."""
    return discussions_service.Topic(writeup.event, writeup=writeup)


def add_member_reply(writeup: WriteUp, user: User, body: str, *, parent: Comment | None) -> Comment:
    """A member's reply, published at once; flushes; raises DiscussionError."""
    return discussions_service.add_comment(topic(writeup), user, body, parent=parent)


def _lock_writeup(writeup: WriteUp) -> None:
    """Hold the write-up's reply lock until the transaction ends, then reload its status.

    The lock is the row lock every transition takes (eventmgr.database.lock_row): a second guest
    reply to this write-up waits here, and its flood check then sees the comment the first one
    stored.
    """
    # Reloaded too: an organiser may have unpublished it while this request waited.
    lock_row(db.session, writeup)


def reply_parent_or_404(writeup: WriteUp, comment_id: int) -> Comment:
    """The published comment on `writeup` that a guest may answer; aborts with 404 for any other
    (missing, on another thread, pending, hidden, deleted or spam), so nothing unseen is revealed."""
    comment = discussions_service.get_comment(comment_id)
    if comment is None or not _may_answer(writeup, comment):
        abort(404)
    return comment


def _may_answer(writeup: WriteUp, parent: Comment) -> bool:
    """Whether `parent` is a published comment among `writeup`'s replies."""
    return parent.thread.writeup_id == writeup.id and parent.is_published


def add_guest_reply(
    writeup: WriteUp,
    *,
    name: str,
    email: str,
    body: str,
    ip: str | None,
    honeypot: str,
    token: str | None,
    parent: Comment | None = None,
    now: float | None = None,
    proven: Sequence[int] = (),
) -> Comment:
    """A guest's comment (or reply to the published comment `parent`) after the spam checks
    (honeypot, fill time, flood, links); flushes; raises WriteUpError or DiscussionError with a
    safe message; nothing saved when refused (the caller rolls back, which also ends the lock).
    `proven`: the guest mailboxes this browser confirmed (see discussions_service.proven_guests)."""
    if not writeup.is_published:
        raise discussions_service.NotAllowed(discussions_service.UNPUBLISHED_MESSAGE)
    if honeypot:
        raise WriteUpError(SPAM_MESSAGE)
    check_form_token(writeup, token, now=now)
    # Before the flood check: otherwise two posts from one guest to this write-up at the same
    # moment both pass it (posts to two write-ups take turns in add_guest_comment).
    _lock_writeup(writeup)
    if parent is not None and not _may_answer(writeup, parent):
        raise discussions_service.DiscussionError(discussions_service.PARENT_UNAVAILABLE_MESSAGE)
    return discussions_service.add_guest_comment(
        topic(writeup), name=name, email=email, body=body, ip=ip, parent=parent, proven=proven
    )


def own_pending(writeup: WriteUp, comment_ids: Sequence[int]) -> list[Comment]:
    """Of `comment_ids` (a guest's session), those still pending on this write-up; one query."""
    ids = [number for number in comment_ids if isinstance(number, int)][-20:]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Comment)
            .join(Thread, Comment.thread_id == Thread.id)
            .where(
                Comment.id.in_(ids),
                Thread.writeup_id == writeup.id,
                Comment.status == CommentStatus.PENDING,
            )
            # A pending reply says whom it answers.
            .options(joinedload(Comment.parent).joinedload(Comment.author))
            .order_by(Comment.created_at, Comment.id)
        )
    )
