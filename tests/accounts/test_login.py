"""Logging in and out: credentials, remember-me, `next`, session handling."""

from __future__ import annotations

import pytest

from eventmgr.accounts.service import LOGIN_FAILED_MESSAGE
from tests.accounts.conftest import field_error, flashes, input_value, page
from tests.conftest import DEFAULT_PASSWORD


def test_login_page_has_labelled_fields_and_one_heading(client):
    html = page(client.get("/account/login"))
    assert [h1.get_text() for h1 in html.find_all("h1")] == ["Log in"]
    assert html.find(id="email")["autocomplete"] == "email"
    assert html.find(id="password")["autocomplete"] == "current-password"
    assert html.find("label", attrs={"for": "remember"}) is not None


def test_login_with_any_email_case_logs_in_and_goes_home(client, make_user, log_in):
    make_user(email="ann@example.org", display_name="Ann")
    response = log_in("  ANN@Example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/account/")
    assert home.status_code == 200
    assert "Welcome back, Ann." in flashes(home)


@pytest.mark.parametrize(
    ("email", "password"),
    [("nobody@example.org", DEFAULT_PASSWORD), ("ann@example.org", "not the password")],
)
def test_unknown_email_and_wrong_password_get_the_same_message(make_user, log_in, email, password):
    make_user(email="ann@example.org")
    response = log_in(email, password)
    assert response.status_code == 200
    assert field_error(response, "password") == LOGIN_FAILED_MESSAGE
    assert field_error(response, "email") is None
    assert input_value(response, "email") == email
    assert input_value(response, "password") == ""


def test_inactive_user_cannot_log_in(make_user, update_user, log_in, client):
    user = make_user(email="ann@example.org")
    update_user(user, active=False)
    response = log_in("ann@example.org")
    assert field_error(response, "password") == LOGIN_FAILED_MESSAGE
    assert client.get("/account/").status_code == 302


def test_deactivating_ends_existing_sessions(make_user, update_user, login_as, client):
    user = make_user()
    login_as(user)
    assert client.get("/account/").status_code == 200
    update_user(user, active=False)
    assert client.get("/account/").status_code == 302


def test_remember_me_sets_remember_cookie(make_user, log_in, client):
    make_user(email="ann@example.org")
    log_in("ann@example.org", remember="y")
    assert client.get_cookie("remember_token") is not None


def test_without_remember_me_there_is_no_remember_cookie(make_user, log_in, client):
    make_user(email="ann@example.org")
    log_in("ann@example.org")
    assert client.get_cookie("remember_token") is None
    assert client.get("/account/").status_code == 200


def test_remember_cookie_alone_keeps_user_logged_in(app, make_user, log_in, client):
    make_user(email="ann@example.org")
    log_in("ann@example.org", remember="y")
    fresh = app.test_client()
    fresh.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert fresh.get("/account/").status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "https://evil.example/account/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "events/",
    ],
)
def test_next_to_another_site_is_ignored(make_user, log_in, client, target):
    make_user(email="ann@example.org")
    assert input_value(client.get("/account/login", query_string={"next": target}), "next") == ""
    response = log_in("ann@example.org", next=target)
    assert response.headers["Location"] == "/"


def test_next_on_this_site_is_honoured_through_the_form(make_user, log_in, client):
    make_user(email="ann@example.org")
    form = client.get("/account/login", query_string={"next": "/events/"})
    assert input_value(form, "next") == "/events/"
    response = log_in("ann@example.org", next="/events/")
    assert response.headers["Location"] == "/events/"


def test_login_required_page_comes_back_after_login(make_user, log_in, client):
    make_user(email="ann@example.org")
    bounced = client.get("/account/")
    assert bounced.status_code == 302
    assert bounced.headers["Location"] == "/account/login?next=%2Faccount%2F"
    response = log_in("ann@example.org", next="/account/")
    assert response.headers["Location"] == "/account/"


def test_login_starts_a_new_session(make_user, log_in, client):
    make_user(email="ann@example.org")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    log_in("ann@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


def test_logged_in_user_is_sent_away_from_login(make_user, login_as, client):
    login_as(make_user())
    response = client.get("/account/login", query_string={"next": "/events/"})
    assert response.headers["Location"] == "/events/"


def test_login_rehashes_password_with_new_parameters(make_app, make_user, fetch_user):
    make_user(email="ann@example.org")
    old_hash = fetch_user("ann@example.org").password_hash
    assert old_hash.startswith("$argon2id$") and ",t=1," in old_hash
    dearer = make_app(ARGON2_TIME_COST=2)
    response = dearer.test_client().post(
        "/account/login", data={"email": "ann@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    new_hash = fetch_user("ann@example.org").password_hash
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$") and ",t=2," in new_hash


def test_logout_by_post_logs_out(make_user, login_as, client):
    login_as(make_user())
    response = client.post("/account/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/account/").status_code == 302


def test_logout_clears_remember_cookie(make_user, log_in, client):
    make_user(email="ann@example.org")
    log_in("ann@example.org", remember="y")
    client.post("/account/logout")
    assert client.get_cookie("remember_token") is None
    assert client.get("/account/").status_code == 302


def test_logout_by_get_is_not_allowed(make_user, login_as, client):
    login_as(make_user())
    response = client.get("/account/logout")
    assert response.status_code == 405
    assert client.get("/account/").status_code == 200
