"""The write-up model: an organiser's report of a meeting, or a standalone post."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventmgr.accounts.models import User
from eventmgr.database import UTCDateTime, utcnow
from eventmgr.events.models import Event
from eventmgr.extensions import db


class WriteUpStatus(StrEnum):
    """Drafts are for organisers only; published write-ups are public."""

    DRAFT = "draft"
    PUBLISHED = "published"


class WriteUp(db.Model):
    """A report of a meeting (or a standalone post) with a Markdown body."""

    __tablename__ = "writeups"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published')", name="status_valid"),
        CheckConstraint("status = 'draft' OR published_at IS NOT NULL", name="published_has_time"),
        Index("ix_writeups_status_published_at", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The meeting reported on; unique, so a meeting has at most one write-up. None: standalone.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), unique=True
    )
    #: The address part, /writeups/<slug>; unique.
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: Markdown as written, and its sanitised HTML rendered once on save.
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=WriteUpStatus.DRAFT)
    #: First publication; kept when a write-up is unpublished and published again.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the text last changed after publication; shown as "updated".
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the meeting's attendees were emailed; set once, so re-publishing never resends.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    #: Joined whenever a write-up loads: every page showing one names its meeting.
    event: Mapped[Event | None] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<WriteUp {self.slug!r} {self.status}>"

    @property
    def is_published(self) -> bool:
        """Shown to everyone."""
        return self.status == WriteUpStatus.PUBLISHED

    @property
    def is_draft(self) -> bool:
        """Seen by organisers only."""
        return self.status == WriteUpStatus.DRAFT

    @property
    def public_event(self) -> Event | None:
        """The meeting as the public may see it: None for a standalone post, and for a meeting
        that is still a draft, whose title and address are not public yet."""
        if self.event is None or self.event.is_draft:
            return None
        return self.event

    @property
    def timezone(self) -> str:
        """The zone dates are shown in: the meeting's, or London's for a standalone post."""
        return self.event.timezone if self.event is not None else "Europe/London"
