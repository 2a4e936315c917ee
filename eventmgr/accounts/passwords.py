"""Argon2id password hashing, with costs taken from the app's configuration."""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

#: Length limits: long enough for passphrases, short enough that hashing stays cheap to attempt.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def _normalise(password: str) -> str:
    # The same characters typed on different systems can arrive as different code points ("é" as
    # one or two); NFKC makes them hash alike, as NIST SP 800-63B recommends.
    return unicodedata.normalize("NFKC", password)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None; only its length counts (no composition rules)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"Use at least {MIN_PASSWORD_LENGTH} characters. "
            "A few unrelated words together make a strong password."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    return None


def matches_any(password: str, values: list[str]) -> bool:
    """Whether `password` equals one of `values`, ignoring case and Unicode form (blanks never match)."""
    typed = _normalise(password).casefold().strip()
    return any(value and typed == _normalise(value).casefold().strip() for value in values)


def hash_password(password: str) -> str:
    """An Argon2id hash of the whole password (never truncated)."""
    return _hasher().hash(_normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`; False for a malformed hash too."""
    try:
        return _hasher().verify(password_hash, _normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the configured ones."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
