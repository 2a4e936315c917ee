"""Sessions: revoked at log-out and password change, idle and absolute lifetimes, remember-me."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eventmgr.accounts import service
from eventmgr.accounts.views import SEEN_AT_KEY
from eventmgr.config import load_config
from eventmgr.database import utcnow
from tests.accounts.conftest import flashes
from tests.conftest import DEFAULT_PASSWORD

NEW_PASSWORD = "another long passphrase"


def log_in_through_form(client, email: str = "ann@example.org", **extra) -> None:
    response = client.post(
        "/account/login", data={"email": email, "password": DEFAULT_PASSWORD, **extra}
    )
    assert response.status_code == 302


def replay(app, cookie_name: str, value: str):
    """A second browser that presents a copied cookie; returns its answer for /account/."""
    other = app.test_client()
    other.set_cookie(cookie_name, value)
    return other.get("/account/")


def test_a_session_cookie_copied_before_logout_is_refused_afterwards(app, client, make_user):
    make_user(email="ann@example.org")
    log_in_through_form(client)
    copied = client.get_cookie("session").value
    assert replay(app, "session", copied).status_code == 200
    client.post("/account/logout")
    response = replay(app, "session", copied)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_a_remember_cookie_copied_before_logout_is_refused_afterwards(app, client, make_user):
    make_user(email="ann@example.org")
    log_in_through_form(client, remember="y")
    copied = client.get_cookie("remember_token").value
    assert replay(app, "remember_token", copied).status_code == 200
    client.post("/account/logout")
    assert replay(app, "remember_token", copied).status_code == 302


def test_logout_ends_the_sessions_on_other_devices_too(app, client, make_user):
    make_user(email="ann@example.org")
    laptop = app.test_client()
    log_in_through_form(laptop)
    log_in_through_form(client)
    client.post("/account/logout")
    assert laptop.get("/account/").status_code == 302


def test_a_session_cookie_copied_before_a_password_change_is_refused_afterwards(
    app, client, make_user
):
    make_user(email="ann@example.org")
    log_in_through_form(client)
    copied = client.get_cookie("session").value
    response = client.post(
        "/account/password",
        data={
            "password-current_password": DEFAULT_PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200  # this browser stays logged in
    assert replay(app, "session", copied).status_code == 302


def test_sessions_are_permanent_cookies_lasting_the_idle_limit(client, make_user):
    make_user(email="ann@example.org")
    before = datetime.now(UTC)
    response = client.post(
        "/account/login", data={"email": "ann@example.org", "password": DEFAULT_PASSWORD}
    )
    cookie = client.get_cookie("session")
    assert cookie.expires is not None
    assert abs(cookie.expires - (before + timedelta(minutes=120))) < timedelta(minutes=1)
    assert response.status_code == 302


def shift_session(client, *, seen_minutes_ago: float | None = None, login_hours_ago: float | None = None):  # fmt: skip
    """Move the session's last-seen or login time into the past."""
    now = utcnow()
    with client.session_transaction() as session:
        if seen_minutes_ago is not None:
            session[SEEN_AT_KEY] = int((now - timedelta(minutes=seen_minutes_ago)).timestamp())
        if login_hours_ago is not None:
            identifier = service.parse_session_identifier(session["_user_id"])
            user_id, token = identifier.user_id, identifier.token
            login_at = int((now - timedelta(hours=login_hours_ago)).timestamp())
            session["_user_id"] = f"{user_id}:{token}:{login_at}"


@pytest.mark.parametrize(("minutes", "status"), [(119, 200), (121, 302)])
def test_an_idle_session_lapses_after_the_idle_limit(client, make_user, minutes, status):
    make_user(email="ann@example.org")
    log_in_through_form(client)
    shift_session(client, seen_minutes_ago=minutes)
    assert client.get("/account/").status_code == status


def test_each_request_resets_the_idle_clock(client, make_user):
    make_user(email="ann@example.org")
    log_in_through_form(client)
    shift_session(client, seen_minutes_ago=100)
    assert client.get("/account/").status_code == 200
    shift_session(client, seen_minutes_ago=100)
    assert client.get("/account/").status_code == 200


def test_idle_limit_is_configurable(make_app, make_user):
    client = make_app(SESSION_IDLE_MINUTES=10).test_client()
    make_user(email="ann@example.org")
    log_in_through_form(client)
    shift_session(client, seen_minutes_ago=11)
    assert client.get("/account/").status_code == 302


def test_remember_me_outlasts_the_idle_limit(client, make_user):
    make_user(email="ann@example.org")
    log_in_through_form(client, remember="y")
    shift_session(client, seen_minutes_ago=600)
    assert client.get("/account/").status_code == 200


@pytest.mark.parametrize(("hours", "status"), [(719, 200), (721, 302)])
def test_a_session_ends_after_the_absolute_limit(client, make_user, hours, status):
    make_user(email="ann@example.org")
    log_in_through_form(client)
    shift_session(client, login_hours_ago=hours)
    response = client.get("/account/")
    assert response.status_code == status
    if status == 302:
        assert "Your session has expired. Please log in again." in flashes(
            client.get(response.headers["Location"])
        )


def test_the_absolute_limit_applies_to_remember_me_cookies(app, client, make_user):
    make_user(email="ann@example.org")
    log_in_through_form(client, remember="y")
    cookie_value = client.get_cookie("remember_token").value
    with app.app_context():
        identifier = cookie_value.rsplit("|", 1)[0]
        assert service.load_user(identifier) is not None
        later = utcnow() + timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"], minutes=1)
        assert service.load_user(identifier, now=later) is None


def test_remember_me_lasts_no_longer_than_the_absolute_limit():
    config = load_config(
        {"APP_ENV": "development", "SESSION_ABSOLUTE_HOURS": "24", "REMEMBER_COOKIE_DAYS": "30"}
    )
    assert config["REMEMBER_COOKIE_DURATION"] == 24 * 3600
    defaults = load_config({"APP_ENV": "development"})
    assert defaults["SESSION_IDLE_MINUTES"] == 120
    assert defaults["SESSION_ABSOLUTE_HOURS"] == 720
    assert defaults["REMEMBER_COOKIE_DURATION"] == 30 * 86400
    assert defaults["PERMANENT_SESSION_LIFETIME"] == 120 * 60


def test_a_session_without_a_login_time_gets_one(client, make_user, login_as):
    user = make_user()
    login_as(user)
    assert client.get("/account/").status_code == 200
    with client.session_transaction() as session:
        identifier = service.parse_session_identifier(session["_user_id"])
    assert identifier.login_at is not None
    assert utcnow() - identifier.login_at < timedelta(minutes=1)


@pytest.mark.parametrize("value", ["", "x:y", "1", "1:", "1:token:notatime", "a:b:c"])
def test_malformed_session_identifiers_load_nobody(app, make_user, value):
    with app.app_context():
        make_user()
        assert service.load_user(value) is None
