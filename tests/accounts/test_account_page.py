"""The member's own account page: profile, notification settings and password."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import field_error, flashes, input_value, page
from tests.conftest import DEFAULT_PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def profile_data(**overrides):
    data = {
        "profile-display_name": "Ann B.",
        "profile-organisation": "ISKO UK",
        "profile-bio": "Taxonomies and thesauri.",
        "profile-notify_event_updates": "y",  # notify_replies left unticked
    }
    data.update(overrides)
    return data


def password_data(current=DEFAULT_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return {
        "password-current_password": current,
        "password-new_password": new,
        "password-confirm_password": new if confirm is None else confirm,
    }


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_page_shows_current_profile_and_both_forms(make_user, login_as, client):
    login_as(make_user(email="ann@example.org", display_name="Ann", organisation="NetIKX"))
    response = client.get("/account/")
    html = page(response)
    assert [h1.get_text() for h1 in html.find_all("h1")] == ["Your account"]
    assert [h2.get_text() for h2 in html.find_all("h2")] == [
        "Profile and notifications",
        "Change password",
        "Where you’re signed in",
    ]
    assert input_value(response, "profile-display_name") == "Ann"
    assert input_value(response, "profile-organisation") == "NetIKX"
    assert html.find(id="profile-notify_replies").has_attr("checked")
    assert html.find(id="password-new_password")["autocomplete"] == "new-password"
    assert html.find(id="password-current_password")["autocomplete"] == "current-password"


def test_profile_changes_are_saved(make_user, login_as, client, fetch_user):
    user = make_user(email="ann@example.org")
    login_as(user)
    response = client.post("/account/", data=profile_data())
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    saved = fetch_user("ann@example.org")
    assert (saved.display_name, saved.organisation, saved.bio) == (
        "Ann B.",
        "ISKO UK",
        "Taxonomies and thesauri.",
    )
    assert saved.notify_replies is False
    assert saved.notify_event_updates is True
    assert "Your profile has been saved." in flashes(client.get("/account/"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", "x" * 101),
        ("display_name", "   "),
        ("organisation", "x" * 201),
        ("bio", "x" * 2001),
    ],
)
def test_invalid_profile_shows_field_error_and_keeps_input(
    make_user, login_as, client, fetch_user, field, value
):
    user = make_user(email="ann@example.org", display_name="Ann")
    login_as(user)
    data = profile_data(**{f"profile-{field}": value})
    response = client.post("/account/", data=data)
    assert response.status_code == 200
    assert field_error(response, f"profile-{field}")
    assert field_error(response, "password-current_password") is None
    if value.strip():
        assert input_value(response, f"profile-{field}") == value
    assert input_value(response, "profile-organisation") == data["profile-organisation"]
    assert fetch_user("ann@example.org").display_name == "Ann"


def test_password_change_keeps_this_session_and_ends_others(
    app, make_user, login_as, client, fetch_user, log_in
):
    user = make_user(email="ann@example.org")
    other_device = app.test_client()
    login_as(user)
    login_as(user, other_device)
    assert other_device.get("/account/").status_code == 200

    response = client.post("/account/password", data=password_data())
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    assert other_device.get("/account/").status_code == 302

    client.post("/account/logout")
    assert log_in("ann@example.org", DEFAULT_PASSWORD).status_code == 200
    assert log_in("ann@example.org", NEW_PASSWORD).status_code == 302


def test_password_change_renews_remember_cookie(make_user, log_in, client):
    make_user(email="ann@example.org")
    log_in("ann@example.org", remember="y")
    old_cookie = client.get_cookie("remember_token").value
    client.post("/account/password", data=password_data())
    new_cookie = client.get_cookie("remember_token").value
    assert new_cookie != old_cookie


def test_wrong_current_password_is_refused(make_user, login_as, client, fetch_user):
    user = make_user(email="ann@example.org")
    login_as(user)
    response = client.post("/account/password", data=password_data(current="not my password"))
    assert response.status_code == 200
    assert "not correct" in field_error(response, "password-current_password")
    assert input_value(response, "profile-display_name") == user.display_name
    assert client.get("/account/").status_code == 200
    stored = fetch_user("ann@example.org")
    assert stored.password_hash == user.password_hash


@pytest.mark.parametrize(
    ("new", "confirm", "field"),
    [
        ("too short", None, "password-new_password"),
        ("p" * 129, None, "password-new_password"),
        (NEW_PASSWORD, "something else entirely", "password-confirm_password"),
    ],
)
def test_invalid_new_password_is_refused(
    make_user, login_as, client, fetch_user, new, confirm, field
):
    user = make_user(email="ann@example.org")
    login_as(user)
    response = client.post("/account/password", data=password_data(new=new, confirm=confirm))
    assert response.status_code == 200
    assert field_error(response, field)
    assert fetch_user("ann@example.org").password_hash == user.password_hash


def test_password_form_needs_login(client):
    response = client.post("/account/password", data=password_data())
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
