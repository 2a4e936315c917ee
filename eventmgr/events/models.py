"""Meeting, speaker and key-question models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventmgr.accounts.models import User
from eventmgr.database import UTCDateTime, utcnow
from eventmgr.extensions import db


class EventStatus(StrEnum):
    """A meeting's life cycle: draft → published → (cancelled)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class DiscussionPolicy(StrEnum):
    """Who may post in a meeting's discussions."""

    ATTENDEES = "attendees"
    MEMBERS = "members"
    CLOSED = "closed"


class Event(db.Model):
    """A meeting."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status_valid"),
        CheckConstraint(
            "discussion_policy IN ('attendees', 'members', 'closed')", name="policy_valid"
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "registration_closes_at IS NULL OR registration_opens_at IS NULL "
            "OR registration_closes_at > registration_opens_at",
            name="registration_window_ordered",
        ),
        Index("ix_events_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Date and title, e.g. 2015-09-23-connecting-knowledge-communities; stable once created.
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    #: Markdown as written, and its sanitised HTML rendered once on save.
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: IANA zone the meeting happens in; times are entered and shown in it.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(Text, default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    #: None means unlimited.
    capacity: Mapped[int | None]
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.DRAFT)
    discussion_policy: Mapped[str] = mapped_column(String(20), default=DiscussionPolicy.ATTENDEES)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: iCalendar SEQUENCE: raised whenever the time or place changes or the meeting is cancelled.
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last queue number handed to a registration (see registrations.service). Raising it is
    #: how registration changes lock the meeting's row, so numbers follow the order the database
    #: accepted them; they may skip (every locked change draws one), never repeat.
    last_queue_number: Mapped[int] = mapped_column(default=0, server_default="0")

    created_by: Mapped[User | None] = relationship()
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="event",
        order_by="(Speaker.position, Speaker.id)",
        cascade="all, delete-orphan",
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="event",
        order_by="(Question.position, Question.id)",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Event {self.slug!r} {self.status}>"

    @property
    def current_questions(self) -> list[Question]:
        """The key questions on the programme, in order (retired ones left out)."""
        return [question for question in self.questions if not question.is_retired]

    @property
    def retired_questions(self) -> list[Question]:
        """Questions an organiser retired, whose discussions stay readable."""
        return [question for question in self.questions if question.is_retired]

    @property
    def zone(self) -> ZoneInfo:
        """The meeting's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def is_draft(self) -> bool:
        return self.status == EventStatus.DRAFT

    @property
    def is_published(self) -> bool:
        return self.status == EventStatus.PUBLISHED

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED


class Speaker(db.Model):
    """Someone giving a talk at a meeting."""

    __tablename__ = "speakers"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    #: Order in the programme, from 1.
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    talk_title: Mapped[str] = mapped_column(String(300), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    #: The speaker's own account, when they have one (lets them join the discussion).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    event: Mapped[Event] = relationship(back_populates="speakers")
    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Speaker {self.id} {self.name!r}>"


class Question(db.Model):
    """A key question a meeting discusses."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    #: Order on the meeting page, from 1.
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    #: When an organiser retired it: off the programme and lists, its discussion kept read-only
    #: at its address. None while the question is current.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(back_populates="questions")

    @property
    def is_retired(self) -> bool:
        """Hidden from the programme; its discussion is read-only."""
        return self.retired_at is not None

    def __repr__(self) -> str:
        return f"<Question {self.id} {self.title!r}>"
