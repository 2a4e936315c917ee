"""The User model, and the device sessions a user is signed in with."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventmgr.accounts.user_agents import describe_user_agent
from eventmgr.database import UTCDateTime, utcnow
from eventmgr.extensions import db


class Role(StrEnum):
    """What a user may do: members take part, organisers run meetings, admins manage users too."""

    MEMBER = "member"
    ORGANISER = "organiser"
    ADMIN = "admin"


def new_session_token() -> str:
    """A fresh random secret for a device session (32 bytes, URL-safe, never contains ':')."""
    return secrets.token_urlsafe(32)


def hash_session_token(token: str) -> str:
    """The SHA-256 hex digest kept in the database, so a copy of the table signs nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()


class User(UserMixin, db.Model):
    """Someone with an account."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'organiser', 'admin')", name="role_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Always stored in one normal form (NFC, lower-cased, IDNA domain: accounts.service.normalise_email),
    #: so one mailbox cannot hold two accounts.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER)
    #: Inactive users cannot log in; their content stays.
    active: Mapped[bool] = mapped_column(default=True)
    #: Email notification preferences.
    notify_replies: Mapped[bool] = mapped_column(default=True)
    notify_event_updates: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the member followed the link in their confirmation email; None until then. Accounts
    #: made by an admin (`flask users create`) or the demo are confirmed when created.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: The random value every outstanding sign-in link of this user carries; replaced (None) when
    #: one of them is used, or the password changes, so each link works once. None: no link out.
    sign_in_nonce: Mapped[str | None] = mapped_column(String(32), default=None)
    #: Where the user is signed in: one row per login (browser or device).
    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Not columns (so not annotated, which declarative mapping would take for one): the device
    # session (a UserSession) this object was loaded or logged in through during this request,
    # and its raw identifier ("session id:token:login time") for Flask-Login. Set by
    # accounts.service.load_user() and start_session().
    current_session = None
    session_identifier = None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email!r} {self.role}>"

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses to log in inactive users."""
        return self.active

    def get_id(self) -> str:
        """The value Flask-Login keeps in the session and remember cookie: the identifier of the
        device session this user signed in with; raises if there is none (see start_session())."""
        if self.session_identifier is None:
            raise RuntimeError(
                "This user has no device session; sign in with accounts.service.start_session()."
            )
        return self.session_identifier

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


class UserSession(db.Model):
    """One signed-in browser or device: what the session and remember-me cookies name.

    The cookie carries the row's id and a random token; only the token's SHA-256 is stored, so
    reading the table does not let anyone sign in. Deleting the row signs that device out.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: hash_session_token() of the secret in the cookie.
    token_hash: Mapped[str] = mapped_column(String(64))
    #: When the member logged in; the absolute lifetime counts from here.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Roughly the last request (written at most every few minutes); the idle lifetime and the
    #: account page's "last active" read it.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The browser's User-Agent header at login, cut to 255 characters.
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    #: The client address at login (as ProxyFix reports it); 45 characters hold any IPv6 address.
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    #: "Keep me logged in": such a session outlives the idle limit (not the absolute one).
    remember: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="sessions")

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"

    @property
    def browser(self) -> str:
        """The browser and system in a few words, e.g. "Firefox on Linux"."""
        return describe_user_agent(self.user_agent)

    def token_matches(self, token: str) -> bool:
        """Whether `token` is this session's secret (compared in constant time)."""
        return hmac.compare_digest(self.token_hash, hash_session_token(token))
