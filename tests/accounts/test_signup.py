"""Signing up at /account/signup."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import field_error, input_value, page, user_count

UNICODE_PASSWORD = "pässwörd-日本語-ok!"


def signup_data(**overrides):
    data = {
        "email": "ann@example.org",
        "display_name": "Ann Example",
        "organisation": "ISKO UK",
        "password": "a long enough password",
        "confirm_password": "a long enough password",
    }
    data.update(overrides)
    if "password" in overrides and "confirm_password" not in overrides:
        data["confirm_password"] = overrides["password"]
    return data


def test_signup_page_has_labelled_fields_with_autocomplete(client):
    html = page(client.get("/account/signup"))
    assert len(html.find_all("h1")) == 1
    expected = {
        "email": "email",
        "display_name": "name",
        "organisation": "organization",
        "password": "new-password",
        "confirm_password": "new-password",
    }
    for field_id, autocomplete in expected.items():
        assert html.find("label", attrs={"for": field_id}) is not None
        assert html.find(id=field_id)["autocomplete"] == autocomplete
    # A browser would silently cut a longer pasted password to maxlength.
    assert not html.find(id="password").has_attr("maxlength")


def test_signup_creates_account_and_logs_in(client, fetch_user):
    response = client.post("/account/signup", data=signup_data(email="Ann@Example.org"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = fetch_user("ann@example.org")
    assert user.email == "ann@example.org"
    assert (user.display_name, user.organisation, user.role) == ("Ann Example", "ISKO UK", "member")
    account = client.get("/account/")
    assert account.status_code == 200
    assert "ann@example.org" in account.get_data(as_text=True)


def test_signup_goes_to_safe_next_page(client):
    response = client.post("/account/signup", data=signup_data(next="/events/"))
    assert response.headers["Location"] == "/events/"


def test_signup_ignores_next_page_on_another_site(client):
    response = client.post("/account/signup", data=signup_data(next="https://evil.example/"))
    assert response.headers["Location"] == "/"


def test_signup_refuses_email_taken_in_another_case(client, app, make_user):
    make_user(email="ann@example.org")
    response = client.post(
        "/account/signup", data=signup_data(email="ANN@Example.ORG", display_name="Other Ann")
    )
    assert response.status_code == 200
    assert "already exists" in field_error(response, "email")
    assert input_value(response, "display_name") == "Other Ann"
    assert user_count(app) == 1
    assert client.get("/account/").status_code == 302  # not logged in


@pytest.mark.parametrize(
    ("length", "accepted"), [(11, False), (12, True), (128, True), (129, False)]
)
def test_password_length_limits(client, app, length, accepted):
    password = "p" * length
    response = client.post("/account/signup", data=signup_data(password=password))
    assert (response.status_code == 302) is accepted
    assert user_count(app) == (1 if accepted else 0)
    if not accepted:
        assert field_error(response, "password")
        assert input_value(response, "password") == ""  # passwords are never sent back


def test_unicode_password_works_for_signup_and_login(client, log_in):
    client.post("/account/signup", data=signup_data(password=UNICODE_PASSWORD))
    client.post("/account/logout")
    response = log_in("ann@example.org", UNICODE_PASSWORD)
    assert response.status_code == 302


def test_password_is_not_truncated(client, log_in):
    password = "x" * 72 + "-the end matters"
    client.post("/account/signup", data=signup_data(password=password))
    client.post("/account/logout")
    assert log_in("ann@example.org", "x" * 72 + "-a different end").status_code == 200
    assert log_in("ann@example.org", password).status_code == 302


def test_passwords_must_match(client, app):
    response = client.post(
        "/account/signup",
        data=signup_data(password="a long enough password", confirm_password="a different one!"),
    )
    assert "do not match" in field_error(response, "confirm_password")
    assert user_count(app) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "a" * 243 + "@example.org"),  # 255 characters
        ("email", "not an email"),
        ("email", ""),
        ("display_name", "x" * 101),
        ("display_name", "   "),
        ("organisation", "x" * 201),
    ],
)
def test_invalid_fields_show_error_beside_field_and_keep_input(client, app, field, value):
    response = client.post("/account/signup", data=signup_data(**{field: value}))
    assert response.status_code == 200
    assert field_error(response, field)
    assert page(response).select_one(".error-summary") is not None
    if value.strip():
        assert input_value(response, field) == value
    assert user_count(app) == 0


def test_logged_in_member_is_sent_away_from_signup(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/account/signup").status_code == 302
