"""Discussion rules: who may post, threads created on first use, comments, reports and moderation."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import abort, current_app
from flask_sqlalchemy.pagination import Pagination
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from eventmgr.accounts.models import User
from eventmgr.database import lock_row, utcnow
from eventmgr.discussions import notifications
from eventmgr.discussions.models import (
    Comment,
    CommentStatus,
    GuestAddress,
    ModerationAction,
    ModerationKind,
    Report,
    Thread,
)
from eventmgr.discussions.tree import CommentNode, build_forest, shown_ids
from eventmgr.events import service as events_service
from eventmgr.events.models import DiscussionPolicy, Event, EventStatus, Question
from eventmgr.extensions import db
from eventmgr.mail import service as mail_service
from eventmgr.registrations import service as registrations_service
from eventmgr.web import addresses
from eventmgr.web import text as text_rules
from eventmgr.web.markdown import count_links as count_html_links
from eventmgr.web.markdown import render_markdown
from eventmgr.web.urls import external_url

#: Longest comment body, in characters.
BODY_MAX_LENGTH = 10_000
#: Longest reason for a report or a moderation action.
REASON_MAX_LENGTH = 1_000
#: Top-level comments per page; each comes with all its replies.
COMMENTS_PER_PAGE = 20
#: Log entries per page on the moderation page.
ACTIONS_PER_PAGE = 50
#: How the top-level comments of a thread can be ordered; the first is the default.
SORTS = ("oldest", "active")
#: Title of a meeting's general thread.
FOLLOW_UP_TITLE = "Follow-up discussion"

LOG_IN_MESSAGE = "Log in to join the discussion."
ATTENDEES_ONLY_MESSAGE = "Only registered attendees can join this discussion."
CLOSED_MESSAGE = "This discussion is closed."
LOCKED_MESSAGE = "This discussion has been locked by a moderator."
UNPUBLISHED_MESSAGE = "This write-up is not published, so it cannot take replies."
CONFIRM_EMAIL_MESSAGE = "Confirm your email address to join the discussion."
RETIRED_MESSAGE = "This question was retired; the discussion is read-only."
#: One answer for a reply to any comment that may not be answered here (missing, in another
#: discussion, awaiting moderation, hidden, deleted, spam), so a comment id reveals nothing.
PARENT_UNAVAILABLE_MESSAGE = "The comment you are replying to is not available for replies."


class DiscussionError(ValueError):
    """A change the discussion rules refuse; the message is safe to show, `field` names the input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        """`field` (e.g. "body") lets a view show the message beside that form field."""
        super().__init__(message)
        self.field = field


class NotAllowed(DiscussionError):
    """The person may not do this here (a view answers 403)."""


class AlreadyDone(DiscussionError):
    """The change was made already, by this person's other click or someone else's request; nothing
    was changed again (a view says so and carries on as if it had succeeded)."""


class RepeatedComment(AlreadyDone):
    """The author posted this very comment a moment ago (a double click); `comment` is that one."""

    def __init__(self, comment: Comment) -> None:
        super().__init__(REPEATED_MESSAGE)
        self.comment = comment


@dataclass(frozen=True)
class Topic:
    """What a thread is about: a meeting's key question, the meeting as a whole, or a write-up."""

    event: Event | None
    question: Question | None = None
    #: A write-up (eventmgr.writeups.models.WriteUp) whose replies the thread holds.
    writeup: Any = None

    @property
    def title(self) -> str:
        """The key question, the write-up's title, or "Follow-up discussion"."""
        if self.writeup is not None:
            return self.writeup.title
        return self.question.title if self.question is not None else FOLLOW_UP_TITLE

    @property
    def zone(self) -> str:
        """The time zone the thread's dates are shown in."""
        return self.event.timezone if self.event is not None else self.writeup.timezone


@dataclass(frozen=True)
class ThreadSummary:
    """One thread in a list: what it is about, how many comments, and when it was last active."""

    event_slug: str
    event_title: str
    timezone: str
    question_id: int | None
    title: str
    comment_count: int
    last_activity_at: datetime | None
    locked: bool = False


@dataclass
class ThreadPage:
    """One page of a thread: its top-level comments with their replies, ready to render."""

    pagination: Pagination | None
    nodes: list[CommentNode]
    sort: str

    @property
    def pages(self) -> int:
        """How many pages the thread has (0 before its first comment)."""
        return self.pagination.pages if self.pagination is not None else 0


# Who may do what ---------------------------------------------------------------------------------


def is_signed_in(user: Any) -> bool:
    """Whether `user` is a logged-in member (not anonymous, not None)."""
    return bool(user is not None and user.is_authenticated)


def can_moderate(user: Any) -> bool:
    """Organisers and admins hide and restore comments, lock threads and read reports."""
    return is_signed_in(user) and user.is_organiser


def is_attendee(event: Event, user: User) -> bool:
    """Whether `user` has a confirmed place at `event` (checked in or not: only confirmed
    registrations can be); one query."""
    registration = registrations_service.get_registration(event, user)
    return registration is not None and registration.is_confirmed


def may_take_part(event: Event, user: User) -> bool:
    """Whether the meeting's policy lets `user` post (ignoring closed discussions and locks)."""
    if event.discussion_policy == DiscussionPolicy.MEMBERS or user.is_organiser:
        return True
    if any(speaker.user_id == user.id for speaker in event.speakers):
        return True
    return is_attendee(event, user)


def posting_refusal(topic: Topic, thread: Thread | None, user: Any) -> str | None:
    """Why `user` may not post in this thread, or None if they may."""
    if topic.writeup is not None:
        # Write-ups take replies from every member (and, through add_guest_comment, guests).
        if not topic.writeup.is_published:
            return UNPUBLISHED_MESSAGE
        if thread is not None and thread.locked:
            return LOCKED_MESSAGE
        if not is_signed_in(user):
            return LOG_IN_MESSAGE
        return None if user.email_confirmed else CONFIRM_EMAIL_MESSAGE
    if topic.event.discussion_policy == DiscussionPolicy.CLOSED:
        return CLOSED_MESSAGE
    if topic.question is not None and topic.question.is_retired:
        return RETIRED_MESSAGE
    if thread is not None and thread.locked:
        return LOCKED_MESSAGE
    if not is_signed_in(user):
        return LOG_IN_MESSAGE
    if not user.email_confirmed:
        return CONFIRM_EMAIL_MESSAGE
    if not may_take_part(topic.event, user):
        return ATTENDEES_ONLY_MESSAGE
    return None


def shown_statuses(viewer: Any) -> frozenset[str]:
    """Statuses `viewer` sees in a thread (hidden ones as placeholders); moderators see pending too."""
    statuses = {CommentStatus.PUBLISHED, CommentStatus.HIDDEN}
    if can_moderate(viewer):
        statuses.add(CommentStatus.PENDING)
    return frozenset(statuses)


# Loading -----------------------------------------------------------------------------------------


def get_topic_or_404(slug: str, viewer: Any, *, question_id: int | None = None) -> Topic:
    """The meeting (drafts: organisers only) and the key question, if any; aborts with 404."""
    event = events_service.get_visible_event_or_404(slug, viewer)
    if question_id is None:
        return Topic(event)
    return Topic(event, events_service.get_question_or_404(event, question_id))


def topic_of(thread: Thread) -> Topic:
    """The topic a loaded thread is about."""
    if thread.writeup is not None:
        return Topic(thread.writeup.event, writeup=thread.writeup)
    return Topic(thread.meeting, thread.question)


def find_thread(topic: Topic) -> Thread | None:
    """The topic's thread, or None while nobody has posted in it."""
    if topic.writeup is not None:
        condition = Thread.writeup_id == topic.writeup.id
    elif topic.question is not None:
        condition = Thread.question_id == topic.question.id
    else:
        condition = Thread.event_id == topic.event.id
    return db.session.scalar(select(Thread).where(condition))


def get_or_create_thread(topic: Topic) -> Thread:
    """The topic's thread, created if missing; flushes.

    The first posts (or a lock) of a thread can arrive together: the owner's row is locked before
    looking again, so one request creates the thread and the others find it.
    """
    thread = find_thread(topic)
    if thread is not None:
        return thread
    lock_row(db.session, topic.writeup or topic.question or topic.event)
    thread = find_thread(topic)
    if thread is not None:
        return thread
    if topic.writeup is not None:
        thread = Thread(writeup=topic.writeup)
    elif topic.question is not None:
        thread = Thread(question=topic.question)
    else:
        thread = Thread(event=topic.event)
    db.session.add(thread)
    try:
        db.session.flush()
    except IntegrityError:
        # Only if a thread appeared without taking the owner's lock: the transaction cannot go on
        # after a failed flush, so it is rolled back and the person asked to send again.
        db.session.rollback()
        raise DiscussionError(
            "Someone started this discussion at the same moment. Please send your comment again.",
            field="body",
        ) from None
    return thread


def _comment_with_context() -> Any:
    """A statement for comments with their author, thread, question and meeting (one query)."""
    return select(Comment).options(
        joinedload(Comment.author),
        joinedload(Comment.thread).joinedload(Thread.question).joinedload(Question.event),
        joinedload(Comment.thread).joinedload(Thread.event),
        joinedload(Comment.thread).joinedload(Thread.writeup),
    )


def get_comment(comment_id: int) -> Comment | None:
    """The comment with its thread, question, meeting and author loaded, or None."""
    return db.session.scalar(_comment_with_context().where(Comment.id == comment_id))


def get_comment_or_404(comment_id: int, viewer: Any) -> Comment:
    """The comment unless its meeting is a draft (organisers aside) or it awaits moderation; else 404."""
    comment = get_comment(comment_id)
    if comment is None:
        abort(404)
    meeting, writeup = comment.thread.meeting, comment.thread.writeup
    hidden_owner = (meeting is not None and meeting.is_draft) or (
        writeup is not None and not writeup.is_published
    )
    if hidden_owner and not events_service.can_manage_events(viewer):
        abort(404)
    if comment.status == CommentStatus.SPAM and not can_moderate(viewer):
        abort(404)
    if comment.is_pending and not (can_moderate(viewer) or is_author(comment, viewer)):
        abort(404)
    return comment


def is_author(comment: Comment, user: Any) -> bool:
    """Whether `user` wrote `comment`."""
    return is_signed_in(user) and comment.author_id is not None and comment.author_id == user.id


def lock_comment(comment: Comment) -> None:
    """Lock the comment's thread until the transaction ends, then reload the comment: a change to a
    comment re-checks its rules on what it reloads, so it happens once however many requests race.

    Every change to a thread's comments takes the thread's lock first, so two changes in one thread
    take turns and never wait for each other's locks in opposite orders (no deadlock). The thread's
    counter is then changed in SQL, relative to the committed value.
    """
    lock_row(db.session, comment.thread)
    db.session.refresh(comment)


# Pages of a thread -------------------------------------------------------------------------------


def _shown_roots(thread: Thread, statuses: frozenset[str]) -> Any:
    """Top-level comments of `thread` that are shown, or deleted with something shown beneath."""
    below = aliased(Comment)
    return select(Comment).where(
        Comment.thread_id == thread.id,
        Comment.parent_id.is_(None),
        or_(
            Comment.status.in_(statuses),
            exists().where(below.root_id == Comment.id, below.status.in_(statuses)),
        ),
    )


def _ordered(statement: Any, sort: str) -> Any:
    """Top-level comments oldest first, or ("active") those with the latest replies first."""
    if sort == "active":
        return statement.order_by(Comment.activity_at.desc(), Comment.id.desc())
    return statement.order_by(Comment.created_at, Comment.id)


def _load_subtrees(roots: Sequence[Comment], statuses: frozenset[str]) -> list[Comment]:
    """Every comment beneath `roots` that could be displayed, authors included; one query."""
    if not roots:
        return []
    root_ids = [root.id for root in roots]
    statement = (
        select(Comment)
        .where(
            Comment.root_id.in_(root_ids),
            # Deleted comments come too: they stay as placeholders when replies sit beneath them.
            Comment.status.in_({*statuses, CommentStatus.DELETED}),
        )
        .options(joinedload(Comment.author))
    )
    return list(db.session.scalars(statement))


def thread_page(
    thread: Thread | None, *, viewer: Any, page: int = 1, sort: str = "oldest"
) -> ThreadPage:
    """A page of top-level comments and all their replies; three queries, whatever the size."""
    sort = sort if sort in SORTS else SORTS[0]
    if thread is None:
        return ThreadPage(pagination=None, nodes=[], sort=sort)
    statuses = shown_statuses(viewer)
    statement = _ordered(_shown_roots(thread, statuses), sort).options(joinedload(Comment.author))
    pagination = db.paginate(
        statement,
        page=page,
        per_page=COMMENTS_PER_PAGE,
        max_per_page=COMMENTS_PER_PAGE,
        error_out=False,
    )
    roots = list(pagination.items)
    nodes = build_forest(roots, _load_subtrees(roots, statuses), statuses)
    return ThreadPage(pagination=pagination, nodes=nodes, sort=sort)


def is_displayed(comment: Comment, viewer: Any) -> bool:
    """Whether `comment` appears in its thread for `viewer` (a lone deleted comment does not)."""
    statuses = shown_statuses(viewer)
    if comment.status in statuses:
        return True
    if comment.is_pending and is_author(comment, viewer):
        return True
    root_id = comment.root_id or comment.id
    below = db.session.scalars(
        select(Comment).where(Comment.root_id == root_id, Comment.depth > comment.depth)
    ).all()
    # The thread page's rule: a comment with a shown reply anywhere beneath keeps a placeholder.
    return comment.id in shown_ids(below, statuses)


def page_of(comment: Comment, viewer: Any) -> int:
    """The page (oldest first, the default order) on which `comment`'s conversation appears."""
    root = comment if comment.root_id is None else db.session.get(Comment, comment.root_id)
    earlier = _shown_roots(comment.thread, shown_statuses(viewer)).where(
        or_(
            Comment.created_at < root.created_at,
            and_(Comment.created_at == root.created_at, Comment.id < root.id),
        )
    )
    before = db.session.scalar(select(func.count()).select_from(earlier.subquery()))
    return before // COMMENTS_PER_PAGE + 1


# Writing -----------------------------------------------------------------------------------------


def checked_body(body: str | None) -> str:
    """The body as it will be stored; raises DiscussionError (field "body") if empty or too long."""
    cleaned = (body or "").replace("\x00", "").rstrip()
    if not cleaned.strip():
        raise DiscussionError("Write something before posting.", field="body")
    if len(cleaned) > BODY_MAX_LENGTH:
        raise DiscussionError(
            f"Comments can be at most {BODY_MAX_LENGTH:,} characters; this one has "
            f"{len(cleaned):,}.",
            field="body",
        )
    return cleaned


def _checked_reason(reason: str | None, *, required: str | None = None) -> str:
    """A trimmed reason; raises DiscussionError (field "reason") if missing when required, or long."""
    cleaned = (reason or "").replace("\x00", "").strip()
    if required and not cleaned:
        raise DiscussionError(required, field="reason")
    if len(cleaned) > REASON_MAX_LENGTH:
        raise DiscussionError(
            f"Keep the reason to {REASON_MAX_LENGTH:,} characters or fewer.", field="reason"
        )
    return cleaned


def _check_parent(thread: Thread | None, parent: Comment) -> None:
    """Raise DiscussionError (PARENT_UNAVAILABLE_MESSAGE, whatever the reason) unless `parent` is
    a published comment of `thread`."""
    if thread is None or parent.thread_id != thread.id or not parent.is_published:
        raise DiscussionError(PARENT_UNAVAILABLE_MESSAGE)


def check_can_reply(topic: Topic, thread: Thread | None, parent: Comment, user: Any) -> None:
    """Raise NotAllowed unless `user` may post here, DiscussionError unless `parent` may be answered."""
    refusal = posting_refusal(topic, thread, user)
    if refusal:
        raise NotAllowed(refusal)
    _check_parent(thread, parent)


def check_can_edit(comment: Comment, user: Any) -> None:
    """Raise NotAllowed unless `user` wrote it and may still post in its thread (the posting
    rules: closed, locked, retired, unpublished, attendees only); DiscussionError if not shown."""
    # Nobody else edits a member's words: organisers hide comments, they never edit them.
    if not is_author(comment, user):
        raise NotAllowed("Only the author of a comment can edit it.")
    if comment.is_deleted:
        raise DiscussionError("This comment has been deleted.")
    if comment.is_hidden:
        raise DiscussionError("A moderator has hidden this comment, so it cannot be edited.")
    # Editing is writing: whoever lost the right to post (unregistered from an attendees-only
    # meeting, say) cannot turn their comment into something else. Deleting stays allowed.
    refusal = posting_refusal(topic_of(comment.thread), comment.thread, user)
    if refusal:
        raise NotAllowed(refusal)


def check_can_delete(comment: Comment, user: Any) -> None:
    """Raise NotAllowed unless `user` wrote `comment`, DiscussionError if it is already deleted."""
    # Closed and locked discussions do not stop it: people may always withdraw their words.
    if not is_author(comment, user):
        raise NotAllowed("Only the author of a comment can delete it.")
    if comment.is_deleted:
        raise AlreadyDone("This comment has already been deleted.")


def check_can_report(comment: Comment, user: Any) -> None:
    """Raise DiscussionError for one's own comments and comments that are not shown."""
    if is_author(comment, user):
        raise DiscussionError("You cannot report your own comment.")
    if not comment.is_published:
        raise DiscussionError("Only published comments can be reported.")


def check_can_hide(comment: Comment, user: Any) -> None:
    """Raise NotAllowed for non-moderators, DiscussionError unless the comment is published."""
    _check_moderator(user)
    if comment.is_hidden:
        raise AlreadyDone("This comment was already hidden.")
    if not comment.is_published:
        raise DiscussionError("Only published comments can be hidden.")


def check_can_restore(comment: Comment, user: Any) -> None:
    """Raise NotAllowed for non-moderators, DiscussionError unless the comment is hidden."""
    _check_moderator(user)
    if comment.is_published:
        raise AlreadyDone("This comment was already restored.")
    if not comment.is_hidden:
        raise DiscussionError("Only hidden comments can be restored.")


def add_comment(topic: Topic, author: User, body: str, *, parent: Comment | None = None) -> Comment:
    """Post `body` (replying to `parent`), creating the thread if need be; flushes; queues the reply
    email; raises NotAllowed if the author may not post here, DiscussionError for bad input."""
    thread = find_thread(topic)
    if parent is not None:
        check_can_reply(topic, thread, parent, author)
    else:
        refusal = posting_refusal(topic, thread, author)
        if refusal:
            raise NotAllowed(refusal)
    text = checked_body(body)
    check_posting_rate(author)
    thread = get_or_create_thread(topic)
    now = utcnow()
    check_not_repeated(author, thread, parent, text, now=now)
    comment = Comment(
        thread=thread,
        author=author,
        body=text,
        body_html=render_markdown(text),
        status=CommentStatus.PUBLISHED,
        created_at=now,
        activity_at=now,
    )
    _store(comment, parent=parent, now=now)
    return comment


# Members' posting rate ---------------------------------------------------------------------------

#: The window COMMENTS_PER_MINUTE (and COMMENTS_PER_MINUTE_MODERATOR) counts comments in.
POSTING_RATE_WINDOW = timedelta(minutes=1)
POSTING_RATE_MESSAGE = (
    "You have posted {count} comments in the last minute, the most allowed. "
    "Please wait a minute, then send this one again (your text is kept below)."
)


def posting_allowance(author: User) -> int:
    """How many comments `author` may post per POSTING_RATE_WINDOW; 0 means no limit."""
    setting = "COMMENTS_PER_MINUTE_MODERATOR" if can_moderate(author) else "COMMENTS_PER_MINUTE"
    return current_app.config.get(setting, 0)


def check_posting_rate(author: User, *, now: datetime | None = None) -> None:
    """Hold the author's lock until the transaction ends, then raise DiscussionError (field
    "body") if `author` has already posted their allowance of comments in the last minute.

    Counted in the database, so the limit holds across workers. The lock, a write to the author's
    row, makes two posts by one author take turns at the count: PostgreSQL locks just that row
    (a column outside every key, so rows pointing at the user are not held up); SQLite's single
    write lock, taken by this first write of the transaction, is database-wide. The second post
    then counts the first, which PostgreSQL's READ COMMITTED shows it once committed.
    """
    db.session.execute(
        update(User)
        .where(User.id == author.id)
        .values(notify_replies=User.notify_replies)
        .execution_options(synchronize_session=False)
    )
    allowance = posting_allowance(author)
    if not allowance:
        return
    since = (now or utcnow()) - POSTING_RATE_WINDOW
    recent = db.session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.author_id == author.id, Comment.created_at > since)
    )
    if recent >= allowance:
        raise DiscussionError(POSTING_RATE_MESSAGE.format(count=recent), field="body")


#: A comment the author posted this recently, with the same text in the same place, is the same
#: comment sent twice (a double click, a reload that posts again), not a new one.
REPEAT_WINDOW = timedelta(minutes=2)
REPEATED_MESSAGE = "You posted this comment a moment ago; it is shown once."


def check_not_repeated(
    author: User, thread: Thread, parent: Comment | None, text: str, *, now: datetime
) -> None:
    """Raise RepeatedComment if `author` posted `text` in `thread` (under `parent`) within
    REPEAT_WINDOW. The caller holds the author's lock (check_posting_rate), so of two copies sent
    at once the second sees the first."""
    statement = (
        select(Comment)
        .where(
            Comment.author_id == author.id,
            Comment.thread_id == thread.id,
            Comment.parent_id == parent.id if parent is not None else Comment.parent_id.is_(None),
            Comment.created_at > now - REPEAT_WINDOW,
            Comment.body == text,
            Comment.status != CommentStatus.DELETED,
        )
        .order_by(Comment.id)
        .limit(1)
    )
    earlier = db.session.scalar(statement)
    if earlier is not None:
        raise RepeatedComment(earlier)


def _store(comment: Comment, *, parent: Comment | None, now: datetime) -> None:
    """Add a new comment to its thread, as a reply to `parent` if given (its place in the
    conversation: parent, root and depth); a published one is counted at once; flushes."""
    if parent is not None:
        comment.parent = parent
        comment.root_id = parent.root_id or parent.id
        comment.depth = parent.depth + 1
    db.session.add(comment)
    if comment.is_published:
        _shown(comment, now=now)
    else:
        db.session.flush()


def _shown(comment: Comment, *, now: datetime) -> None:
    """A comment has just become visible (posted or approved): count it, freshen its thread and,
    for a reply, its conversation, and tell the parent's author; flushes."""
    # Counted in SQL so that simultaneous posts cannot overwrite each other's increment.
    comment.thread.comment_count = Thread.comment_count + 1
    comment.thread.last_activity_at = now
    db.session.flush()
    if comment.parent_id is not None:
        # No session synchronisation: evaluating the WHERE against every loaded comment would
        # make each reply slower the more comments the session holds.
        db.session.execute(
            update(Comment).where(Comment.id == comment.root_id).values(activity_at=now),
            execution_options={"synchronize_session": False},
        )
        notifications.reply_posted(comment)


# Guests (write-ups only) ------------------------------------------------------------------------

#: One comment per this many seconds from the same address or email, as WordPress does.
FLOOD_SECONDS = 15
#: A guest comment with more links than this waits for a moderator, whoever sent it.
MAX_GUEST_LINKS = 2
GUEST_NAME_MAX_LENGTH = 100
GUEST_EMAIL_MAX_LENGTH = 254
FLOOD_MESSAGE = "You are posting too quickly. Please wait 15 seconds and send your comment again."
#: itsdangerous salts: the emailed link that confirms a guest's address, and the browser's pass.
GUEST_CONFIRMATION_SALT = "discussions.guest-confirmation"
GUEST_PASS_SALT = "discussions.guest-pass"  # noqa: S105  # nosec B105: a salt naming a purpose
#: The cookie holding a browser's guest pass: the mailboxes confirmed by following a link in it.
GUEST_PASS_COOKIE = "guest_pass"  # noqa: S105  # nosec B105: a cookie name
#: How long a guest pass lasts, and how many mailboxes one holds (the latest confirmed).
GUEST_PASS_MAX_AGE = 365 * 86400
GUEST_PASS_MAX_MAILBOXES = 5


def checked_guest(name: str | None, email: str | None) -> tuple[str, str]:
    """A guest's trimmed name and their address in the stored form (web.addresses); raises
    DiscussionError naming the bad field (line breaks and control characters in the name too)."""
    name = (name or "").replace("\x00", "").strip()
    problem = text_rules.single_line_problem(name)
    if problem:
        raise DiscussionError(problem, field="name")
    name = " ".join(name.split())
    email = addresses.normalise_email((email or "").replace("\x00", ""))
    if not name:
        raise DiscussionError("Give your name.", field="name")
    if len(name) > GUEST_NAME_MAX_LENGTH:
        raise DiscussionError(
            f"Names can be at most {GUEST_NAME_MAX_LENGTH} characters.", field="name"
        )
    if not addresses.is_valid_email(email):
        raise DiscussionError("Give an email address such as name@example.org.", field="email")
    # The key too: NFKC can lengthen an address ("ﬃ" is "ffi"), and both fill 254-character columns.
    if max(len(email), len(addresses.mailbox_key(email))) > GUEST_EMAIL_MAX_LENGTH:
        raise DiscussionError("That email address is too long.", field="email")
    return name, email


def count_links(text: str) -> int:
    """How many links a comment's Markdown makes once rendered (see web.markdown.count_links)."""
    return count_html_links(render_markdown(text))


def lock_guest_sender(*, ip: str | None, email: str) -> None:
    """On PostgreSQL, hold advisory locks on this guest's email and address until the transaction
    ends, so that two of their posts (on any write-ups) take turns at the flood check."""
    # The flood check reads comments of every write-up, but _lock_writeup in the write-ups service
    # serialises posts to one write-up only: without these locks two posts from one guest to two
    # write-ups at once would both find nothing committed. SQLite needs nothing: its single write
    # lock is database-wide, so the first write of the transaction already makes them take turns.
    if db.session.get_bind().dialect.name != "postgresql":
        return
    senders = [f"email:{email}"] + ([f"ip:{ip}"] if ip else [])
    # Always in ascending key order, so two posts sharing both keys cannot deadlock.
    for key in sorted({_advisory_key(sender) for sender in senders}):
        db.session.execute(select(func.pg_advisory_xact_lock(key)))


def _advisory_key(sender: str) -> int:
    """A signed 64-bit advisory-lock key for a guest sender, apart from other uses of such locks."""
    digest = hashlib.blake2b(f"eventmgr.guest-flood:{sender}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def check_flood(*, ip: str | None, email: str, now: datetime) -> None:
    """Raise DiscussionError if this address or email posted in the last FLOOD_SECONDS; one query."""
    # In the database, not in process memory, so the limit holds across workers and machines;
    # by mailbox key, so "+tags" and capitals make no fresh sender.
    senders = [Comment.guest_key == addresses.mailbox_key(email)]
    if ip:
        senders.append(Comment.author_ip == ip)
    recent = db.session.scalar(
        select(
            exists().where(
                or_(*senders), Comment.created_at > now - timedelta(seconds=FLOOD_SECONDS)
            )
        )
    )
    if recent:
        raise DiscussionError(FLOOD_MESSAGE)


def is_approved_guest(email: str) -> bool:
    """Whether a moderator approved an earlier comment from this mailbox (by its key) that is
    still published; one query."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    ModerationAction.comment_id == Comment.id,
                    ModerationAction.action == ModerationKind.APPROVE,
                    Comment.guest_key == addresses.mailbox_key(email),
                    Comment.author_id.is_(None),
                    Comment.status == CommentStatus.PUBLISHED,
                )
            )
        )
    )


def guest_address(email: str) -> GuestAddress | None:
    """The record of this mailbox (by its key), or None before its first comment."""
    key = addresses.mailbox_key(email)
    return db.session.scalar(select(GuestAddress).where(GuestAddress.key == key))


def _confirmation_serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def guest_confirmation_token(address: GuestAddress) -> str:
    """A signed link token showing its holder received email at the mailbox `address` records."""
    return _confirmation_serializer(GUEST_CONFIRMATION_SALT).dumps(
        {"guest": address.id, "key": address.key}
    )


def _note_guest_address(email: str, *, writeup: Any, now: datetime) -> GuestAddress:
    """The mailbox's record, made with its first comment; queues a confirmation link to `email`
    unless an earlier one is still unused and unexpired (one per mailbox, not one per comment);
    flushes."""
    # INSERT ... ON CONFLICT DO NOTHING: two first comments from one mailbox at the same moment
    # (lock_guest_sender makes them take turns, but nothing else should depend on it) share a row.
    insert = (
        postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    db.session.execute(
        insert(GuestAddress)
        .values(key=addresses.mailbox_key(email), email=email, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    address = guest_address(email)
    max_age = timedelta(seconds=current_app.config["EMAIL_CONFIRMATION_MAX_AGE"])
    if address.confirmation_sent_at is not None and now - address.confirmation_sent_at < max_age:
        return address
    address.email = email
    address.confirmation_sent_at = now
    site_name = current_app.config["SITE_NAME"]
    # Nothing the guest typed (their name, their comment) goes into this email: it reaches any
    # address anyone types, so it must not carry a stranger's words.
    mail_service.queue_email(
        kind="guest_confirmation",
        to=email,
        subject=f"Confirm your email address for {site_name}",
        template="guest_confirmation",
        context={
            "writeup_title": writeup.title,
            "confirm_url": external_url(
                "writeups.confirm_guest", token=guest_confirmation_token(address)
            ),
            "valid_days": max(max_age.days, 1),
            "confirmed": address.confirmed_at is not None,
        },
    )
    return address


def confirm_guest(token: str, *, now: datetime | None = None) -> GuestAddress | None:
    """Mark the mailbox of a genuine, unexpired guest link as confirmed and return it (following
    a link again is harmless); None for any other token; flushes. Publishes nothing: a guest's
    comments still wait for a moderator until one of them has been approved."""
    now = now or utcnow()
    try:
        payload, signed_at = _confirmation_serializer(GUEST_CONFIRMATION_SALT).loads(
            token, return_timestamp=True
        )
    except BadData:
        return None
    max_age = timedelta(seconds=current_app.config["EMAIL_CONFIRMATION_MAX_AGE"])
    if now - signed_at > max_age or not isinstance(payload, dict):
        return None
    guest_id = payload.get("guest")
    address = db.session.get(GuestAddress, guest_id) if isinstance(guest_id, int) else None
    if address is None or payload.get("key") != address.key:
        return None
    if address.confirmed_at is None:
        address.confirmed_at = now
    # Used, so a later comment from another browser may be sent a fresh link.
    address.confirmation_sent_at = None
    db.session.flush()
    return address


def guest_pass(address: GuestAddress, cookie: str | None) -> str:
    """The value of the guest-pass cookie once `address` is added to the pass in `cookie`."""
    held = [number for number in proven_guests(cookie) if number != address.id]
    held = [*held, address.id][-GUEST_PASS_MAX_MAILBOXES:]
    return _confirmation_serializer(GUEST_PASS_SALT).dumps(held)


def proven_guests(cookie: str | None) -> list[int]:
    """Ids of the GuestAddress rows a genuine, unexpired guest-pass cookie holds; [] otherwise."""
    try:
        held = _confirmation_serializer(GUEST_PASS_SALT).loads(
            cookie or "", max_age=GUEST_PASS_MAX_AGE
        )
    except BadData:
        return []
    if not isinstance(held, list):
        return []
    return [number for number in held if isinstance(number, int)][-GUEST_PASS_MAX_MAILBOXES:]


def add_guest_comment(
    topic: Topic,
    *,
    name: str,
    email: str,
    body: str,
    ip: str | None,
    parent: Comment | None = None,
    now: datetime | None = None,
    proven: Collection[int] = (),
) -> Comment:
    """A guest's comment on a write-up, or reply to the published comment `parent` of its thread;
    flushes; raises NotAllowed (not a published write-up, locked) or DiscussionError (bad input or
    parent, flood).

    Published at once only when all hold: the mailbox is confirmed, this browser proved it
    (`proven`: the GuestAddress ids of its guest pass, see proven_guests), a moderator approved an
    earlier comment from it, and the comment has at most MAX_GUEST_LINKS links. Otherwise it waits
    for a moderator, and a confirmation link is queued as _note_guest_address says.
    """
    if topic.writeup is None:
        raise NotAllowed(LOG_IN_MESSAGE)
    thread = find_thread(topic)
    if not topic.writeup.is_published:
        raise NotAllowed(UNPUBLISHED_MESSAGE)
    if thread is not None and thread.locked:
        raise NotAllowed(LOCKED_MESSAGE)
    if parent is not None:
        _check_parent(thread, parent)
    name, email = checked_guest(name, email)
    text = checked_body(body)
    html = render_markdown(text)
    now = now or utcnow()
    key = addresses.mailbox_key(email)
    lock_guest_sender(ip=ip, email=key)
    check_flood(ip=ip, email=email, now=now)
    address = guest_address(email)
    trusted = (
        address is not None
        and address.confirmed_at is not None
        and address.id in proven
        and count_html_links(html) <= MAX_GUEST_LINKS
        and is_approved_guest(email)
    )
    if thread is None:
        thread = get_or_create_thread(topic)
    comment = Comment(
        thread=thread,
        guest_name=name,
        guest_email=email,
        guest_key=key,
        author_ip=ip,
        body=text,
        body_html=html,
        status=CommentStatus.PUBLISHED if trusted else CommentStatus.PENDING,
        created_at=now,
        activity_at=now,
    )
    _store(comment, parent=parent, now=now)
    if not trusted and not (address is not None and address.id in proven):
        # A browser that already proved the mailbox needs no link: it waits for a moderator only.
        _note_guest_address(email, writeup=topic.writeup, now=now)
    return comment


def pending_comments(*, limit: int = 200) -> list[Comment]:
    """Comments awaiting a moderator, the longest-waiting first; one query."""
    statement = (
        _comment_with_context()
        .where(Comment.status == CommentStatus.PENDING)
        .order_by(Comment.created_at, Comment.id)
        .limit(limit)
    )
    return list(db.session.scalars(statement))


#: What a moderator is told who decides a comment that another click or moderator decided already.
_DECIDED_MESSAGES = {
    CommentStatus.PUBLISHED: "This comment was already approved.",
    CommentStatus.DELETED: "This comment was already rejected.",
    CommentStatus.SPAM: "This comment was already marked as spam.",
}


def _check_pending(comment: Comment, moderator: Any, *, done: str) -> None:
    """Raise NotAllowed for non-moderators; AlreadyDone if a decision already gave the comment the
    status `done` (a double click, or another moderator); DiscussionError unless it is pending."""
    _check_moderator(moderator)
    if comment.status == done:
        raise AlreadyDone(_DECIDED_MESSAGES[done])
    if not comment.is_pending:
        raise DiscussionError("This comment is not awaiting moderation.")


def approve_comment(comment: Comment, moderator: User, reason: str = "") -> ModerationAction:
    """Publish a pending comment as if posted now (its thread and conversation freshened); flushes,
    logs and notifies the parent's author; raises if not pending (AlreadyDone if approved)."""
    _check_pending(comment, moderator, done=CommentStatus.PUBLISHED)
    text = _checked_reason(reason)
    lock_comment(comment)
    _check_pending(comment, moderator, done=CommentStatus.PUBLISHED)
    comment.status = CommentStatus.PUBLISHED
    action = _log(
        moderator, ModerationKind.APPROVE, thread=comment.thread, comment=comment, reason=text
    )
    _shown(comment, now=utcnow())
    return action


def reject_comment(
    comment: Comment, moderator: User, reason: str = "", *, spam: bool = False
) -> ModerationAction:
    """Refuse a pending comment (deleted, or kept as spam for the record); flushes and logs;
    raises if not pending (AlreadyDone if it already has the status this decision gives)."""
    done = CommentStatus.SPAM if spam else CommentStatus.DELETED
    _check_pending(comment, moderator, done=done)
    text = _checked_reason(reason)
    lock_comment(comment)
    _check_pending(comment, moderator, done=done)
    if spam:
        comment.status = CommentStatus.SPAM
    else:
        comment.status = CommentStatus.DELETED
        comment.body = ""
        comment.body_html = ""
    kind = ModerationKind.SPAM if spam else ModerationKind.REJECT
    action = _log(moderator, kind, thread=comment.thread, comment=comment, reason=text)
    db.session.flush()
    return action


def edit_comment(comment: Comment, editor: User, body: str) -> Comment:
    """Change the author's own text and mark it edited; flushes; raises as check_can_edit does."""
    check_can_edit(comment, editor)
    text = checked_body(body)
    # A moderator may have hidden it, or the author deleted it in another tab, meanwhile.
    lock_comment(comment)
    check_can_edit(comment, editor)
    if text != comment.body:
        comment.body = text
        comment.body_html = render_markdown(text)
        comment.edited_at = utcnow()
        db.session.flush()
    return comment


def _resolve_reports(comment: Comment, moderator: User | None) -> int:
    """Close the comment's open reports; returns how many there were."""
    result = db.session.execute(
        update(Report)
        .where(Report.comment_id == comment.id, Report.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=moderator.id if moderator else None),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def delete_comment(comment: Comment, user: User) -> None:
    """Delete the author's own comment (a placeholder keeps any replies); flushes; see check_can_delete."""
    check_can_delete(comment, user)
    lock_comment(comment)
    check_can_delete(comment, user)
    if comment.is_published:
        comment.thread.comment_count = Thread.comment_count - 1
    comment.status = CommentStatus.DELETED
    comment.body = ""
    comment.body_html = ""
    _resolve_reports(comment, None)
    db.session.flush()


def report_comment(comment: Comment, reporter: User, reason: str) -> Report:
    """Record a report for the moderators; flushes; DiscussionError if own, unshown, repeated, unexplained."""
    check_can_report(comment, reporter)
    text = _checked_reason(reason, required="Say what is wrong with this comment.")
    # Locked first, so a double click finds the first report instead of breaking the unique key.
    lock_comment(comment)
    check_can_report(comment, reporter)
    already = db.session.scalar(
        select(exists().where(Report.comment_id == comment.id, Report.reporter_id == reporter.id))
    )
    if already:
        raise AlreadyDone("You have already reported this comment.")
    report = Report(comment=comment, reporter=reporter, reason=text)
    db.session.add(report)
    db.session.flush()
    return report


def _log(
    moderator: User, kind: ModerationKind, *, thread: Thread, comment: Comment | None, reason: str
) -> ModerationAction:
    """Add an entry to the moderators' log (flushed with the change it records)."""
    action = ModerationAction(
        moderator=moderator, action=kind, thread=thread, comment=comment, reason=reason
    )
    db.session.add(action)
    return action


def _check_moderator(user: Any) -> None:
    """Raise NotAllowed unless `user` is an organiser or admin."""
    if not can_moderate(user):
        raise NotAllowed("Only organisers can moderate discussions.")


def hide_comment(comment: Comment, moderator: User, reason: str) -> ModerationAction:
    """Hide a published comment and close its reports; flushes and logs; needs a moderator and a reason."""
    check_can_hide(comment, moderator)
    text = _checked_reason(reason, required="Say why you are hiding this comment.")
    lock_comment(comment)
    check_can_hide(comment, moderator)
    comment.status = CommentStatus.HIDDEN
    comment.thread.comment_count = Thread.comment_count - 1
    _resolve_reports(comment, moderator)
    action = _log(
        moderator, ModerationKind.HIDE, thread=comment.thread, comment=comment, reason=text
    )
    db.session.flush()
    return action


def restore_comment(comment: Comment, moderator: User, reason: str = "") -> ModerationAction:
    """Show a hidden comment again; flushes and logs; raises NotAllowed or DiscussionError."""
    check_can_restore(comment, moderator)
    text = _checked_reason(reason)
    lock_comment(comment)
    check_can_restore(comment, moderator)
    comment.status = CommentStatus.PUBLISHED
    comment.thread.comment_count = Thread.comment_count + 1
    _resolve_reports(comment, moderator)
    action = _log(
        moderator, ModerationKind.RESTORE, thread=comment.thread, comment=comment, reason=text
    )
    db.session.flush()
    return action


def dismiss_reports(comment: Comment, moderator: User, reason: str = "") -> ModerationAction:
    """Close a comment's open reports, leaving it shown; flushes and logs; DiscussionError if none."""
    _check_moderator(moderator)
    text = _checked_reason(reason)
    lock_comment(comment)
    if not _resolve_reports(comment, moderator):
        raise AlreadyDone("This comment has no open reports: they were dealt with already.")
    action = _log(
        moderator, ModerationKind.DISMISS, thread=comment.thread, comment=comment, reason=text
    )
    db.session.flush()
    return action


def set_locked(topic: Topic, moderator: User, *, locked: bool, reason: str = "") -> Thread:
    """Lock (read-only for all) or unlock the topic's thread; flushes and logs; raises if no change."""
    _check_moderator(moderator)
    text = _checked_reason(reason)
    thread = get_or_create_thread(topic)
    lock_row(db.session, thread)
    if thread.locked == locked:
        state = "locked" if locked else "open"
        raise AlreadyDone(f"This discussion is already {state}.")
    thread.locked = locked
    kind = ModerationKind.LOCK if locked else ModerationKind.UNLOCK
    _log(moderator, kind, thread=thread, comment=None, reason=text)
    db.session.flush()
    return thread


# Moderation page ---------------------------------------------------------------------------------


@dataclass
class ReportedComment:
    """A comment with its open reports, oldest report first."""

    comment: Comment
    reports: list[Report]


def open_reports(*, limit: int = 200) -> list[ReportedComment]:
    """Comments with open reports, the longest-waiting first; one query."""
    statement = (
        select(Report)
        .where(Report.resolved_at.is_(None))
        .options(
            joinedload(Report.reporter),
            joinedload(Report.comment).joinedload(Comment.author),
            joinedload(Report.comment)
            .joinedload(Comment.thread)
            .joinedload(Thread.question)
            .joinedload(Question.event),
            joinedload(Report.comment).joinedload(Comment.thread).joinedload(Thread.event),
            joinedload(Report.comment).joinedload(Comment.thread).joinedload(Thread.writeup),
        )
        .order_by(Report.created_at, Report.id)
        .limit(limit)
    )
    grouped: dict[int, ReportedComment] = {}
    for report in db.session.scalars(statement):
        entry = grouped.setdefault(report.comment_id, ReportedComment(report.comment, []))
        entry.reports.append(report)
    return list(grouped.values())


def moderation_log(*, page: int = 1, per_page: int = ACTIONS_PER_PAGE) -> Pagination:
    """The moderators' log, newest first, one page of it (two queries)."""
    statement = (
        select(ModerationAction)
        .options(
            joinedload(ModerationAction.moderator),
            joinedload(ModerationAction.comment).joinedload(Comment.author),
            joinedload(ModerationAction.thread)
            .joinedload(Thread.question)
            .joinedload(Question.event),
            joinedload(ModerationAction.thread).joinedload(Thread.event),
            joinedload(ModerationAction.thread).joinedload(Thread.writeup),
        )
        .order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


# Lists for other pages ---------------------------------------------------------------------------


def discussion_overview(event: Event) -> list[ThreadSummary]:
    """Each current key question's thread, then the follow-up thread, with counts and activity
    (retired questions left out); one query."""
    question_ids = [question.id for question in event.current_questions]
    threads = db.session.scalars(
        select(Thread).where(or_(Thread.event_id == event.id, Thread.question_id.in_(question_ids)))
    ).all()
    by_question = {thread.question_id: thread for thread in threads if thread.question_id}
    follow_up = next((thread for thread in threads if thread.event_id == event.id), None)

    def summary(title: str, question_id: int | None, thread: Thread | None) -> ThreadSummary:
        """One row, with zero comments for a thread nobody has started."""
        return ThreadSummary(
            event_slug=event.slug,
            event_title=event.title,
            timezone=event.timezone,
            question_id=question_id,
            title=title,
            comment_count=thread.comment_count if thread else 0,
            last_activity_at=thread.last_activity_at if thread else None,
            locked=bool(thread and thread.locked),
        )

    rows = [summary(q.title, q.id, by_question.get(q.id)) for q in event.current_questions]
    rows.append(summary(FOLLOW_UP_TITLE, None, follow_up))
    return rows


def recent_discussions(*, limit: int = 5) -> list[ThreadSummary]:
    """Threads of public meetings with the most recent comments, newest first; one query."""
    statement = (
        select(
            Event.slug,
            Event.title.label("event_title"),
            Event.timezone,
            Question.id.label("question_id"),
            Question.title.label("question_title"),
            Thread.comment_count,
            Thread.last_activity_at,
            Thread.locked,
        )
        .select_from(Thread)
        .outerjoin(Question, Thread.question_id == Question.id)
        .join(Event, Event.id == func.coalesce(Thread.event_id, Question.event_id))
        .where(
            Thread.comment_count > 0,
            Thread.last_activity_at.is_not(None),
            Event.status.in_((EventStatus.PUBLISHED, EventStatus.CANCELLED)),
            # Retired questions are off every list; their discussions stay at their addresses.
            Question.retired_at.is_(None),
        )
        .order_by(Thread.last_activity_at.desc(), Thread.id.desc())
        .limit(limit)
    )
    return [
        ThreadSummary(
            event_slug=row.slug,
            event_title=row.event_title,
            timezone=row.timezone,
            question_id=row.question_id,
            title=row.question_title or FOLLOW_UP_TITLE,
            comment_count=row.comment_count,
            last_activity_at=row.last_activity_at,
            locked=row.locked,
        )
        for row in db.session.execute(statement)
    ]


def quoted(comment: Comment) -> str:
    """The comment's Markdown as a `>` quote, followed by a blank line to write under."""
    lines = comment.body.splitlines() or [""]
    return "\n".join(f"> {line}".rstrip() for line in lines) + "\n\n"


# Key questions being deleted ---------------------------------------------------------------------


def discussed_question_ids(event: Event) -> set[int]:
    """Ids of the meeting's key questions with at least one comment of any status; one query."""
    question_ids = [question.id for question in event.questions]
    if not question_ids:
        return set()
    statement = (
        select(Thread.question_id)
        .where(
            Thread.question_id.in_(question_ids),
            exists().where(Comment.thread_id == Thread.id),
        )
        .distinct()
    )
    return set(db.session.scalars(statement))


def refuse_discussed_question_removal(question: Question, **_: Any) -> None:
    """Receiver of events.service.question_removing: refuse (EventError) when anyone commented on
    the question, whatever the comments' status; an empty thread (say, locked before anyone wrote)
    is deleted first, so the question can go. Flushes."""
    thread = db.session.scalar(select(Thread).where(Thread.question_id == question.id))
    if thread is None:
        return
    if db.session.scalar(select(exists().where(Comment.thread_id == thread.id))):
        raise events_service.EventError(events_service.DISCUSSED_MESSAGE)
    # Its lock and unlock log entries stay, pointing at no thread (ON DELETE SET NULL).
    db.session.delete(thread)
    db.session.flush()


def connect_signals() -> None:
    """Connect this domain's receivers to the events domain's signals (blinker ignores repeats)."""
    events_service.question_removing.connect(refuse_discussed_question_removal, weak=False)
