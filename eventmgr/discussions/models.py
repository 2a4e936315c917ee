"""Discussion threads, their comments, members' reports and the moderators' log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventmgr.accounts.models import User
from eventmgr.database import UTCDateTime, utcnow
from eventmgr.events.models import Event, Question
from eventmgr.extensions import db

if TYPE_CHECKING:
    from eventmgr.writeups.models import WriteUp


#: Follows every guest's name wherever it is shown: guests choose any name, a member's included.
GUEST_MARK = "(guest)"


class CommentStatus(StrEnum):
    """Whether a comment is shown: published, awaiting a moderator, hidden by one, or deleted."""

    PUBLISHED = "published"
    PENDING = "pending"
    HIDDEN = "hidden"
    DELETED = "deleted"
    #: A guest comment a moderator marked as spam: never shown, kept for the record.
    SPAM = "spam"


class ModerationKind(StrEnum):
    """What a moderator did."""

    HIDE = "hide"
    RESTORE = "restore"
    LOCK = "lock"
    UNLOCK = "unlock"
    DISMISS = "dismiss"
    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"


class Thread(db.Model):
    """The conversation about one key question, a meeting's general follow-up, or a write-up."""

    __tablename__ = "threads"
    __table_args__ = (
        # Exactly one owner: a key question, a meeting (follow-up) or a write-up.
        CheckConstraint(
            "(CASE WHEN question_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN event_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN writeup_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_owner",
        ),
        CheckConstraint("comment_count >= 0", name="comment_count_not_negative"),
        Index("ix_threads_last_activity_at", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT on the three owners: deleting a question, meeting or write-up must never take
    # members' comments with it; the database refuses while the thread exists (issue 11).
    #: Set for a key question's thread; unique, so a question has one thread.
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="RESTRICT"), unique=True
    )
    #: Set for a meeting's general follow-up thread; unique, so a meeting has one.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="RESTRICT"), unique=True
    )
    #: Set for a write-up's replies; unique, so a write-up has one thread.
    writeup_id: Mapped[int | None] = mapped_column(
        ForeignKey("writeups.id", ondelete="RESTRICT"), unique=True
    )
    #: A locked thread is read-only for everyone until a moderator unlocks it.
    locked: Mapped[bool] = mapped_column(default=False)
    #: Published comments, kept by the service so lists need no COUNT per thread.
    comment_count: Mapped[int] = mapped_column(default=0)
    #: When the latest comment was posted; None until the first one.
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question | None] = relationship()
    event: Mapped[Event | None] = relationship()
    #: By name: the writeups domain builds on this one, so this module cannot import it.
    writeup: Mapped[WriteUp | None] = relationship("WriteUp")

    def __repr__(self) -> str:
        return f"<Thread {self.id} question={self.question_id} event={self.event_id}>"

    @property
    def meeting(self) -> Event | None:
        """The meeting this thread belongs to (None for a standalone write-up's replies)."""
        if self.question is not None:
            return self.question.event
        if self.writeup is not None:
            return self.writeup.event
        return self.event


class Comment(db.Model):
    """One contribution to a thread, possibly a reply to another comment."""

    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('published', 'pending', 'hidden', 'deleted', 'spam')", name="status_valid"
        ),
        CheckConstraint(
            "author_id IS NOT NULL OR (guest_name IS NOT NULL AND guest_email IS NOT NULL)",
            name="has_author",
        ),
        CheckConstraint("depth >= 0", name="depth_not_negative"),
        CheckConstraint(
            "(parent_id IS NULL AND root_id IS NULL AND depth = 0)"
            " OR (parent_id IS NOT NULL AND root_id IS NOT NULL AND depth > 0)",
            name="tree_position_consistent",
        ),
        # A page of top-level comments, oldest first or most recently active first.
        Index("ix_comments_thread_id_parent_id_created_at", "thread_id", "parent_id", "created_at"),
        Index(
            "ix_comments_thread_id_parent_id_activity_at", "thread_id", "parent_id", "activity_at"
        ),
        # Everything under a page's top-level comments, and "is anything under it still shown?".
        Index("ix_comments_root_id_status", "root_id", "status"),
        # The flood limit: a guest's latest comment by address and by email.
        Index("ix_comments_author_ip_created_at", "author_ip", "created_at"),
        Index("ix_comments_guest_key_created_at", "guest_key", "created_at"),
        # Pending comments for the moderation page.
        Index("ix_comments_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nothing deletes comments along with what they belong to: RESTRICT on the thread, and the
    # default NO ACTION on the parent and root (SQLite checks RESTRICT row by row even inside one
    # statement, so one DELETE of a whole tree could fail on row order; NO ACTION waits for the
    # statement's end and refuses just the same). Authors delete by status, never by row.
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="RESTRICT"))
    #: The comment this one replies to; None for a top-level comment.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    #: The top-level comment this one sits under (None for top-level comments themselves): one
    #: query loads a page's whole conversation, however deep it nests.
    root_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    #: 0 for a top-level comment, parent's depth + 1 for a reply.
    depth: Mapped[int] = mapped_column(default=0)
    #: A member's comment; None for a guest's (write-ups), who gives a name and email instead.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    guest_name: Mapped[str | None] = mapped_column(String(100))
    #: In the stored form of every address (eventmgr.web.addresses.normalise_email), where a
    #: guest's confirmation link goes; never shown publicly.
    guest_email: Mapped[str | None] = mapped_column(String(254))
    #: The guest's mailbox key (eventmgr.web.addresses.mailbox_key): what approval history, the
    #: confirmation and the flood limit compare, so case, +tags and look-alikes make no new guest.
    guest_key: Mapped[str | None] = mapped_column(String(254))
    #: Where a guest posted from, for the flood limit (checked in the database, so it holds
    #: across workers); None for members.
    author_ip: Mapped[str | None] = mapped_column(String(45))
    #: Markdown as written, and its sanitised HTML rendered once on save.
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=CommentStatus.PUBLISHED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the author last changed the text; shown as "edited".
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Top-level comments only: the latest post anywhere beneath them (for ?sort=active).
    activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    thread: Mapped[Thread] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Comment {self.id} thread={self.thread_id} {self.status}>"

    @property
    def author_name(self) -> str:
        """The name shown beside the comment, wherever a comment's author is named (threads,
        moderation, emails): a guest's carries GUEST_MARK, so nobody passes as a member."""
        if self.author is not None:
            return self.author.display_name
        return f"{self.guest_name or ''} {GUEST_MARK}"

    @property
    def is_published(self) -> bool:
        """Shown to everyone."""
        return self.status == CommentStatus.PUBLISHED

    @property
    def is_hidden(self) -> bool:
        """Hidden by a moderator."""
        return self.status == CommentStatus.HIDDEN

    @property
    def is_deleted(self) -> bool:
        """Deleted by its author."""
        return self.status == CommentStatus.DELETED

    @property
    def is_pending(self) -> bool:
        """Awaiting a moderator."""
        return self.status == CommentStatus.PENDING


class Report(db.Model):
    """A member's complaint about a comment, open until a moderator acts on it."""

    __tablename__ = "comment_reports"
    __table_args__ = (
        UniqueConstraint("comment_id", "reporter_id"),
        Index("ix_comment_reports_resolved_at_created_at", "resolved_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="RESTRICT"))
    #: RESTRICT: a member's report is their words too; removing an account must not drop them.
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When a moderator hid, restored or dismissed the comment; None while the report is open.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    comment: Mapped[Comment] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    def __repr__(self) -> str:
        return f"<Report {self.id} comment={self.comment_id}>"


class ModerationAction(db.Model):
    """One entry of the moderators' log: who did what to which comment or thread, when and why."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        CheckConstraint(
            "action IN ('hide', 'restore', 'lock', 'unlock', 'dismiss', 'approve', 'reject',"
            " 'spam')",
            name="action_valid",
        ),
        Index("ix_moderation_actions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    #: What was acted on; kept as None (with the log entry) if the meeting is later deleted.
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    moderator: Mapped[User | None] = relationship()
    comment: Mapped[Comment | None] = relationship()
    thread: Mapped[Thread | None] = relationship()

    def __repr__(self) -> str:
        return f"<ModerationAction {self.id} {self.action}>"


class GuestAddress(db.Model):
    """A guest's mailbox (by its key), and whether they proved they read it.

    A row is made with the first comment from the mailbox, and the confirmation link is sent to the
    address given then; `confirmed_at` is set when the link is followed.
    """

    __tablename__ = "guest_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: eventmgr.web.addresses.mailbox_key of the address; one row per mailbox.
    key: Mapped[str] = mapped_column(String(254), unique=True)
    #: The address (stored form) the latest confirmation link went to.
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the latest link was queued: another is sent only once it has expired.
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the guest followed a link; None until then.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<GuestAddress {self.id} confirmed={self.confirmed_at is not None}>"
