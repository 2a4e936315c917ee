"""Sessions per device: log-out and password change, listing and ending sessions on the account
page, idle and absolute lifetimes, remember-me, pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventmgr.accounts import service
from eventmgr.accounts.models import User, UserSession
from eventmgr.accounts.user_agents import describe_user_agent
from eventmgr.accounts.views import SEEN_AT_KEY
from eventmgr.config import load_config
from eventmgr.database import utcnow
from eventmgr.extensions import db as _db
from tests.accounts.conftest import flashes, page
from tests.conftest import DEFAULT_PASSWORD

NEW_PASSWORD = "another long passphrase"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def log_in_through_form(client, email: str = "ann@example.org", **extra) -> None:
    response = client.post(
        "/account/login", data={"email": email, "password": DEFAULT_PASSWORD, **extra}
    )
    assert response.status_code == 302


def device(app, user_agent: str = FIREFOX_LINUX, address: str = "192.0.2.10"):
    """A browser of its own: a test client with its own cookies, user agent and address."""
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    return client


def session_id_of(client) -> int:
    """The id of the device session the client's session cookie names."""
    with client.session_transaction() as session:
        return service.parse_session_identifier(session["_user_id"]).session_id


def stored_sessions(app, email: str = "ann@example.org") -> list[UserSession]:
    """The user's device sessions as stored, most recently active first (detached)."""
    with app.app_context():
        user = service.get_user_by_email(email)
        sessions = service.list_sessions(user)
        _db.session.expunge_all()
        return sessions


def shift_row(app, session_id: int, *, seen_minutes_ago=None, login_hours_ago=None) -> None:
    """Move a stored session's last-seen or login time into the past."""
    now = utcnow()
    with app.app_context():
        user_session = _db.session.get(UserSession, session_id)
        if seen_minutes_ago is not None:
            user_session.last_seen_at = now - timedelta(minutes=seen_minutes_ago)
        if login_hours_ago is not None:
            user_session.created_at = now - timedelta(hours=login_hours_ago)
        _db.session.commit()


def replay(app, cookie_name: str, value: str):
    """A second browser that presents a copied cookie; returns its answer for /account/."""
    other = app.test_client()
    other.set_cookie(cookie_name, value)
    return other.get("/account/")


def change_password(client):
    return client.post(
        "/account/password",
        data={
            "password-current_password": DEFAULT_PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-confirm_password": NEW_PASSWORD,
        },
    )


# Copied cookies and log-out ----------------------------------------------------------------------


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


def test_logging_out_on_one_device_leaves_the_others_signed_in(app, make_user):
    make_user(email="ann@example.org")
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    log_in_through_form(laptop)
    log_in_through_form(phone)
    laptop_session, phone_session = session_id_of(laptop), session_id_of(phone)
    laptop.post("/account/logout")
    assert laptop.get("/account/").status_code == 302
    assert phone.get("/account/").status_code == 200
    remaining = {s.id for s in stored_sessions(app)}
    assert phone_session in remaining
    assert laptop_session not in remaining


def test_each_login_records_a_device_session(app, make_user):
    user = make_user(email="ann@example.org")
    laptop = device(app, FIREFOX_LINUX, "198.51.100.7")
    log_in_through_form(laptop, remember="y")
    stored = next(s for s in stored_sessions(app) if s.id == session_id_of(laptop))
    assert stored.user_id == user.id
    assert stored.user_agent == FIREFOX_LINUX
    assert stored.ip_address == "198.51.100.7"
    assert stored.remember is True
    assert utcnow() - stored.created_at < timedelta(minutes=1)
    assert stored.last_seen_at == stored.created_at


def test_a_long_user_agent_is_cut_to_the_column_size(app, make_user):
    make_user(email="ann@example.org")
    client = device(app, "X" * 1000)
    log_in_through_form(client)
    stored = next(s for s in stored_sessions(app) if s.id == session_id_of(client))
    assert stored.user_agent == "X" * 255


# Password change and reset -----------------------------------------------------------------------


def test_a_session_cookie_copied_before_a_password_change_is_refused_afterwards(
    app, client, make_user
):
    make_user(email="ann@example.org")
    log_in_through_form(client)
    copied = client.get_cookie("session").value
    assert change_password(client).status_code == 302
    assert client.get("/account/").status_code == 200  # this browser stays logged in
    assert replay(app, "session", copied).status_code == 302


def test_password_change_signs_out_other_devices_and_renews_this_one(app, make_user):
    make_user(email="ann@example.org")
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    log_in_through_form(laptop)
    log_in_through_form(phone)
    before = session_id_of(laptop)
    response = change_password(laptop)
    assert response.status_code == 302
    assert "Your password has been changed. Other devices have been logged out." in flashes(
        laptop.get("/account/")
    )
    assert phone.get("/account/").status_code == 302
    after = session_id_of(laptop)
    # A new row, not the old one kept: whatever named the old session before is worthless.
    assert after != before
    assert [s.id for s in stored_sessions(app)] == [after]


def test_a_refused_password_change_ends_no_session(app, make_user):
    make_user(email="ann@example.org")
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    log_in_through_form(laptop)
    log_in_through_form(phone)
    laptop.post("/account/password", data={"password-current_password": "wrong password"})
    assert phone.get("/account/").status_code == 200
    assert laptop.get("/account/").status_code == 200


# The account page's list of sessions ---------------------------------------------------------------


def test_the_account_page_lists_every_session_and_marks_this_device(app, make_user):
    make_user(email="ann@example.org")
    laptop = device(app, FIREFOX_LINUX, "198.51.100.7")
    phone = device(app, SAFARI_IPHONE, "203.0.113.9")
    log_in_through_form(laptop)
    log_in_through_form(phone)
    html = page(laptop.get("/account/"))
    section = html.find("section", id="sessions")
    items = section.select("li.session")
    # make_user's own "pytest" session, then the two browsers.
    assert len(items) == 3
    by_browser = {item.h3.get_text(" ", strip=True): item for item in items}
    this_device = by_browser["Firefox on Linux This device"]
    assert this_device["aria-current"] == "true"
    assert "198.51.100.7" in this_device.get_text()
    assert this_device.find("form") is None  # sign this device out with "Log out"
    other = by_browser["Safari on iOS"]
    assert "203.0.113.9" in other.get_text()
    signed_in, last_active = other.find_all("time")
    assert datetime.fromisoformat(signed_in["datetime"]).tzinfo is not None
    assert datetime.fromisoformat(last_active["datetime"]).tzinfo is not None
    assert other.find("form")["action"] == f"/account/sessions/{session_id_of(phone)}/sign-out"
    assert section.find("button", string="Sign out all other sessions") is not None


def test_the_account_page_leaves_out_expired_sessions(app, make_user):
    make_user(email="ann@example.org")
    laptop, old_phone = device(app), device(app, SAFARI_IPHONE)
    log_in_through_form(laptop)
    log_in_through_form(old_phone)
    # Unused for longer than the idle limit: it signs nobody in, though not yet pruned.
    idle = app.config["SESSION_IDLE_MINUTES"] + service.LAST_SEEN_INTERVAL.total_seconds() / 60
    shift_row(app, session_id_of(old_phone), seen_minutes_ago=idle + 1)
    html = page(laptop.get("/account/"))
    browsers = [item.h3.get_text(" ", strip=True) for item in html.select("#sessions li.session")]
    assert "Safari on iOS" not in browsers
    assert "Firefox on Linux This device" in browsers
    assert session_id_of(old_phone) in {row.id for row in stored_sessions(app)}


def test_with_one_session_there_is_nothing_else_to_sign_out(app, make_user):
    make_user(email="ann@example.org")
    client = device(app)
    log_in_through_form(client)
    with app.app_context():
        user = service.get_user_by_email("ann@example.org")
        service.end_all_sessions(user, keep=_db.session.get(UserSession, session_id_of(client)))
        _db.session.commit()
    section = page(client.get("/account/")).find("section", id="sessions")
    assert len(section.select("li.session")) == 1
    assert section.find("button", string="Sign out all other sessions") is None


def test_ending_another_session_refuses_its_cookie(app, make_user):
    make_user(email="ann@example.org")
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    log_in_through_form(laptop)
    log_in_through_form(phone)
    phone_cookie = phone.get_cookie("session").value
    response = laptop.post(f"/account/sessions/{session_id_of(phone)}/sign-out")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert "Signed out the session on Safari on iOS." in flashes(laptop.get("/account/"))
    assert phone.get("/account/").status_code == 302
    assert replay(app, "session", phone_cookie).status_code == 302
    assert laptop.get("/account/").status_code == 200


def test_ending_a_remembered_session_refuses_its_remember_cookie(app, make_user):
    make_user(email="ann@example.org")
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    log_in_through_form(laptop)
    log_in_through_form(phone, remember="y")
    remembered = phone.get_cookie("remember_token").value
    assert replay(app, "remember_token", remembered).status_code == 200
    laptop.post(f"/account/sessions/{session_id_of(phone)}/sign-out")
    assert replay(app, "remember_token", remembered).status_code == 302


def test_nobody_can_end_someone_elses_session(app, make_user):
    make_user(email="ann@example.org")
    make_user(email="bob@example.org")
    ann, bob = device(app), device(app, SAFARI_IPHONE)
    log_in_through_form(ann)
    log_in_through_form(bob, "bob@example.org")
    # The same answer as for a session already signed out: nothing tells whose it is.
    for session_id in (session_id_of(bob), 999999):
        response = ann.post(f"/account/sessions/{session_id}/sign-out", follow_redirects=True)
        assert response.status_code == 200
        assert "That session is already signed out." in response.get_data(as_text=True)
    assert bob.get("/account/").status_code == 200


def test_signing_out_this_devices_own_session_logs_out(app, make_user):
    make_user(email="ann@example.org")
    laptop = device(app)
    log_in_through_form(laptop)
    response = laptop.post(f"/account/sessions/{session_id_of(laptop)}/sign-out")
    assert response.status_code == 302
    assert laptop.get("/account/").status_code == 302


def test_sign_out_all_other_sessions_keeps_this_one(app, make_user):
    make_user(email="ann@example.org")
    laptop, phone, tablet = device(app), device(app, SAFARI_IPHONE), device(app, "Mozilla/5.0")
    for client in (laptop, phone, tablet):
        log_in_through_form(client)
    response = laptop.post("/account/sessions/sign-out-others")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    # make_user's "pytest" session, the phone and the tablet.
    assert "Signed out 3 other sessions. This device stays signed in." in flashes(
        laptop.get("/account/")
    )
    assert phone.get("/account/").status_code == 302
    assert tablet.get("/account/").status_code == 302
    assert [s.id for s in stored_sessions(app)] == [session_id_of(laptop)]
    laptop.post("/account/sessions/sign-out-others")
    assert "You were not signed in anywhere else." in flashes(laptop.get("/account/"))


def test_session_buttons_need_a_csrf_token(csrf_client, make_user):
    make_user(email="ann@example.org")
    log_in_through_form_with_token(csrf_client)
    other_id = next(
        s.id for s in stored_sessions(csrf_client.application) if s.user_agent == "pytest"
    )
    for url in (f"/account/sessions/{other_id}/sign-out", "/account/sessions/sign-out-others"):
        assert csrf_client.post(url).status_code == 400
    assert len(stored_sessions(csrf_client.application)) == 2
    html = page(csrf_client.get("/account/"))
    form = html.find("form", action=f"/account/sessions/{other_id}/sign-out")
    token = form.find("input", attrs={"name": "csrf_token"})["value"]
    response = csrf_client.post(form["action"], data={"csrf_token": token})
    assert response.status_code == 302
    assert len(stored_sessions(csrf_client.application)) == 1


def log_in_through_form_with_token(client, email: str = "ann@example.org") -> None:
    html = page(client.get("/account/login"))
    token = html.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(
        "/account/login", data={"email": email, "password": DEFAULT_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_account_page_query_count_does_not_grow_with_sessions(app, make_user, count_queries):
    make_user(email="ann@example.org")
    client = device(app)
    log_in_through_form(client)
    client.get("/account/")  # warm up: nothing first-request-only in the count

    def queries() -> int:
        with count_queries() as statements:
            assert client.get("/account/").status_code == 200
        return len(statements)

    with_two = queries()  # this device and make_user's session
    with app.app_context():
        user = service.get_user_by_email("ann@example.org")
        for number in range(8):
            service.start_session(user, user_agent=f"Browser {number}", ip_address="192.0.2.1")
        _db.session.commit()
    assert len(stored_sessions(app)) == 10
    assert queries() == with_two


# Lifetimes ---------------------------------------------------------------------------------------


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
    """Move the session cookie's last-seen or login time into the past."""
    now = utcnow()
    with client.session_transaction() as session:
        if seen_minutes_ago is not None:
            session[SEEN_AT_KEY] = int((now - timedelta(minutes=seen_minutes_ago)).timestamp())
        if login_hours_ago is not None:
            identifier = service.parse_session_identifier(session["_user_id"])
            login_at = now - timedelta(hours=login_hours_ago)
            session["_user_id"] = str(
                service.SessionIdentifier(identifier.session_id, identifier.token, login_at)
            )


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


@pytest.mark.parametrize(("minutes", "status"), [(110, 200), (130, 302)])
def test_a_stored_session_unseen_past_the_idle_limit_is_refused(app, make_user, minutes, status):
    """However fresh the cookie says it is: a kept copy cannot revive a lapsed session."""
    make_user(email="ann@example.org")
    client = device(app)
    log_in_through_form(client)
    shift_row(app, session_id_of(client), seen_minutes_ago=minutes)
    assert client.get("/account/").status_code == status


def test_an_active_session_records_when_it_was_last_seen(app, make_user):
    make_user(email="ann@example.org")
    client = device(app)
    log_in_through_form(client)
    session_id = session_id_of(client)
    shift_row(app, session_id, seen_minutes_ago=60)
    client.get("/account/")
    seen = next(s for s in stored_sessions(app) if s.id == session_id).last_seen_at
    assert utcnow() - seen < timedelta(minutes=1)


def test_remember_me_outlasts_the_idle_limit(app, make_user):
    make_user(email="ann@example.org")
    client = device(app)
    log_in_through_form(client, remember="y")
    shift_session(client, seen_minutes_ago=600)
    shift_row(app, session_id_of(client), seen_minutes_ago=600)
    assert client.get("/account/").status_code == 200


@pytest.mark.parametrize(("hours", "status"), [(719, 200), (721, 302)])
def test_a_session_ends_after_the_absolute_limit(app, make_user, hours, status):
    make_user(email="ann@example.org")
    client = device(app)
    log_in_through_form(client)
    shift_row(app, session_id_of(client), login_hours_ago=hours)
    shift_session(client, login_hours_ago=hours)
    response = client.get("/account/")
    assert response.status_code == status
    if status == 302:
        assert "Your session has expired. Please log in again." in flashes(
            client.get(response.headers["Location"])
        )


def test_the_stored_login_time_decides_the_absolute_limit(app, make_user):
    make_user(email="ann@example.org")
    client = device(app)
    log_in_through_form(client, remember="y")
    shift_row(app, session_id_of(client), login_hours_ago=721)
    assert client.get("/account/").status_code == 302


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


def test_a_cookie_from_before_device_sessions_is_refused(client, make_user):
    user = make_user()
    login_at = int(utcnow().timestamp())
    with client.session_transaction() as session:
        # The old form: user id, the user's session token, login time.
        session["_user_id"] = f"{user.id}:{'t' * 32}:{login_at}"
    assert client.get("/account/").status_code == 302


@pytest.mark.parametrize(
    "value", ["", "x:y", "1", "1:", "1:token", "1:token:notatime", "a:b:c", "1:t:2:3", "0:t:5"]
)
def test_malformed_session_identifiers_load_nobody(app, make_user, value):
    with app.app_context():
        make_user()
        assert service.load_user(value) is None


# Deactivation and pruning ------------------------------------------------------------------------


def test_deactivating_signs_out_every_device(app, make_user, runner):
    make_user(email="ann@example.org")
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    log_in_through_form(laptop)
    log_in_through_form(phone)
    result = runner.invoke(args=["users", "deactivate", "ann@example.org"])
    assert result.exit_code == 0, result.output
    assert laptop.get("/account/").status_code == 302
    assert phone.get("/account/").status_code == 302
    assert stored_sessions(app) == []


def test_prune_sessions_command_deletes_expired_sessions(app, make_user, runner):
    make_user(email="ann@example.org")
    stale, active = device(app), device(app, SAFARI_IPHONE)
    log_in_through_form(stale)
    log_in_through_form(active)
    shift_row(app, session_id_of(stale), login_hours_ago=721)
    result = runner.invoke(args=["users", "prune-sessions"])
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 1 expired session.\n"
    with app.app_context():
        ids = set(_db.session.scalars(select(UserSession.id)))
    assert session_id_of(stale) not in ids
    assert session_id_of(active) in ids


def test_deleting_a_user_deletes_their_sessions_in_the_database(app, make_user):
    user = make_user(email="ann@example.org")
    with app.app_context():
        # A bulk delete, so only the foreign key's ON DELETE CASCADE can remove the sessions.
        _db.session.execute(User.__table__.delete().where(User.__table__.c.id == user.id))
        _db.session.commit()
        assert _db.session.scalar(select(func.count()).select_from(UserSession)) == 0


@pytest.mark.parametrize(
    ("user_agent", "summary"),
    [
        (FIREFOX_LINUX, "Firefox on Linux"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
            "Chrome on macOS",
        ),
        ("curl/8.5.0", "curl/8.5.0"),
        ("", "Unknown browser"),
        ("z" * 100, "z" * 59 + "…"),
    ],
)
def test_user_agents_are_summarised(user_agent, summary):
    assert describe_user_agent(user_agent) == summary
