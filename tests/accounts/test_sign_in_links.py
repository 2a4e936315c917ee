"""One-time sign-in links: the way in that a stranger tripping the log-in failure limit cannot shut.

The per-account failure limit (RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT) counts failures for whatever
address is typed, so anyone can trip it for a member. While it holds, a member who can read their
email still gets in: with a sign-in link, or by resetting the password (which then logs them in).
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from eventmgr.accounts import service
from eventmgr.accounts.models import UserSession
from eventmgr.database import utcnow
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from tests.accounts.conftest import field_error, flashes, input_value, page
from tests.conftest import DEFAULT_PASSWORD

SIGN_IN_LINK = re.compile(r"https?://[^/\s]+(/account/login/link/\S+)")
RESET_LINK = re.compile(r"https?://[^/\s]+(/account/reset/\S+)")
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def limited_app(make_app):
    """Limits on, with the account's failure limit low and the per-address one out of the way."""
    return make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN_PER_IP="1000 per minute",
        RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT="3 per hour",
    )


def last_link(app, pattern: re.Pattern, to: str) -> str:
    """The path of the link in the last email queued for `to`."""
    with app.app_context():
        body = _db.session.scalar(
            select(OutboxMessage.text_body)
            .where(OutboxMessage.to_address == to)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    return pattern.search(body).group(1)


def emails_to(app, to: str) -> int:
    with app.app_context():
        statement = select(func.count()).where(OutboxMessage.to_address == to)
        return _db.session.scalar(statement.select_from(OutboxMessage))


def device_sessions(app, user) -> int:
    with app.app_context():
        statement = select(func.count()).where(UserSession.user_id == user.id)
        return _db.session.scalar(statement.select_from(UserSession))


def lock_out(client, email: str, times: int = 3) -> None:
    """Fail to log in as `email` until its failure limit holds, as a stranger could."""
    for _ in range(times):
        response = client.post("/account/login", data={"email": email, "password": "guess guess"})
        assert response.status_code == 200


def ask_for_link(client, email: str):
    return client.post("/account/login/link", data={"email": email})


def test_the_login_page_always_offers_a_sign_in_link(client):
    html = page(client.get("/account/login"))
    assert html.find("a", href="/account/login/link").get_text(strip=True) == (
        "Email me a sign-in link"
    )
    assert html.find(class_="locked-notice") is None


def test_a_locked_account_refuses_its_password_and_puts_the_sign_in_link_first(
    limited_app, make_user
):
    make_user(email="ann@example.org")
    stranger, ann = limited_app.test_client(), limited_app.test_client()
    lock_out(stranger, "ann@example.org")
    refused = ann.post(
        "/account/login", data={"email": "ann@example.org", "password": DEFAULT_PASSWORD}
    )
    assert refused.status_code == 429
    html = page(refused)
    notice = html.find(class_="locked-notice")
    assert "too many failed attempts" in notice.get_text(" ", strip=True)
    form = notice.find("form", action="/account/login/link")
    assert form.find("input", attrs={"name": "email"})["value"] == "ann@example.org"
    assert form.find("button").get_text(strip=True) == "Email me a sign-in link"
    assert input_value(refused, "email") == "ann@example.org"


def test_a_locked_out_member_gets_in_with_a_sign_in_link(limited_app, make_user, fetch_user):
    user = make_user(email="ann@example.org", display_name="Ann")
    stranger, ann = limited_app.test_client(), limited_app.test_client()
    lock_out(stranger, "ann@example.org")
    sent = ask_for_link(ann, "ANN@example.org ")
    assert sent.status_code == 302
    path = last_link(limited_app, SIGN_IN_LINK, "ann@example.org")
    # Opening the link (as a mail scanner would) spends nothing: it shows a button.
    shown = ann.get(path)
    assert shown.status_code == 200
    assert page(shown).find("form", action=path) is not None
    sessions_before = device_sessions(limited_app, user)
    signed_in = ann.post(path, follow_redirects=True)
    assert signed_in.request.path == "/"
    assert "Welcome back, Ann." in flashes(signed_in)
    assert ann.get("/account/").status_code == 200
    # A normal device session, listed on the account page.
    assert device_sessions(limited_app, user) == sessions_before + 1
    # The password is still refused while the limit holds.
    assert (
        stranger.post(
            "/account/login", data={"email": "ann@example.org", "password": DEFAULT_PASSWORD}
        ).status_code
        == 429
    )
    assert fetch_user("ann@example.org").sign_in_nonce is None


def test_a_sign_in_link_works_once(client, make_user):
    make_user(email="ann@example.org")
    ask_for_link(client, "ann@example.org")
    path = last_link(client.application, SIGN_IN_LINK, "ann@example.org")
    assert client.post(path).status_code == 302
    client.post("/account/logout")
    for reuse in (client.get, client.post):
        refused = reuse(path, follow_redirects=True)
        assert refused.request.path == "/account/login/link"
        assert "expired or has already been used" in " ".join(flashes(refused))
    assert client.get("/account/").status_code == 302


def signed_in_the_past(app, user, seconds: int) -> str:
    """A sign-in token for `user` as if it had been signed `seconds` ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    with app.app_context():
        stored = _db.session.get(type(user), user.id)
        service.sign_in_link_token(stored)  # gives the user a nonce
        _db.session.commit()
        serializer = URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt=service.SIGN_IN_LINK_SALT, signer=Earlier
        )
        return serializer.dumps({"user": stored.id, "nonce": stored.sign_in_nonce})


def test_using_one_link_spends_every_link_sent_before_it(app, client, make_user):
    user = make_user(email="ann@example.org")
    first = f"/account/login/link/{signed_in_the_past(app, user, 60)}"
    ask_for_link(client, "ann@example.org")
    second = last_link(app, SIGN_IN_LINK, "ann@example.org")
    assert first != second
    # Both work until one is used (a stranger asking again does not spoil the member's email).
    assert client.get(first).status_code == 200
    assert client.post(second).status_code == 302
    client.post("/account/logout")
    assert client.post(first).headers["Location"] == "/account/login/link"


def test_an_expired_sign_in_link_is_refused(app, client, make_user):
    user = make_user(email="ann@example.org")
    assert app.config["SIGN_IN_LINK_MAX_AGE"] == 15 * 60
    fresh = signed_in_the_past(app, user, 14 * 60)
    assert client.get(f"/account/login/link/{fresh}").status_code == 200
    expired = signed_in_the_past(app, user, 15 * 60 + 5)
    refused = client.post(f"/account/login/link/{expired}", follow_redirects=True)
    assert refused.request.path == "/account/login/link"
    assert client.get("/account/").status_code == 302
    # The fresh one still works: the refusal spent nothing.
    assert client.post(f"/account/login/link/{fresh}").status_code == 302


def test_the_sign_in_link_lifetime_is_configurable(make_app, make_user):
    app = make_app(SIGN_IN_LINK_MAX_AGE=120)
    user = make_user(email="ann@example.org")
    with app.app_context():
        stored = _db.session.get(type(user), user.id)
        token = service.sign_in_link_token(stored)
        later = utcnow() + timedelta(seconds=100)
        assert service.user_for_sign_in_link(token, now=later) is stored
        too_late = utcnow() + timedelta(seconds=130)
        assert service.user_for_sign_in_link(token, now=too_late) is None


@pytest.mark.parametrize("token", ["", "x", "eyJ1c2VyIjoxfQ.AAAAAA.forged"])
def test_forged_sign_in_tokens_are_refused(app, make_user, token):
    with app.app_context():
        make_user()
        assert service.user_for_sign_in_link(token) is None
        assert service.use_sign_in_link(token) is None


def test_reset_and_confirmation_tokens_are_not_sign_in_tokens(app, make_user):
    with app.app_context():
        user = make_user()
        for token in (service.password_reset_token(user), service.email_confirmation_token(user)):
            assert service.user_for_sign_in_link(token) is None


def test_a_password_change_spends_outstanding_sign_in_links(client, make_user, log_in):
    make_user(email="ann@example.org")
    ask_for_link(client, "ann@example.org")
    path = last_link(client.application, SIGN_IN_LINK, "ann@example.org")
    client.post("/account/reset", data={"email": "ann@example.org"})
    reset = last_link(client.application, RESET_LINK, "ann@example.org")
    client.post(reset, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    client.post("/account/logout")
    assert client.post(path).headers["Location"] == "/account/login/link"


def test_inactive_members_get_no_sign_in_link(client, make_user, update_user):
    user = make_user(email="ann@example.org")
    ask_for_link(client, "ann@example.org")
    path = last_link(client.application, SIGN_IN_LINK, "ann@example.org")
    update_user(user, active=False)
    assert ask_for_link(client, "ann@example.org").status_code == 302
    assert emails_to(client.application, "ann@example.org") == 1
    assert client.post(path).headers["Location"] == "/account/login/link"


def test_a_sign_in_link_confirms_the_address(client, make_user, update_user, fetch_user):
    user = make_user(email="ann@example.org")
    update_user(user, email_confirmed_at=None)
    ask_for_link(client, "ann@example.org")
    client.post(last_link(client.application, SIGN_IN_LINK, "ann@example.org"))
    assert fetch_user("ann@example.org").email_confirmed


def test_a_locked_out_member_can_reset_the_password_and_is_then_logged_in(limited_app, make_user):
    make_user(email="ann@example.org")
    stranger, ann = limited_app.test_client(), limited_app.test_client()
    lock_out(stranger, "ann@example.org")
    assert ann.post("/account/reset", data={"email": "ann@example.org"}).status_code == 302
    path = last_link(limited_app, RESET_LINK, "ann@example.org")
    changed = ann.post(
        path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        follow_redirects=True,
    )  # fmt: skip
    assert changed.request.path == "/"
    assert "you are logged in" in " ".join(flashes(changed))
    assert ann.get("/account/").status_code == 200


def answer(client, email: str) -> tuple[int, str, str, list[str]]:
    """Everything a visitor learns from asking for a link: status, where it leads, what it says."""
    response = client.post("/account/login/link", data={"email": email})
    followed = client.get(response.headers["Location"]) if response.status_code == 302 else None
    text = page(followed or response).find("main").get_text(" ", strip=True)
    return (
        response.status_code,
        response.headers.get("Location", ""),
        text,
        flashes(followed or response),
    )


def test_asking_for_a_link_never_tells_whether_the_address_has_an_account(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGN_IN_LINK_PER_RECIPIENT="2 per hour")
    make_user(email="ann@example.org")
    client = app.test_client()
    for attempt in range(3):
        member = answer(client, "ann@example.org")
        nobody = answer(client, "nobody@example.org")
        assert member == nobody, attempt
    assert member[0] == 429
    assert emails_to(app, "ann@example.org") == 2
    assert emails_to(app, "nobody@example.org") == 0


def test_sign_in_links_are_limited_per_recipient_and_the_form_is_kept(make_app, make_user):
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_IP="1000 per minute", PROXY_FIX_COUNT=1
    )
    make_user(email="ann@example.org")
    client = app.test_client()
    statuses = [
        client.post(
            "/account/login/link",
            data={"email": "Ann@example.org"},
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
        ).status_code
        for number in range(1, 8)
    ]
    assert statuses == [302] * 5 + [429] * 2
    refused = ask_for_link(client, "ann@example.org")
    assert "Several sign-in links have been asked for this address" in field_error(refused, "email")
    assert input_value(refused, "email") == "ann@example.org"
    assert int(refused.headers["Retry-After"]) > 0
    assert emails_to(app, "ann@example.org") == 5


def test_sign_in_link_requests_are_limited_per_client_address(make_app):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    for number in range(6):
        assert ask_for_link(client, f"a{number}@example.org").status_code == 302
    assert ask_for_link(client, "a9@example.org").status_code == 429
