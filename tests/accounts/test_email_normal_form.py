"""Email addresses are stored and compared in one normal form, so one mailbox holds one account:
sign-up, log-in, password reset, `flask users` and the migration of existing rows all agree."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from eventmgr import create_app
from eventmgr.accounts import service
from eventmgr.accounts.models import User
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from eventmgr.web.addresses import mailbox_key, normalise_email
from tests.conftest import (
    DEFAULT_PASSWORD,
    base_config,
    drop_postgres_database,
    fresh_database_url,
    is_postgres,
)

NFC = "ren\u00e9@example.org"  # é as one character
NFD = "rene\u0301@example.org"  # e + combining acute accent
UNICODE_DOMAIN = "ann@b\u00fccher.example"
PUNYCODE_DOMAIN = "ann@xn--bcher-kva.example"

#: Each pair: two spellings of one mailbox.
SAME_MAILBOX = [
    ("ann@example.org", "ANN@Example.ORG"),
    ("ann@example.org", "  ann@example.org\t"),
    (NFC, NFD),
    (UNICODE_DOMAIN, PUNYCODE_DOMAIN),
    (UNICODE_DOMAIN, "ANN@B\u00dcCHER.example"),
]


@pytest.mark.parametrize(("first", "second"), SAME_MAILBOX)
def test_the_stored_form_is_one_for_each_mailbox(first, second):
    assert normalise_email(first) == normalise_email(second)
    assert normalise_email(normalise_email(first)) == normalise_email(first)


def test_the_stored_form_keeps_what_names_another_mailbox():
    assert normalise_email(UNICODE_DOMAIN) == PUNYCODE_DOMAIN
    assert normalise_email(NFD) == NFC
    # +tags, dots and full-width letters can be other mailboxes: kept (the guests' key folds them).
    assert normalise_email("Ann+News@example.org") == "ann+news@example.org"
    assert normalise_email("a.n.n@example.org") == "a.n.n@example.org"
    assert normalise_email("\uff41nn@example.org") == "\uff41nn@example.org"
    assert mailbox_key(" \uff21nn+News@EXAMPLE.org") == "ann@example.org"
    assert normalise_email("not an address") == "not an address"


@pytest.mark.parametrize(("first", "second"), SAME_MAILBOX)
def test_one_mailbox_cannot_hold_two_accounts(db, first, second):
    user = service.create_user(email=first, display_name="Ann", password=DEFAULT_PASSWORD)
    with pytest.raises(service.AccountError, match="already exists") as refused:
        service.create_user(email=second, display_name="Ann again", password=DEFAULT_PASSWORD)
    assert refused.value.field == "email"
    assert service.get_user_by_email(second) is user
    assert service.authenticate(second, DEFAULT_PASSWORD) is user


def test_sign_up_log_in_and_reset_use_the_stored_form(client, app):
    response = client.post(
        "/account/signup",
        data={"email": f" {NFD.upper()} ", "display_name": "René", "password": DEFAULT_PASSWORD,
              "confirm_password": DEFAULT_PASSWORD},
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        assert [user.email for user in _db.session.scalars(sa.select(User))] == [NFC]
    client.post("/account/logout")
    again = client.post(
        "/account/signup",
        data={"email": NFC, "display_name": "Imposter", "password": DEFAULT_PASSWORD,
              "confirm_password": DEFAULT_PASSWORD},
    )  # fmt: skip
    assert again.status_code != 302 and "already exists" in again.get_data(as_text=True)
    login = client.post("/account/login", data={"email": NFD, "password": DEFAULT_PASSWORD})
    assert login.status_code == 302
    client.post("/account/logout")
    client.post("/account/reset", data={"email": "RENE\u0301@EXAMPLE.ORG"})
    with app.app_context():
        sent = _db.session.scalars(
            sa.select(OutboxMessage.to_address).where(OutboxMessage.kind == "password_reset")
        ).all()
    assert sent == [NFC]


def test_the_users_command_finds_an_account_by_any_spelling(runner, make_user):
    make_user(email=UNICODE_DOMAIN)
    result = runner.invoke(args=["users", "create", PUNYCODE_DOMAIN.upper(), "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert f"Changed {PUNYCODE_DOMAIN} from member to admin." in result.output


@pytest.fixture
def old_database(tmp_path):
    """A database at the revision before addresses had one stored form, and its app."""
    url = fresh_database_url(tmp_path, "addresses")
    app = create_app(base_config(url))
    with app.app_context():
        flask_migrate.upgrade(revision="e4c6e8a0b2d4")
    yield app
    with app.app_context():
        _db.engine.dispose()
    if is_postgres():
        drop_postgres_database(url)


def add_old_user(app, email: str) -> None:
    """A users row as the earlier code could have stored it."""
    with app.app_context(), _db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (email, display_name, organisation, bio, password_hash, role,"
                " active, notify_replies, notify_event_updates, created_at)"
                " VALUES (:email, 'Old', '', '', 'x', 'member', TRUE, TRUE, TRUE, CURRENT_TIMESTAMP)"
            ),
            {"email": email},
        )


def stored_emails(app) -> list[str]:
    with app.app_context(), _db.engine.connect() as connection:
        return list(connection.scalars(sa.text("SELECT email FROM users ORDER BY id")))


def test_the_migration_rewrites_existing_addresses_in_the_stored_form(old_database):
    add_old_user(old_database, NFD)
    add_old_user(old_database, "ann@b\u00fccher.example")
    with old_database.app_context():
        flask_migrate.upgrade()
    assert stored_emails(old_database) == [NFC, PUNYCODE_DOMAIN]


def test_the_migration_refuses_to_merge_two_accounts_of_one_mailbox(old_database, capfd):
    add_old_user(old_database, NFC)
    add_old_user(old_database, NFD)
    # Flask-Migrate logs the migration's error and exits with status 1.
    with old_database.app_context(), pytest.raises(SystemExit):
        flask_migrate.upgrade()
    logged = capfd.readouterr().err
    assert "share a mailbox" in logged and f"{NFC}: users 1, 2" in logged
    # Nothing changed: both accounts are there as they were, at the old revision.
    assert stored_emails(old_database) == [NFC, NFD]
    with old_database.app_context(), _db.engine.connect() as connection:
        revision = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert revision == "e4c6e8a0b2d4"
    # Once an admin has given the accounts their own addresses, the upgrade goes through.
    with old_database.app_context(), _db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE users SET email = 'other@example.org' WHERE id = 2"))
    with old_database.app_context():
        flask_migrate.upgrade()
    assert stored_emails(old_database) == [NFC, "other@example.org"]
