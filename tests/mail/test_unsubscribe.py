"""One-click unsubscribe (RFC 8058): POST turns the emails off without login or CSRF token; GET
only asks; forged links are refused."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from eventmgr.accounts.models import User
from eventmgr.extensions import db as _db
from eventmgr.mail import unsubscribe


@pytest.fixture
def csrf_app(make_app, smtp_port):
    """An app that enforces CSRF tokens, as production does."""
    return make_app(WTF_CSRF_ENABLED=True, BASE_URL="https://events.example.org")


@pytest.fixture
def member(make_user) -> Any:
    return make_user(email="ada@example.org")


def link_for(app, user, kind: str = "event-updates") -> str:
    """The path of the user's unsubscribe link, as the List-Unsubscribe header gives it."""
    with app.app_context():
        header = unsubscribe.headers_for(user, kind)["List-Unsubscribe"]
    assert header.startswith("<https://events.example.org/mail/unsubscribe/")
    return header[1:-1].removeprefix("https://events.example.org")


def preference(app, user, attribute: str = "notify_event_updates") -> bool:
    with app.app_context():
        return getattr(_db.session.get(User, user.id), attribute)


def test_headers_name_the_link_and_one_click(app, member):
    with app.app_context():
        headers = unsubscribe.headers_for(member)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<https://events.example.org/mail/unsubscribe/")


def test_one_click_post_unsubscribes_without_login_or_csrf_token(csrf_app, member):
    client = csrf_app.test_client()
    response = client.post(link_for(csrf_app, member), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "no longer receive emails about changes" in response.get_data(as_text=True)
    assert preference(csrf_app, member) is False
    assert preference(csrf_app, member, "notify_replies") is True  # only that kind


def test_get_asks_and_changes_nothing(csrf_app, member):
    response = csrf_app.test_client().get(link_for(csrf_app, member))
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html5lib")
    form = page.find("form", attrs={"action": link_for(csrf_app, member)})
    assert form.find("input", attrs={"name": "csrf_token"})["value"]
    assert form.find("button").get_text(strip=True) == "Unsubscribe"
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert preference(csrf_app, member) is True


def test_the_pages_button_unsubscribes_with_its_csrf_token(csrf_app, member):
    client, path = csrf_app.test_client(), link_for(csrf_app, member)
    page = BeautifulSoup(client.get(path).get_data(as_text=True), "html5lib")
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(path)
    assert preference(csrf_app, member) is False
    after = BeautifulSoup(client.get(path).get_data(as_text=True), "html5lib")
    assert "no longer receives emails about changes" in after.get_text()
    assert after.find("form", attrs={"action": path}) is None


def test_a_form_post_without_token_or_one_click_is_refused(csrf_app, member):
    response = csrf_app.test_client().post(link_for(csrf_app, member), data={})
    assert response.status_code == 400
    assert preference(csrf_app, member) is True


def test_replies_token_turns_off_reply_emails(app, client, member):
    client.post(link_for(app, member, "replies"), data={"List-Unsubscribe": "One-Click"})
    assert preference(app, member, "notify_replies") is False
    assert preference(app, member) is True


@pytest.mark.parametrize("method", ["get", "post"])
def test_forged_or_altered_tokens_are_refused(app, client, member, method):
    path = link_for(app, member)
    forged = URLSafeSerializer("someone-elses-secret", salt="mail-unsubscribe").dumps(
        {"user": member.id, "kind": "event-updates"}
    )
    for bad in (path[:-3] + "xyz", f"/mail/unsubscribe/{forged}", "/mail/unsubscribe/nonsense"):
        response = getattr(client, method)(bad, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400, bad
        assert "This unsubscribe link is not valid" in response.get_data(as_text=True)
    assert preference(app, member) is True


def test_a_token_naming_an_unknown_kind_is_refused(app, client, member):
    with app.app_context():
        token = unsubscribe._serializer().dumps({"user": member.id, "kind": "everything"})
    assert client.get(f"/mail/unsubscribe/{token}").status_code == 400


def test_a_token_for_a_deleted_account_is_404(app, client, member):
    path = link_for(app, member)
    with app.app_context():
        _db.session.delete(_db.session.get(User, member.id))
        _db.session.commit()
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    assert "no longer exists" in response.get_data(as_text=True)


def test_unsubscribed_members_get_no_more_change_emails(
    app, db, make_user, make_event, make_registration
):
    from datetime import timedelta

    from eventmgr.events import service as events_service
    from eventmgr.mail.models import OutboxMessage

    staying, leaving = make_user(), make_user()
    event = make_event()
    make_registration(event, staying)
    make_registration(event, leaving)
    unsubscribe.unsubscribe(leaving, "event-updates")
    db.session.commit()
    fields = {
        name: getattr(event, name) for name in events_service.EventDetails.__dataclass_fields__
    }
    fields["starts_at"] += timedelta(hours=1)
    fields["ends_at"] += timedelta(hours=1)
    events_service.update_event(event, events_service.EventDetails(**fields))
    assert db.session.scalars(select(OutboxMessage.to_address)).all() == [staying.email]
