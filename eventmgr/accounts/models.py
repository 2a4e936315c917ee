"""The User model."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from eventmgr.database import UTCDateTime, utcnow
from eventmgr.extensions import db


class Role(StrEnum):
    """What a user may do: members take part, organisers run meetings, admins manage users too."""

    MEMBER = "member"
    ORGANISER = "organiser"
    ADMIN = "admin"


def new_session_token() -> str:
    """A fresh random token; changing it signs the user out of every existing session."""
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    """Someone with an account."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'organiser', 'admin')", name="role_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Always stored lower-cased (see accounts.service.normalise_email) so lookups ignore case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER)
    #: Inactive users cannot log in; their content stays.
    active: Mapped[bool] = mapped_column(default=True)
    #: Part of the login cookie: rotating it (log-out, password change or reset) ends every session.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    #: Email notification preferences.
    notify_replies: Mapped[bool] = mapped_column(default=True)
    notify_event_updates: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the member followed the link in their confirmation email; None until then. Accounts
    #: made by an admin (`flask users create`) or the demo are confirmed when created.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email!r} {self.role}>"

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses to log in inactive users."""
        return self.active

    def get_id(self) -> str:
        """The value Flask-Login keeps in the session and remember cookie."""
        return f"{self.id}:{self.session_token}"

    @property
    def email_confirmed(self) -> bool:
        """Whether the member has shown they receive email at their address (needed to post)."""
        return self.email_confirmed_at is not None

    @property
    def is_organiser(self) -> bool:
        """Organisers (and admins) schedule meetings and moderate."""
        return self.role in (Role.ORGANISER, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        """Admins also manage users' roles."""
        return self.role == Role.ADMIN
