"""The outbox: emails waiting to be delivered, and the record of those that were."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from eventmgr.database import UTCDateTime, utcnow
from eventmgr.extensions import db


class OutboxMessage(db.Model):
    """One email, written in the same transaction as the change it reports."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What kind of email this is (e.g. "registration-confirmed"), for tests, logs and opt-outs.
    kind: Mapped[str] = mapped_column(String(50))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    #: Extra headers (List-Unsubscribe, ...) as a JSON object of name to value.
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Attachments as a JSON list of {"filename", "content_type", "content"} (text content).
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    #: The Message-ID header, fixed when the row is written so retries keep the same one.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: When the worker may next try; pushed back after each failure (backoff).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Names the email that gathers several events for one recipient while it waits to be sent
    #: (e.g. "comment-reply:42" for replies to member 42), and what it holds (e.g. comment ids).
    group_key: Mapped[str | None] = mapped_column(String(100), index=True)
    group_items: Mapped[list | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} to {self.to_address!r}>"
