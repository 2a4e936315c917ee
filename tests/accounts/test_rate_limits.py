"""Log-in rate limits with the in-memory store: per client address, and failures per account.

tests/accounts/test_rate_limits_redis.py checks the same limits shared by several gunicorn workers.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from eventmgr.accounts.models import User
from eventmgr.accounts.service import LOGIN_FAILED_MESSAGE
from eventmgr.config import load_config
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from tests.accounts.conftest import field_error, input_value, page
from tests.conftest import DEFAULT_PASSWORD


def attempt(client, email: str, password: str = "not the password", **kwargs):  # noqa: S107
    """POST the login form."""
    return client.post("/account/login", data={"email": email, "password": password}, **kwargs)


@pytest.fixture
def limited_client(make_app):
    """A client of an app with the production limits switched on (tests default to off)."""
    return make_app(RATELIMIT_ENABLED=True).test_client()


def test_limits_are_on_by_default_except_in_testing():
    assert load_config({"APP_ENV": "development"})["RATELIMIT_ENABLED"] is True
    assert load_config({"APP_ENV": "production", "SECRET_KEY": "x" * 32})["RATELIMIT_ENABLED"]
    assert load_config({"APP_ENV": "testing"})["RATELIMIT_ENABLED"] is False
    assert load_config({"APP_ENV": "testing", "RATELIMIT_ENABLED": "1"})["RATELIMIT_ENABLED"]
    defaults = load_config({"APP_ENV": "development"})
    assert defaults["RATELIMIT_STORAGE_URI"] == "memory://"
    assert defaults["RATELIMIT_LOGIN_PER_IP"] == "6 per minute"
    assert defaults["RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT"] == "100 per hour"
    assert defaults["RATELIMIT_SIGNUP_PER_IP"] == "10 per hour"
    assert defaults["RATELIMIT_CONFIRMATION_PER_RECIPIENT"] == "3 per hour"
    assert defaults["RATELIMIT_SIGN_IN_LINK_PER_RECIPIENT"] == "5 per hour"


def test_seventh_login_attempt_a_minute_from_one_address_is_refused(limited_client, make_user):
    make_user(email="ann@example.org")
    for number in range(6):
        assert attempt(limited_client, f"someone{number}@example.org").status_code == 200
    refused = attempt(limited_client, "ann@example.org", DEFAULT_PASSWORD)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    html = page(refused)
    assert html.find("h1").get_text(strip=True) == "Too many requests"
    assert "Please wait a few minutes" in html.get_text()


def test_other_addresses_are_not_limited_by_one_address(make_app):
    client = make_app(RATELIMIT_ENABLED=True, PROXY_FIX_COUNT=1).test_client()
    for _ in range(6):
        attempt(client, "a@example.org", headers={"X-Forwarded-For": "203.0.113.1"})
    assert (
        attempt(client, "a@example.org", headers={"X-Forwarded-For": "203.0.113.1"}).status_code
        == 429
    )
    assert (
        attempt(client, "a@example.org", headers={"X-Forwarded-For": "203.0.113.2"}).status_code
        == 200
    )


def test_showing_the_login_page_is_not_limited(limited_client):
    for _ in range(20):
        assert limited_client.get("/account/login").status_code == 200


def test_101st_failure_for_one_account_is_refused_even_with_the_right_password(make_app, make_user):
    # The per-address limit is raised so that only the per-account one can refuse.
    client = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_IP="1000 per minute"
    ).test_client()
    make_user(email="ann@example.org")
    for _ in range(100):
        response = attempt(client, "ANN@example.org ")
        assert response.status_code == 200
        assert field_error(response, "password") == LOGIN_FAILED_MESSAGE
    assert attempt(client, "ann@example.org", DEFAULT_PASSWORD).status_code == 429
    # Another account is untouched.
    make_user(email="bob@example.org")
    assert attempt(client, "bob@example.org", DEFAULT_PASSWORD).status_code == 302


def test_successful_logins_do_not_count_against_the_account(make_app, make_user):
    client = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN_PER_IP="1000 per minute",
        RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT="3 per hour",
    ).test_client()
    make_user(email="ann@example.org")
    for _ in range(5):
        assert attempt(client, "ann@example.org", DEFAULT_PASSWORD).status_code == 302
        client.post("/account/logout")
    for _ in range(3):
        assert attempt(client, "ann@example.org").status_code == 200
    assert attempt(client, "ann@example.org", DEFAULT_PASSWORD).status_code == 429


def test_password_reset_requests_are_limited_per_address(limited_client):
    for _ in range(6):
        response = limited_client.post("/account/reset", data={"email": "a@example.org"})
        assert response.status_code == 302
    assert limited_client.post("/account/reset", data={"email": "a@example.org"}).status_code == 429


def test_limits_can_be_switched_off(client, make_user):
    make_user(email="ann@example.org")
    for _ in range(10):
        assert attempt(client, "ann@example.org").status_code == 200


# Sign-up and confirmation emails: per client address and per recipient -------------------------


def sign_up(client, email: str, **kwargs):
    """POST the sign-up form for `email`."""
    data = {
        "email": email,
        "display_name": "New Member",
        "organisation": "KIN",
        "password": DEFAULT_PASSWORD,
        "confirm_password": DEFAULT_PASSWORD,
    }
    return client.post("/account/signup", data=data, **kwargs)


def queued(app, kind: str) -> list[str]:
    """The recipients of the queued emails of one kind, oldest first."""
    with app.app_context():
        statement = select(OutboxMessage.to_address).where(OutboxMessage.kind == kind)
        return list(_db.session.scalars(statement.order_by(OutboxMessage.id)))


def test_sign_ups_from_one_address_are_limited_and_the_form_is_kept(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNUP_PER_IP="2 per hour", PROXY_FIX_COUNT=1)
    client = app.test_client()
    here = {"X-Forwarded-For": "203.0.113.5"}
    for number in range(2):
        assert sign_up(client, f"new{number}@example.org", headers=here).status_code == 302
        client.post("/account/logout", headers=here)
    refused = sign_up(client, "third@example.org", headers=here)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many accounts have been created from your network" in field_error(refused, "email")
    assert input_value(refused, "email") == "third@example.org"
    assert input_value(refused, "display_name") == "New Member"
    assert input_value(refused, "organisation") == "KIN"
    assert queued(app, "email_confirmation") == ["new0@example.org", "new1@example.org"]
    # Nothing was kept of the refused sign-up; another client address may sign up.
    elsewhere = {"X-Forwarded-For": "203.0.113.6"}
    assert sign_up(client, "third@example.org", headers=elsewhere).status_code == 302


def test_resending_the_confirmation_is_limited_per_recipient_whatever_the_client_address(make_app):
    # The per-address limit is raised so that only the per-recipient one can refuse.
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_IP="1000 per minute", PROXY_FIX_COUNT=1
    )
    client = app.test_client()
    assert sign_up(client, " New@Example.org").status_code == 302  # the first confirmation email
    statuses = [
        client.post(
            "/account/confirm/resend", headers={"X-Forwarded-For": f"198.51.100.{number}"}
        ).status_code
        for number in range(1, 6)
    ]
    # Three per hour in all: the sign-up's email and two more; then 429 from every address.
    assert statuses == [302, 302, 429, 429, 429]
    assert queued(app, "email_confirmation") == ["new@example.org"] * 3
    refused = client.post("/account/confirm/resend")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "We have sent several confirmation links to this address recently" in page(
        refused
    ).get_text(" ", strip=True)


def test_the_confirmation_limit_counts_per_recipient_not_per_member(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CONFIRMATION_PER_RECIPIENT="1 per hour")
    ann, bob = app.test_client(), app.test_client()
    assert sign_up(ann, "ann@example.org").status_code == 302
    assert sign_up(bob, "bob@example.org").status_code == 302
    assert ann.post("/account/confirm/resend").status_code == 429
    assert bob.post("/account/confirm/resend").status_code == 429
    assert queued(app, "email_confirmation") == ["ann@example.org", "bob@example.org"]


def test_a_sign_up_refused_by_the_recipient_limit_creates_no_account(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CONFIRMATION_PER_RECIPIENT="1 per hour")
    client = app.test_client()
    assert sign_up(client, "ann@example.org").status_code == 302
    # The account is removed (say an admin deleted it), and the same address signs up again.
    with app.app_context():
        _db.session.execute(delete(User).where(User.email == "ann@example.org"))
        _db.session.commit()
    client.post("/account/logout")
    refused = sign_up(client, "ANN@example.org ")
    assert refused.status_code == 429
    assert "several confirmation links" in field_error(refused, "email")
    with app.app_context():
        assert _db.session.scalar(select(User).where(User.email == "ann@example.org")) is None
