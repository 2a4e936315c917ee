"""Log-in rate limits with the in-memory store: per client address, and failures per account.

tests/accounts/test_rate_limits_redis.py checks the same limits shared by several gunicorn workers.
"""

from __future__ import annotations

import pytest

from eventmgr.accounts.service import LOGIN_FAILED_MESSAGE
from eventmgr.config import load_config
from tests.accounts.conftest import field_error, page
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
