"""Password hashing: Argon2id, whole passwords, Unicode-normalised, length-only rules."""

from __future__ import annotations

import pytest

from eventmgr.accounts import passwords


@pytest.mark.parametrize(
    ("password", "refused"),
    [("a" * 11, True), ("a" * 12, False), ("a" * 128, False), ("a" * 129, True), ("", True)],
)
def test_password_problem_checks_length_only(password, refused):
    assert (passwords.password_problem(password) is not None) is refused


def test_no_composition_rules():
    assert passwords.password_problem("all lower case words") is None


def test_hash_is_argon2id_and_verifies(app):
    with app.app_context():
        password_hash = passwords.hash_password("pässwörd-日本語-ok!")
        assert password_hash.startswith("$argon2id$")
        assert passwords.verify_password(password_hash, "pässwörd-日本語-ok!")
        assert not passwords.verify_password(password_hash, "passwort-日本語-ok!")


def test_whole_password_counts_not_only_first_72_characters(app):
    prefix = "x" * 72
    with app.app_context():
        password_hash = passwords.hash_password(prefix + "-first")
        assert not passwords.verify_password(password_hash, prefix + "-other")


def test_composed_and_decomposed_accents_match(app):
    with app.app_context():
        password_hash = passwords.hash_password("caf\u00e9 au lait please")
        assert passwords.verify_password(password_hash, "cafe\u0301 au lait please")


def test_malformed_hash_never_verifies_and_needs_rehash(app):
    with app.app_context():
        assert not passwords.verify_password("not-a-hash", "anything at all")
        assert passwords.needs_rehash("not-a-hash")


def test_needs_rehash_when_configured_cost_changes(make_app):
    cheap, dearer = make_app(), make_app(ARGON2_TIME_COST=2)
    with cheap.app_context():
        password_hash = passwords.hash_password("a long enough password")
        assert not passwords.needs_rehash(password_hash)
    with dearer.app_context():
        assert passwords.needs_rehash(password_hash)
