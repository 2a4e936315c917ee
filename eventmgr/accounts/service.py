"""Account rules: creating users, authenticating them, changing profiles, passwords and roles."""

from __future__ import annotations

from sqlalchemy import func, select

from eventmgr.accounts import passwords
from eventmgr.accounts.models import Role, User, new_session_token
from eventmgr.extensions import db


class AccountError(ValueError):
    """An account change that the rules refuse; the message is safe to show."""


def normalise_email(email: str) -> str:
    """The form emails are stored and compared in: trimmed and lower-cased."""
    return email.strip().lower()


def get_user_by_email(email: str) -> User | None:
    """The user with this email, whatever its case, or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the user for an 'id:token' value, if the token is still current."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_token != token:
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
    """Add a new user; flushes; raises AccountError if the email is taken."""
    if get_user_by_email(email) is not None:
        raise AccountError("An account with this email address already exists.")
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        organisation=organisation.strip(),
        password_hash=passwords.hash_password(password),
        role=Role(role),
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, rehashing an outdated hash; None otherwise."""
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
    """Set a new password after checking the current one; signs out the user's other sessions."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise AccountError("Your current password is not correct.")
    user.password_hash = passwords.hash_password(new_password)
    user.session_token = new_session_token()
    db.session.flush()


def update_profile(user: User, *, display_name: str, organisation: str, bio: str,
                   notify_replies: bool, notify_event_updates: bool) -> None:  # fmt: skip
    """Change what others see of the user and which emails they get; flushes."""
    user.display_name = display_name.strip()
    user.organisation = organisation.strip()
    user.bio = bio.strip()
    user.notify_replies = notify_replies
    user.notify_event_updates = notify_event_updates
    db.session.flush()


def count_admins() -> int:
    """How many active admins there are."""
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    )


def set_role(user: User, role: Role | str) -> None:
    """Change a user's role; refuses to remove the last admin; flushes."""
    role = Role(role)
    if user.role == Role.ADMIN and role != Role.ADMIN and count_admins() <= 1:
        raise AccountError("This is the only admin; make someone else an admin first.")
    user.role = role
    db.session.flush()
