"""Account rules: creating users, authenticating them, changing profiles, passwords and roles."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from eventmgr.accounts import passwords
from eventmgr.accounts.models import Role, User, new_session_token
from eventmgr.extensions import db

#: Limits shared by the forms and these rules; the first three are the users table's column sizes.
EMAIL_MAX_LENGTH = 254
DISPLAY_NAME_MAX_LENGTH = 100
ORGANISATION_MAX_LENGTH = 200
BIO_MAX_LENGTH = 2000
USERS_PER_PAGE = 25

#: The one message for every failed log-in, so the form never tells which emails have accounts.
LOGIN_FAILED_MESSAGE = "Incorrect email or password."
EMAIL_TAKEN_MESSAGE = "An account with this email address already exists. Log in instead?"


class AccountError(ValueError):
    """An account change that the rules refuse; the message is safe to show.

    `field` names the form field at fault (e.g. "email"), so a view can show the message beside it.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    """The form emails are stored and compared in: trimmed and lower-cased."""
    return email.strip().lower()


def _checked_email(email: str) -> str:
    """The normalised address; raises AccountError unless it is a plausible email address."""
    normalised = normalise_email(email)
    if len(normalised) > EMAIL_MAX_LENGTH:
        raise AccountError(
            f"Email addresses can be at most {EMAIL_MAX_LENGTH} characters.", field="email"
        )
    try:
        validate_email(normalised, check_deliverability=False)
    except EmailNotValidError:
        raise AccountError(
            "Enter a valid email address, like name@example.org.", field="email"
        ) from None
    return normalised


#: Free-text fields: their label in messages, longest length, and whether they may be blank.
_TEXT_RULES = {
    "display_name": ("Display name", DISPLAY_NAME_MAX_LENGTH, True),
    "organisation": ("Organisation", ORGANISATION_MAX_LENGTH, False),
    "bio": ("Bio", BIO_MAX_LENGTH, False),
}


def _checked_text(field: str, value: str) -> str:
    """`value` trimmed; raises AccountError when it is blank but required, or too long."""
    label, limit, required = _TEXT_RULES[field]
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise AccountError(f"Enter your {label.lower()}.", field=field)
    if len(cleaned) > limit:
        raise AccountError(f"{label} can be at most {limit:,} characters.", field=field)
    return cleaned


def _checked_password(password: str, *, field: str) -> str:
    """`password` unchanged (never trimmed); raises AccountError when its length is refused."""
    problem = passwords.password_problem(password)
    if problem:
        raise AccountError(problem, field=field)
    return password


def _checked_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError("Choose member, organiser or admin.", field="role") from None


def get_user_by_email(email: str) -> User | None:
    """The user with this email, whatever its case, or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the active user for an 'id:token' value whose token is still current."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    # Checking `active` here ends a deactivated user's existing sessions on their next request.
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def create_user(
    *,
    email: str,
    display_name: str,
    password: str,
    organisation: str = "",
    role: Role | str = Role.MEMBER,
) -> User:
    """Add a new user; flushes; raises AccountError (naming the field) if a rule refuses it.

    If the database rejects the email because another request took it a moment ago, the session
    is rolled back (it cannot continue after a failed flush) before AccountError is raised.
    """
    email = _checked_email(email)
    display_name = _checked_text("display_name", display_name)
    organisation = _checked_text("organisation", organisation)
    password = _checked_password(password, field="password")
    role = _checked_role(role)
    if get_user_by_email(email) is not None:
        raise AccountError(EMAIL_TAKEN_MESSAGE, field="email")
    user = User(
        email=email,
        display_name=display_name,
        organisation=organisation,
        password_hash=passwords.hash_password(password),
        role=role,
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
    from flask import current_app

    key = "{ARGON2_TIME_COST}:{ARGON2_MEMORY_COST}:{ARGON2_PARALLELISM}".format(
        **current_app.config
    )
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = passwords.hash_password(new_session_token())
    return _DUMMY_HASHES[key]


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Set a new password after checking the current one; signs out every session; flushes.

    Raises AccountError naming `current_password` or `new_password`. The caller logs the current
    session in again with the new token if it should stay signed in.
    """
    if not passwords.verify_password(user.password_hash, current_password):
        raise AccountError("Your current password is not correct.", field="current_password")
    new_password = _checked_password(new_password, field="new_password")
    user.password_hash = passwords.hash_password(new_password)
    user.session_token = new_session_token()
    db.session.flush()


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
