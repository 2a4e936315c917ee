"""New members confirm their email address before they can post; demo and CLI users need not."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventmgr.accounts import service
from eventmgr.database import utcnow
from eventmgr.discussions import service as discussions_service
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from tests.accounts.conftest import csrf_token_from, flashes, page
from tests.conftest import DEFAULT_PASSWORD

CONFIRM_LINK = re.compile(r"https?://\S+(/account/confirm/\S+)")


def sign_up(client, email: str = "new@example.org"):
    return client.post(
        "/account/signup",
        data={
            "email": email,
            "display_name": "New Member",
            "password": DEFAULT_PASSWORD,
            "confirm_password": DEFAULT_PASSWORD,
        },
    )


@pytest.fixture
def emails(app):
    """Queued emails: (kind, recipient, text body)."""

    def read() -> list[tuple[str, str, str]]:
        with app.app_context():
            statement = select(
                OutboxMessage.kind, OutboxMessage.to_address, OutboxMessage.text_body
            ).order_by(OutboxMessage.id)
            return [tuple(row) for row in _db.session.execute(statement)]

    return read


def test_signup_queues_a_confirmation_email_and_leaves_the_address_unconfirmed(
    client, emails, fetch_user
):
    assert sign_up(client).status_code == 302
    [(kind, to, body)] = emails()
    assert (kind, to) == ("email_confirmation", "new@example.org")
    assert CONFIRM_LINK.search(body)
    assert not fetch_user("new@example.org").email_confirmed


def test_following_the_link_confirms_the_address(client, emails, fetch_user):
    sign_up(client)
    path = CONFIRM_LINK.search(emails()[0][2]).group(1)
    response = client.get(path, follow_redirects=True)
    assert "Thank you: your email address is confirmed." in flashes(response)
    assert fetch_user("new@example.org").email_confirmed
    # Following it again is harmless.
    assert client.get(path).status_code == 302


def test_a_bad_or_old_link_confirms_nothing(app, client, make_user, fetch_user):
    with app.app_context():
        user = service.create_user(
            email="ann@example.org",
            display_name="Ann",
            password=DEFAULT_PASSWORD,
            email_confirmed=False,
        )
        token = service.email_confirmation_token(user)
        _db.session.commit()
        too_late = utcnow() + timedelta(seconds=app.config["EMAIL_CONFIRMATION_MAX_AGE"] + 1)
        assert service.confirm_email(token, now=too_late) is None
        assert service.confirm_email(token + "x") is None
        assert service.confirm_email(service.password_reset_token(user)) is None
    response = client.get("/account/confirm/garbage", follow_redirects=True)
    assert "expired or is not valid" in flashes(response)[0]
    assert not fetch_user("ann@example.org").email_confirmed


def test_unconfirmed_members_can_log_in_but_see_the_resend_button(client, emails):
    sign_up(client)
    client.post("/account/logout")
    assert (
        client.post(
            "/account/login", data={"email": "new@example.org", "password": DEFAULT_PASSWORD}
        ).status_code
        == 302
    )
    html = page(client.get("/account/"))
    assert "Confirm your email address to join the discussion" in html.get_text()
    assert html.find("form", attrs={"action": "/account/confirm/resend"}) is not None
    response = client.post("/account/confirm/resend", follow_redirects=True)
    assert "We have sent a new confirmation link to new@example.org." in flashes(response)
    assert [kind for kind, _, _ in emails()] == ["email_confirmation"] * 2


def test_resend_needs_a_login(client):
    response = client.post("/account/confirm/resend")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_confirmed_members_see_no_resend_button(client, make_user, login_as):
    login_as(make_user())
    assert "Send the link again" not in client.get("/account/").get_data(as_text=True)


def test_unconfirmed_members_may_not_post_but_confirmed_ones_may(app, make_event, make_user):
    event = make_event(discussion_policy="members")
    with app.app_context():
        member = service.create_user(
            email="ann@example.org",
            display_name="Ann",
            password=DEFAULT_PASSWORD,
            email_confirmed=False,
        )
        topic = discussions_service.Topic(_db.session.get(type(event), event.id))
        assert (
            discussions_service.posting_refusal(topic, None, member)
            == "Confirm your email address to join the discussion."
        )
        service.confirm_email(service.email_confirmation_token(member))
        assert discussions_service.posting_refusal(topic, None, member) is None


def test_cli_and_directly_created_users_are_confirmed(runner, fetch_user):
    result = runner.invoke(
        args=["users", "create", "cli@example.org", "--password", DEFAULT_PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert fetch_user("cli@example.org").email_confirmed


def test_the_resend_button_carries_a_csrf_token_and_needs_it(csrf_client):
    token = csrf_token_from(csrf_client, "/account/signup")
    csrf_client.post(
        "/account/signup",
        data={
            "email": "new@example.org",
            "display_name": "New Member",
            "password": DEFAULT_PASSWORD,
            "confirm_password": DEFAULT_PASSWORD,
            "csrf_token": token,
        },
    )
    form = page(csrf_client.get("/account/")).find(
        "form", attrs={"action": "/account/confirm/resend"}
    )
    resend_token = form.find("input", attrs={"name": "csrf_token"})["value"]
    assert csrf_client.post("/account/confirm/resend").status_code == 400
    response = csrf_client.post("/account/confirm/resend", data={"csrf_token": resend_token})
    assert response.status_code == 302
