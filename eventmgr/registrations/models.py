"""The Registration model: one member's place at (or in the queue for) one meeting."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventmgr.accounts.models import User
from eventmgr.database import UTCDateTime, utcnow
from eventmgr.events.models import Event
from eventmgr.extensions import db


class RegistrationStatus(StrEnum):
    """Where a member stands: a seat, a place in the queue, or neither any more."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


#: Statuses that hold a seat or a place in the queue (and so hear about changes to the meeting).
ACTIVE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


class Registration(db.Model):
    """A member's registration for a meeting; kept (as cancelled) when they withdraw."""

    __tablename__ = "registrations"
    __table_args__ = (
        # One row per member and meeting: registering again after cancelling reuses it.
        UniqueConstraint("event_id", "user_id", name="uq_registrations_event_id_user_id"),
        # Queue numbers are handed out under the meeting's lock; two alike would mean a lost race.
        UniqueConstraint("event_id", "queue_number", name="uq_registrations_event_id_queue_number"),
        CheckConstraint("status IN ('confirmed', 'waitlisted', 'cancelled')", name="status_valid"),
        CheckConstraint("queue_number > 0", name="queue_number_positive"),
        CheckConstraint("NOT attended OR status = 'confirmed'", name="attended_only_confirmed"),
        # Counting seats and walking the waiting list of one meeting.
        Index(
            "ix_registrations_event_id_status_queue_number", "event_id", "status", "queue_number"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    #: Order of arrival: the meeting's next queue number each time the member (re-)registers, so
    #: the waiting list is first come, first served and a returning member joins at the back.
    queue_number: Mapped[int]
    #: Set by an organiser at the door (confirmed registrations only).
    attended: Mapped[bool] = mapped_column(default=False)
    #: When the row was first created.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the member last registered (joined the queue); what the attendee list shows.
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the status or attendance last changed.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Registration {self.id} event={self.event_id} user={self.user_id} {self.status}>"

    @property
    def is_confirmed(self) -> bool:
        return self.status == RegistrationStatus.CONFIRMED

    @property
    def is_waitlisted(self) -> bool:
        return self.status == RegistrationStatus.WAITLISTED

    @property
    def is_cancelled(self) -> bool:
        return self.status == RegistrationStatus.CANCELLED
