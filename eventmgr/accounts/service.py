"""Account rules: creating users, authenticating them, changing profiles, passwords and roles."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from eventmgr.accounts import passwords
from eventmgr.accounts.models import (
    Role,
    User,
    UserSession,
    hash_session_token,
    new_session_token,
)
from eventmgr.database import lock_row, utcnow
from eventmgr.extensions import db
from eventmgr.mail import service as mail_service
from eventmgr.web import addresses
from eventmgr.web import text as text_rules
from eventmgr.web.urls import external_url

#: Limits shared by the forms and these rules; the first three are the users table's column sizes.
EMAIL_MAX_LENGTH = 254
DISPLAY_NAME_MAX_LENGTH = 100
ORGANISATION_MAX_LENGTH = 200
BIO_MAX_LENGTH = 2000
USERS_PER_PAGE = 25

#: The one message for every failed log-in, so the form never tells which emails have accounts.
LOGIN_FAILED_MESSAGE = "Incorrect email or password."
EMAIL_TAKEN_MESSAGE = "An account with this email address already exists. Log in instead?"
#: Refusal of a password anyone who knows the account could guess.
PASSWORD_GUESSABLE_MESSAGE = (
    "Choose a password that is not your email address, your name or the name of this site."  # noqa: E501, S105  # nosec B105: a message shown to people, not a password
)


class AccountError(ValueError):
    """An account change that the rules refuse; the message is safe to show.

    `field` names the form field at fault (e.g. "email"), so a view can show the message beside it.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    """The form emails are stored and compared in: trimmed, NFC, lower-cased, the domain in IDNA
    A-labels (see eventmgr.web.addresses, which the guests' comments share)."""
    return addresses.normalise_email(email)


def _checked_email(email: str) -> str:
    """The normalised address; raises AccountError unless it is a plausible email address."""
    normalised = normalise_email(email)
    if len(normalised) > EMAIL_MAX_LENGTH:
        raise AccountError(
            f"Email addresses can be at most {EMAIL_MAX_LENGTH} characters.", field="email"
        )
    if not addresses.is_valid_email(normalised):
        raise AccountError("Enter a valid email address, like name@example.org.", field="email")
    return normalised


#: Free-text fields: their label in messages, longest length, whether they may be blank, and
#: whether they are one line (no line breaks or control characters: see eventmgr.web.text).
_TEXT_RULES = {
    "display_name": ("Display name", DISPLAY_NAME_MAX_LENGTH, True, True),
    "organisation": ("Organisation", ORGANISATION_MAX_LENGTH, False, True),
    "bio": ("Bio", BIO_MAX_LENGTH, False, False),
}


def _checked_text(field: str, value: str) -> str:
    """`value` trimmed; raises AccountError when it is blank but required, too long, or (for a
    single-line field) holds a line break or control character."""
    label, limit, required, single_line = _TEXT_RULES[field]
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise AccountError(f"Enter your {label.lower()}.", field=field)
    problem = text_rules.single_line_problem(cleaned, label) if single_line else None
    if problem:
        raise AccountError(problem, field=field)
    if len(cleaned) > limit:
        raise AccountError(f"{label} can be at most {limit:,} characters.", field=field)
    return cleaned


def _checked_password(password: str, *, field: str, email: str = "", display_name: str = "") -> str:
    """`password` unchanged (never trimmed); raises AccountError when its length is refused or it
    is the account's email address, its display name or the site's name (ignoring case)."""
    problem = passwords.password_problem(password)
    if problem:
        raise AccountError(problem, field=field)
    if passwords.matches_any(password, [email, display_name, current_app.config["SITE_NAME"]]):
        raise AccountError(PASSWORD_GUESSABLE_MESSAGE, field=field)
    return password


def _checked_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError("Choose member, organiser or admin.", field="role") from None


def get_user_by_email(email: str) -> User | None:
    """The user with this email, whatever its case, or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


# Device sessions ---------------------------------------------------------------------------------
#
# Each login is a UserSession row. The session cookie (and the remember-me cookie) carries
# "session id:token:login time"; the row keeps only the token's SHA-256, so one device can be
# signed out by deleting its row while the member's other devices stay signed in.

#: Longest User-Agent header kept (the column's size).
USER_AGENT_MAX_LENGTH = 255
#: Longest client address kept (the column's size; any IPv6 address fits).
IP_ADDRESS_MAX_LENGTH = 45
#: last_seen_at is written at most this often per session, so ordinary requests do not write.
LAST_SEEN_INTERVAL = timedelta(minutes=5)
#: Largest id accepted from a cookie: PostgreSQL's integer, so a forged one cannot overflow it.
_MAX_SESSION_ID = 2**31 - 1


@dataclass(frozen=True)
class SessionIdentifier:
    """What the session (and the remember-me cookie) holds: device session id, token, login time."""

    session_id: int
    token: str
    login_at: datetime

    def __str__(self) -> str:
        return f"{self.session_id}:{self.token}:{int(self.login_at.timestamp())}"


def parse_session_identifier(value: str) -> SessionIdentifier | None:
    """The parts of a 'session id:token:login time' value, or None when it is malformed."""
    parts = str(value).split(":")
    if len(parts) != 3:
        return None
    session_id, token, login_at = parts
    if not token or not all(part.isascii() and part.isdigit() for part in (session_id, login_at)):
        return None
    if not 0 < int(session_id) <= _MAX_SESSION_ID:
        return None
    try:
        when = datetime.fromtimestamp(int(login_at), UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return SessionIdentifier(int(session_id), token, when)


def login_expired(login_at: datetime, *, now: datetime | None = None) -> bool:
    """Whether a session that began at `login_at` has passed SESSION_ABSOLUTE_HOURS."""
    limit = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    return (now or utcnow()) - login_at > limit


def _last_seen_interval() -> timedelta:
    """How stale last_seen_at may get: LAST_SEEN_INTERVAL, or less under a very short idle limit."""
    idle_limit = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return min(LAST_SEEN_INTERVAL, idle_limit / 2)


def _idle_allowance(*, remember: bool) -> timedelta:
    """How long a session may go unseen before it has expired.

    Without remember-me: the idle limit, plus the slack of last_seen_at being written only every
    few minutes (the session cookie measures idleness exactly). With it: as long as the
    remember-me cookie lasts.
    """
    if remember:
        duration = current_app.config["REMEMBER_COOKIE_DURATION"]
        return duration if isinstance(duration, timedelta) else timedelta(seconds=duration)
    idle_limit = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return idle_limit + _last_seen_interval()


def session_expired(user_session: UserSession, *, now: datetime | None = None) -> bool:
    """Whether `user_session` is past the absolute lifetime or has been idle for too long."""
    now = now or utcnow()
    if login_expired(user_session.created_at, now=now):
        return True
    return now - user_session.last_seen_at > _idle_allowance(remember=user_session.remember)


def start_session(
    user: User,
    *,
    user_agent: str = "",
    ip_address: str = "",
    remember: bool = False,
    now: datetime | None = None,
) -> str:
    """Sign `user` in on a new device session and return its identifier (for the cookie); prunes
    the user's expired sessions; flushes. The raw token exists only in the returned value."""
    now = now or utcnow()
    prune_expired_sessions(user=user, now=now)
    token = new_session_token()
    user_session = UserSession(
        user_id=user.id,
        token_hash=hash_session_token(token),
        created_at=now,
        last_seen_at=now,
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
        ip_address=(ip_address or "")[:IP_ADDRESS_MAX_LENGTH],
        remember=remember,
    )
    db.session.add(user_session)
    db.session.flush()
    identifier = str(SessionIdentifier(user_session.id, token, now))
    user.current_session = user_session
    user.session_identifier = identifier
    return identifier


def load_user(session_id: str, *, now: datetime | None = None) -> User | None:
    """Flask-Login's loader: the active user of the device session a 'session id:token:login time'
    value names, if its token matches and it is within the idle and absolute lifetimes.

    One query. Every LAST_SEEN_INTERVAL or so it also records the session as seen, in a
    transaction of its own (see _record_seen).
    """
    identifier = parse_session_identifier(session_id)
    if identifier is None:
        return None
    now = now or utcnow()
    user_session = db.session.scalar(
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.id == identifier.session_id)
    )
    if user_session is None or not user_session.token_matches(identifier.token):
        return None
    user = user_session.user
    # Checking `active` here too ends a deactivated user's sessions even if rows were left.
    if not user.active or session_expired(user_session, now=now):
        return None
    if now - user_session.last_seen_at >= _last_seen_interval():
        _record_seen(user_session, now)
    user.current_session = user_session
    user.session_identifier = str(identifier)
    return user


def _record_seen(user_session: UserSession, now: datetime) -> None:
    """Write last_seen_at in a short transaction of its own.

    The loader runs inside requests that never commit (every GET) or that commit only their own
    change, so the request's transaction cannot carry this write; the object is left unchanged
    in the request's session so nothing else gets flushed because of it. The time is a courtesy
    (idleness is measured exactly by the session cookie), so a failed write only logs a warning.
    """
    try:
        with db.engine.begin() as connection:
            connection.execute(
                update(UserSession)
                .where(UserSession.id == user_session.id)
                .values(last_seen_at=now)
            )
    except SQLAlchemyError:
        current_app.logger.warning("Could not record session %s as seen", user_session.id)
        return
    set_committed_value(user_session, "last_seen_at", now)


def list_sessions(user: User) -> list[UserSession]:
    """The user's device sessions, most recently active first (one query, however many)."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def signed_in_sessions(user: User, *, now: datetime | None = None) -> list[UserSession]:
    """The user's device sessions that still sign them in (expired ones, which wait for pruning,
    left out), most recently active first; one query."""
    now = now or utcnow()
    return [row for row in list_sessions(user) if not session_expired(row, now=now)]


def get_own_session(user: User, session_id: int) -> UserSession | None:
    """The device session `session_id` if it is one of `user`'s; None otherwise (whoever's it is)."""
    return db.session.scalar(
        select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    )


def end_session(user_session: UserSession) -> bool:
    """Sign one device out: its cookies name a row that no longer exists; flushes. Returns False if
    another request (a double click, another tab) had signed it out already."""
    # A DELETE by id, counted: deleting the loaded object would fail on the second of two clicks.
    result = db.session.execute(
        delete(UserSession).where(UserSession.id == user_session.id),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def end_all_sessions(user: User, *, keep: UserSession | None = None) -> int:
    """Sign `user` out of every device except `keep` (if given); returns how many ended; flushes."""
    statement = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        statement = statement.where(UserSession.id != keep.id)
    result = db.session.execute(statement.execution_options(synchronize_session="fetch"))
    return result.rowcount


def prune_expired_sessions(*, user: User | None = None, now: datetime | None = None) -> int:
    """Delete device sessions past their absolute or idle lifetime (only `user`'s, if given);
    returns how many; flushes. Expired rows sign nobody in anyway; this keeps the table small."""
    now = now or utcnow()
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    statement = delete(UserSession).where(
        or_(
            UserSession.created_at < now - absolute,
            and_(
                UserSession.remember.is_(False),
                UserSession.last_seen_at < now - _idle_allowance(remember=False),
            ),
            and_(
                UserSession.remember.is_(True),
                UserSession.last_seen_at < now - _idle_allowance(remember=True),
            ),
        )
    )
    if user is not None:
        statement = statement.where(UserSession.user_id == user.id)
    result = db.session.execute(statement.execution_options(synchronize_session="fetch"))
    return result.rowcount


def deactivate_user(user: User) -> None:
    """Stop `user` logging in and sign them out everywhere; their content stays; flushes; raises
    AccountError rather than leave no active admin."""
    if user.role == Role.ADMIN and user.active and count_admins() <= 1:
        raise AccountError("This is the only admin; make someone else an admin first.")
    user.active = False
    end_all_sessions(user)


def create_user(
    *,
    email: str,
    display_name: str,
    password: str,
    organisation: str = "",
    role: Role | str = Role.MEMBER,
    email_confirmed: bool = True,
) -> User:
    """Add a new user; flushes; raises AccountError (naming the field) if a rule refuses it.

    Users made by an admin or a script are trusted with their address (`email_confirmed`);
    sign_up() makes members confirm theirs.

    If the database rejects the email because another request took it a moment ago, the session
    is rolled back (it cannot continue after a failed flush) before AccountError is raised.
    """
    email = _checked_email(email)
    display_name = _checked_text("display_name", display_name)
    organisation = _checked_text("organisation", organisation)
    password = _checked_password(password, field="password", email=email, display_name=display_name)
    role = _checked_role(role)
    if get_user_by_email(email) is not None:
        raise AccountError(EMAIL_TAKEN_MESSAGE, field="email")
    user = User(
        email=email,
        display_name=display_name,
        organisation=organisation,
        password_hash=passwords.hash_password(password),
        role=role,
        email_confirmed_at=utcnow() if email_confirmed else None,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AccountError(EMAIL_TAKEN_MESSAGE, field="email") from None
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, rehashing an outdated hash; None otherwise.

    A rehash changes the user without flushing; the caller commits to keep it.
    """
    if len(password) > passwords.MAX_PASSWORD_LENGTH:
        # No such password can be set, so don't spend hashing time on it.
        return None
    user = get_user_by_email(email)
    if user is None:
        # Spend the same time as a real check so response times don't reveal which emails exist.
        passwords.verify_password(_dummy_hash(), password)
        return None
    if not passwords.verify_password(user.password_hash, password) or not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash with the current parameters, made once per parameter set."""
    key = "{ARGON2_TIME_COST}:{ARGON2_MEMORY_COST}:{ARGON2_PARALLELISM}".format(
        **current_app.config
    )
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = passwords.hash_password(new_session_token())
    return _DUMMY_HASHES[key]


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Set a new password after checking the current one; signs out every device; flushes.

    Raises AccountError naming `current_password` or `new_password`. The caller starts a new
    session (a new id, against session fixation) for the device that should stay signed in.
    """
    if not passwords.verify_password(user.password_hash, current_password):
        raise AccountError("Your current password is not correct.", field="current_password")
    new_password = _checked_password(
        new_password, field="new_password", email=user.email, display_name=user.display_name
    )
    user.password_hash = passwords.hash_password(new_password)
    user.sign_in_nonce = None
    end_all_sessions(user)


# Sign-up with email confirmation, and password reset by email ------------------------------------

#: itsdangerous salts: a token made for one purpose is never accepted for another.
PASSWORD_RESET_SALT = "accounts.password-reset"  # noqa: S105 (a salt naming a purpose)  # nosec B105: a salt naming a purpose, not a secret
EMAIL_CONFIRMATION_SALT = "accounts.email-confirmation"
SIGN_IN_LINK_SALT = "accounts.sign-in-link"


def sign_up(*, email: str, display_name: str, password: str, organisation: str = "") -> User:
    """A new member who must confirm their email address; queues the confirmation email; flushes;
    raises AccountError like create_user()."""
    user = create_user(
        email=email,
        display_name=display_name,
        password=password,
        organisation=organisation,
        email_confirmed=False,
    )
    send_confirmation_email(user)
    return user


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _loads(salt: str, token: str, *, max_age: int, now: datetime | None) -> dict | None:
    """The payload of a token signed with `salt` no more than `max_age` seconds before `now`."""
    try:
        payload, signed_at = _serializer(salt).loads(token, return_timestamp=True)
    except BadData:
        return None
    if (now or utcnow()) - signed_at > timedelta(seconds=max_age) or not isinstance(payload, dict):
        return None
    return payload


def _password_fingerprint(user: User) -> str:
    """A digest of the password hash: any password change (a reset included) changes it, so a
    reset link works once; the hash itself never goes into a link."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def password_reset_token(user: User) -> str:
    """A signed link token for resetting `user`'s password, valid once for PASSWORD_RESET_MAX_AGE."""
    return _serializer(PASSWORD_RESET_SALT).dumps(
        {"user": user.id, "password": _password_fingerprint(user)}
    )


def user_for_password_reset(token: str, *, now: datetime | None = None) -> User | None:
    """The active user a reset token was made for, if it is genuine, recent and not yet used."""
    payload = _loads(
        PASSWORD_RESET_SALT, token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"], now=now
    )
    if payload is None or not isinstance(payload.get("user"), int):
        return None
    user = db.session.get(User, payload["user"])
    if user is None or not user.active or payload.get("password") != _password_fingerprint(user):
        return None
    return user


def password_reset_valid_minutes() -> int:
    """How many minutes a reset link works (PASSWORD_RESET_MAX_AGE, at least 1), as members are told."""
    return max(current_app.config["PASSWORD_RESET_MAX_AGE"] // 60, 1)


def request_password_reset(email: str) -> None:
    """Email a reset link to the active account with this address, if there is one; flushes.

    Says nothing about whether there was, so the form cannot be used to find members' addresses.
    """
    _email_link(
        email,
        kind="password_reset",
        subject=f"Reset your {current_app.config['SITE_NAME']} password",
        link=lambda user: {
            "reset_url": external_url("accounts.reset_password", token=password_reset_token(user)),
            "valid_minutes": password_reset_valid_minutes(),
        },
    )


def _email_link(
    email: str, *, kind: str, subject: str, link: Callable[[User], dict[str, Any]]
) -> None:
    """Queue the `kind` email (template of the same name) to the active account with this address,
    if there is one, with the link `link(user)` makes; flushes; does nothing otherwise, saying
    nothing either way (no account enumeration)."""
    user = get_user_by_email(email)
    if user is None or not user.active:
        return
    mail_service.queue_email(
        kind=kind,
        to=user.email,
        subject=subject,
        template=kind,
        context={"user": user, **link(user)},
    )


#: The answer to the second of two uses of one reset link at the same moment.
RESET_USED_MESSAGE = "This reset link has just been used. Log in with the new password."


def reset_password(user: User, new_password: str, *, token: str | None = None) -> None:
    """Set a new password from a reset link; ends every session; confirms the address (the link
    was emailed to it); flushes; raises AccountError (field "password").

    With the link's `token`, the user's row is locked and the token checked again on the row as
    committed, so of two uses of one link at once (a double click) only the first changes anything.
    """
    new_password = _checked_password(
        new_password, field="password", email=user.email, display_name=user.display_name
    )
    if token is not None:
        lock_row(db.session, user)
        if user_for_password_reset(token) is not user:
            raise AccountError(RESET_USED_MESSAGE, field="password")
    user.password_hash = passwords.hash_password(new_password)
    user.sign_in_nonce = None
    end_all_sessions(user)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    db.session.flush()


def email_confirmation_token(user: User) -> str:
    """A signed link token proving that whoever holds it received email at `user`'s address."""
    return _serializer(EMAIL_CONFIRMATION_SALT).dumps({"user": user.id, "email": user.email})


def send_confirmation_email(user: User) -> None:
    """Queue the email with the link that confirms `user`'s address; flushes."""
    mail_service.queue_email(
        kind="email_confirmation",
        to=user.email,
        subject=f"Confirm your email address for {current_app.config['SITE_NAME']}",
        template="confirm_email",
        context={
            "user": user,
            "confirm_url": external_url(
                "accounts.confirm_email", token=email_confirmation_token(user)
            ),
            "valid_days": max(current_app.config["EMAIL_CONFIRMATION_MAX_AGE"] // 86400, 1),
        },
    )


def confirm_email(token: str, *, now: datetime | None = None) -> User | None:
    """Mark the address in a genuine, recent confirmation token as confirmed and return its user;
    None if the token is not valid (confirming twice is harmless); flushes."""
    payload = _loads(
        EMAIL_CONFIRMATION_SALT,
        token,
        max_age=current_app.config["EMAIL_CONFIRMATION_MAX_AGE"],
        now=now,
    )
    if payload is None or not isinstance(payload.get("user"), int):
        return None
    user = db.session.get(User, payload["user"])
    if user is None or not user.active or payload.get("email") != user.email:
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now or utcnow()
        db.session.flush()
    return user


# One-time sign-in links ----------------------------------------------------------------------------
#
# A member who can read their email can get in without the password: this is what lets them in
# while the per-account log-in failure limit (which anyone can trip by typing their address) holds.
# Every link carries the user's sign_in_nonce; using one clears it, so each link works once, and
# all links sent before it stop working too.


def sign_in_link_valid_minutes() -> int:
    """How many minutes a sign-in link works (SIGN_IN_LINK_MAX_AGE, at least 1)."""
    return max(current_app.config["SIGN_IN_LINK_MAX_AGE"] // 60, 1)


def sign_in_link_token(user: User) -> str:
    """A signed token for a one-time sign-in link of `user`; gives the user a nonce if they have
    none (links sent earlier and still unused keep working); flushes."""
    if not user.sign_in_nonce:
        user.sign_in_nonce = secrets.token_urlsafe(16)
        db.session.flush()
    return _serializer(SIGN_IN_LINK_SALT).dumps({"user": user.id, "nonce": user.sign_in_nonce})


def request_sign_in_link(email: str) -> None:
    """Email a one-time sign-in link to the active account with this address, if there is one;
    flushes. Says nothing about whether there was (no account enumeration)."""
    _email_link(
        email,
        kind="sign_in_link",
        subject=f"Your sign-in link for {current_app.config['SITE_NAME']}",
        link=lambda user: {
            "sign_in_url": external_url("accounts.sign_in_link", token=sign_in_link_token(user)),
            "valid_minutes": sign_in_link_valid_minutes(),
        },
    )


def user_for_sign_in_link(token: str, *, now: datetime | None = None) -> User | None:
    """The active user a sign-in token was made for, if it is genuine, recent and still unused."""
    payload = _loads(
        SIGN_IN_LINK_SALT, token, max_age=current_app.config["SIGN_IN_LINK_MAX_AGE"], now=now
    )
    if payload is None or not isinstance(payload.get("user"), int):
        return None
    nonce = payload.get("nonce")
    user = db.session.get(User, payload["user"])
    if user is None or not user.active or not user.sign_in_nonce or not isinstance(nonce, str):
        return None
    if not hmac.compare_digest(user.sign_in_nonce, nonce):
        return None
    return user


def use_sign_in_link(token: str, *, now: datetime | None = None) -> User | None:
    """Spend a sign-in link: its user, whose links all stop working, with the address confirmed
    (the link was emailed to it); None if the token is not valid or was used, even a moment ago
    by a parallel request (a compare-and-set on the nonce); flushes. The caller starts the session."""
    user = user_for_sign_in_link(token, now=now)
    if user is None:
        return None
    spent = db.session.execute(
        update(User)
        .where(User.id == user.id, User.sign_in_nonce == user.sign_in_nonce)
        .values(sign_in_nonce=None)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return None
    set_committed_value(user, "sign_in_nonce", None)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now or utcnow()
        db.session.flush()
    return user


def update_profile(
    user: User,
    *,
    display_name: str,
    organisation: str,
    bio: str,
    notify_replies: bool,
    notify_event_updates: bool,
) -> None:
    """Change what others see of the user and which emails they get; flushes; raises AccountError."""
    # Check every value before changing any, so a refusal leaves the user as it was.
    checked = {
        "display_name": _checked_text("display_name", display_name),
        "organisation": _checked_text("organisation", organisation),
        "bio": _checked_text("bio", bio),
    }
    for name, value in checked.items():
        setattr(user, name, value)
    user.notify_replies = notify_replies
    user.notify_event_updates = notify_event_updates
    db.session.flush()


def count_admins() -> int:
    """How many active admins there are."""
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    )


def set_role(user: User, role: Role | str) -> None:
    """Change a user's role; flushes; raises AccountError rather than leave no active admin."""
    role = _checked_role(role)
    if user.role == role:
        return
    if user.role == Role.ADMIN and user.active:
        # Lock the admin rows (PostgreSQL) so two admins demoting each other at the same moment
        # cannot both succeed; the second waits, then sees the first one's change.
        admin_ids = db.session.scalars(
            select(User.id).where(User.role == Role.ADMIN, User.active).with_for_update()
        ).all()
        if not set(admin_ids) - {user.id}:
            raise AccountError(
                "This is the only admin; make someone else an admin first.", field="role"
            )
    user.role = role
    db.session.flush()


def list_users(*, page: int = 1, per_page: int = USERS_PER_PAGE) -> Pagination:
    """One page of users, newest first (two queries, whatever the page size)."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc())
    return db.paginate(query, page=page, per_page=per_page, max_per_page=100, error_out=False)
