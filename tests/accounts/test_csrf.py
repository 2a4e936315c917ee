"""With CSRF enforced, as in production, account forms need the token and save nothing without it."""

from __future__ import annotations

from tests.accounts.conftest import csrf_token_from, user_count
from tests.conftest import DEFAULT_PASSWORD

SIGNUP = {
    "email": "ann@example.org",
    "display_name": "Ann",
    "password": "a long enough password",
    "confirm_password": "a long enough password",
}


def test_signup_without_token_is_refused_and_saves_nothing(csrf_client):
    response = csrf_client.post("/account/signup", data=SIGNUP)
    assert response.status_code == 400
    assert user_count(csrf_client.application) == 0


def test_signup_with_token_works(csrf_client):
    token = csrf_token_from(csrf_client, "/account/signup")
    response = csrf_client.post("/account/signup", data={**SIGNUP, "csrf_token": token})
    assert response.status_code == 302
    assert user_count(csrf_client.application) == 1


def test_login_without_token_is_refused(csrf_client, make_user):
    make_user(email="ann@example.org")
    response = csrf_client.post(
        "/account/login", data={"email": "ann@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 400
    assert csrf_client.get("/account/").status_code == 302


def test_login_with_token_works(csrf_client, make_user):
    make_user(email="ann@example.org")
    token = csrf_token_from(csrf_client, "/account/login")
    response = csrf_client.post(
        "/account/login",
        data={"email": "ann@example.org", "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert csrf_client.get("/account/").status_code == 200


def test_logout_without_token_is_refused(csrf_client, make_user, login_as):
    login_as(make_user(), csrf_client)
    assert csrf_client.post("/account/logout").status_code == 400
    assert csrf_client.get("/account/").status_code == 200


def test_logout_with_the_layout_token_works(csrf_client, make_user, login_as):
    login_as(make_user(), csrf_client)
    token = csrf_token_from(csrf_client, "/account/")  # the header's log-out form comes first
    assert csrf_client.post("/account/logout", data={"csrf_token": token}).status_code == 302
    assert csrf_client.get("/account/").status_code == 302


def test_password_change_without_token_is_refused(csrf_client, make_user, login_as, fetch_user):
    user = make_user(email="ann@example.org")
    login_as(user, csrf_client)
    response = csrf_client.post(
        "/account/password",
        data={
            "password-current_password": DEFAULT_PASSWORD,
            "password-new_password": "a brand new passphrase",
            "password-confirm_password": "a brand new passphrase",
        },
    )
    assert response.status_code == 400
    assert fetch_user("ann@example.org").password_hash == user.password_hash


def test_role_change_without_token_is_refused(csrf_client, make_user, login_as, fetch_user):
    admin = make_user(role="admin")
    member = make_user(email="max@example.org")
    login_as(admin, csrf_client)
    response = csrf_client.post(
        f"/account/users/{member.id}/role", data={f"user-{member.id}-role": "admin"}
    )
    assert response.status_code == 400
    assert fetch_user("max@example.org").role == "member"
