"""A password equal to the email address, the display name or the site's name is refused."""

from __future__ import annotations

import pytest

from eventmgr.accounts import service
from tests.accounts.conftest import field_error
from tests.conftest import DEFAULT_PASSWORD

EMAIL = "ann.example@example.org"
NAME = "Ann Example-Person"


@pytest.mark.parametrize(
    "password", [EMAIL, EMAIL.upper(), f" {NAME.lower()} "[1:-1], "EventMgr Site Name"]
)
def test_signup_refuses_guessable_passwords(make_app, password):
    client = make_app(SITE_NAME="eventmgr site name").test_client()
    response = client.post(
        "/account/signup",
        data={
            "email": EMAIL,
            "display_name": NAME,
            "password": password,
            "confirm_password": password,
        },
    )
    assert response.status_code == 200
    assert field_error(response, "password") == service.PASSWORD_GUESSABLE_MESSAGE


def test_a_password_that_merely_contains_the_name_is_fine(app):
    with app.app_context():
        user = service.create_user(
            email=EMAIL, display_name=NAME, password=f"{NAME} likes long walks"
        )
        assert user.id is not None


def test_changing_to_a_guessable_password_is_refused(client, make_user, login_as):
    user = make_user(email=EMAIL, display_name=NAME)
    login_as(user)
    response = client.post(
        "/account/password",
        data={
            "password-current_password": DEFAULT_PASSWORD,
            "password-new_password": NAME.upper(),
            "password-confirm_password": NAME.upper(),
        },
    )
    assert response.status_code == 200
    assert field_error(response, "password-new_password") == service.PASSWORD_GUESSABLE_MESSAGE


def test_the_cli_refuses_a_guessable_password(runner):
    result = runner.invoke(
        args=["users", "create", EMAIL, "--name", NAME, "--password", EMAIL.upper()]
    )
    assert result.exit_code != 0
    assert service.PASSWORD_GUESSABLE_MESSAGE in result.output
