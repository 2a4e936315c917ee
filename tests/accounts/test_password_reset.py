"""Password reset by an emailed, signed, expiring, single-use link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventmgr.accounts import service
from eventmgr.database import utcnow
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from tests.accounts.conftest import field_error, flashes
from tests.conftest import DEFAULT_PASSWORD

NEW_PASSWORD = "a brand new passphrase"
RESET_LINK = re.compile(r"https?://\S+/account/reset/(\S+)")


@pytest.fixture
def outbox(app):
    """The emails queued so far: (kind, recipient, text body), oldest first."""

    def read() -> list[tuple[str, str, str]]:
        with app.app_context():
            rows = _db.session.execute(
                select(OutboxMessage.kind, OutboxMessage.to_address, OutboxMessage.text_body)
                .order_by(OutboxMessage.id)
            )  # fmt: skip
            return [tuple(row) for row in rows]

    return read


def reset_path_from(outbox) -> str:
    """The path of the reset link in the last email."""
    kind, _, body = outbox()[-1]
    assert kind == "password_reset"
    return "/account/reset/" + RESET_LINK.search(body).group(1)


def choose(client, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"password": password, "confirm_password": password})


@pytest.mark.parametrize("email", ["ann@example.org", "nobody@example.org"])
def test_reset_request_answers_the_same_whether_or_not_the_email_has_an_account(
    client, make_user, outbox, email
):
    make_user(email="ann@example.org")
    response = client.post("/account/reset", data={"email": email}, follow_redirects=True)
    assert response.request.path == "/account/login"
    assert flashes(response) == [
        "If an account uses that address, we have emailed it a link to choose a new password. "
        "The link works once, within 60 minutes."
    ]
    expected = [("password_reset", email)] if email == "ann@example.org" else []
    assert [(kind, to) for kind, to, _ in outbox()] == expected


def test_reset_link_sets_a_new_password_once(client, make_user, outbox, log_in):
    make_user(email="ann@example.org")
    client.post("/account/reset", data={"email": "ANN@example.org"})
    path = reset_path_from(outbox)
    assert client.get(path).status_code == 200
    response = choose(client, path)
    assert response.status_code == 302
    # The link proved control of the address, so the reset also logs in (issue 11, item 4).
    assert response.headers["Location"] == "/"
    assert client.get("/account/").status_code == 200
    client.post("/account/logout")
    assert log_in("ann@example.org", DEFAULT_PASSWORD).status_code == 200
    assert log_in("ann@example.org", NEW_PASSWORD).status_code == 302
    # Used once: the password hash it was bound to has changed.
    reused = client.get(path, follow_redirects=True)
    assert reused.request.path == "/account/reset"
    assert any("expired or has already been used" in message for message in flashes(reused))


def test_reset_ends_existing_sessions(app, client, make_user, outbox, login_as):
    user = make_user(email="ann@example.org")
    elsewhere = app.test_client()
    login_as(user, elsewhere)
    assert elsewhere.get("/account/").status_code == 200
    client.post("/account/reset", data={"email": "ann@example.org"})
    choose(client, reset_path_from(outbox))
    assert elsewhere.get("/account/").status_code == 302


def test_reset_link_expires(app, make_user):
    with app.app_context():
        user = make_user(email="ann@example.org")
        token = service.password_reset_token(user)
        max_age = app.config["PASSWORD_RESET_MAX_AGE"]
        assert max_age == 3600
        later = utcnow() + timedelta(seconds=max_age - 60)
        assert service.user_for_password_reset(token, now=later) == user
        too_late = utcnow() + timedelta(seconds=max_age + 1)
        assert service.user_for_password_reset(token, now=too_late) is None


def test_reset_max_age_is_configurable(make_app):
    app = make_app(PASSWORD_RESET_MAX_AGE=120)
    with app.app_context():
        user = service.create_user(
            email="ann@example.org", display_name="Ann", password=DEFAULT_PASSWORD
        )
        token = service.password_reset_token(user)
        assert service.user_for_password_reset(token, now=utcnow() + timedelta(seconds=100))
        assert service.user_for_password_reset(token, now=utcnow() + timedelta(seconds=130)) is None


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "eyJ1c2VyIjoxfQ.AAAAAA.forged"],
)
def test_forged_or_garbled_tokens_are_refused(app, make_user, token):
    with app.app_context():
        make_user()
        assert service.user_for_password_reset(token) is None


def test_a_confirmation_token_is_not_a_reset_token(app, make_user):
    with app.app_context():
        user = make_user()
        assert service.user_for_password_reset(service.email_confirmation_token(user)) is None


def test_inactive_users_get_no_reset_email(client, make_user, update_user, outbox):
    user = make_user(email="ann@example.org")
    update_user(user, active=False)
    client.post("/account/reset", data={"email": "ann@example.org"})
    assert outbox() == []


def test_new_password_from_reset_follows_the_password_rules(client, make_user, outbox):
    make_user(email="ann@example.org", display_name="Ann Example")
    client.post("/account/reset", data={"email": "ann@example.org"})
    path = reset_path_from(outbox)
    too_short = choose(client, path, "short")
    assert too_short.status_code == 200
    assert "at least 12 characters" in field_error(too_short, "password")
    guessable = choose(client, path, "ANN@EXAMPLE.ORG")
    assert field_error(guessable, "password") == service.PASSWORD_GUESSABLE_MESSAGE


def test_reset_confirms_an_unconfirmed_address(app, client, make_user, outbox, fetch_user):
    user = make_user(email="ann@example.org")
    with app.app_context():
        stored = _db.session.get(type(user), user.id)
        stored.email_confirmed_at = None
        _db.session.commit()
    client.post("/account/reset", data={"email": "ann@example.org"})
    choose(client, reset_path_from(outbox))
    assert fetch_user("ann@example.org").email_confirmed


def test_login_page_links_to_reset(client):
    assert 'href="/account/reset"' in client.get("/account/login").get_data(as_text=True)
