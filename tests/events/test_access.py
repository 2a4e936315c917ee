"""Who may see and do what: drafts, organiser pages, and the status changes."""

from __future__ import annotations

import pytest

from eventmgr.events.models import Question, Speaker
from eventmgr.extensions import db
from tests.events.helpers import meeting_form


@pytest.fixture
def meeting(make_event, in_app):
    """A published meeting with one speaker and one question; its slug and their ids."""
    event = make_event(speakers=[{"name": "Ada"}, {"name": "Bob"}],
                       questions=[{"title": "Why?"}, {"title": "How?"}])  # fmt: skip
    speaker_id, question_id = in_app(
        lambda: (
            db.session.scalar(db.select(Speaker.id).where(Speaker.name == "Ada")),
            db.session.scalar(db.select(Question.id).where(Question.title == "Why?")),
        )
    )
    return {"slug": event.slug, "speaker": speaker_id, "question": question_id}


#: Every organiser-only URL: (method, path template, form data).
ORGANISER_URLS = [
    ("GET", "/events/new", None),
    ("POST", "/events/new", meeting_form()),
    ("GET", "/events/{slug}/edit", None),
    ("POST", "/events/{slug}/edit", meeting_form()),
    ("POST", "/events/{slug}/publish", {}),
    ("GET", "/events/{slug}/cancel", None),
    ("POST", "/events/{slug}/cancel", {}),
    ("GET", "/events/{slug}/speakers", None),
    ("POST", "/events/{slug}/speakers", {"name": "Cy"}),
    ("GET", "/events/{slug}/speakers/{speaker}/edit", None),
    ("POST", "/events/{slug}/speakers/{speaker}/edit", {"name": "Ada L."}),
    ("POST", "/events/{slug}/speakers/{speaker}/move/down", {}),
    ("POST", "/events/{slug}/speakers/{speaker}/move/up", {}),
    ("POST", "/events/{slug}/speakers/{speaker}/remove", {}),
    ("GET", "/events/{slug}/questions", None),
    ("POST", "/events/{slug}/questions", {"title": "When?"}),
    ("GET", "/events/{slug}/questions/{question}/edit", None),
    ("POST", "/events/{slug}/questions/{question}/edit", {"title": "Why not?"}),
    ("POST", "/events/{slug}/questions/{question}/move/down", {}),
    ("POST", "/events/{slug}/questions/{question}/move/up", {}),
    ("POST", "/events/{slug}/questions/{question}/remove", {}),
]
URL_IDS = [f"{method} {path}" for method, path, _ in ORGANISER_URLS]


def request(client, method: str, path: str, data, meeting):
    """Send `method` to `path` filled in with the meeting's slug and ids."""
    url = path.format(**meeting)
    return client.get(url) if method == "GET" else client.post(url, data=data)


@pytest.mark.parametrize(("method", "path", "data"), ORGANISER_URLS, ids=URL_IDS)
def test_anonymous_visitors_are_sent_to_log_in(client, meeting, stored_event, method, path, data):
    before = stored_event(meeting["slug"])
    response = request(client, method, path, data, meeting)
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    assert stored_event(meeting["slug"]) == before


@pytest.mark.parametrize(("method", "path", "data"), ORGANISER_URLS, ids=URL_IDS)
def test_members_are_forbidden(client, meeting, member, login_as, stored_event, method, path,
                               data):  # fmt: skip
    login_as(member)
    before = stored_event(meeting["slug"])
    assert request(client, method, path, data, meeting).status_code == 403
    assert stored_event(meeting["slug"]) == before


@pytest.mark.parametrize(("method", "path", "data"), ORGANISER_URLS, ids=URL_IDS)
def test_organisers_may(client, meeting, organiser, login_as, method, path, data):
    login_as(organiser)
    response = request(client, method, path, data, meeting)
    assert response.status_code == (200 if method == "GET" else 302)


@pytest.mark.parametrize("role", ["organiser", "admin"])
def test_admins_and_organisers_may_create(client, make_user, login_as, role):
    login_as(make_user(role=role))
    assert client.get("/events/new").status_code == 200


def test_login_redirect_comes_back_to_the_page(client):
    response = client.get("/events/new")
    assert "next=%2Fevents%2Fnew" in response.headers["Location"]


# Drafts ------------------------------------------------------------------------------------------


def test_drafts_are_404_for_anonymous_visitors_and_members(client, make_event, member, login_as):
    draft = make_event(status="draft")
    assert client.get(f"/events/{draft.slug}").status_code == 404
    login_as(member)
    assert client.get(f"/events/{draft.slug}").status_code == 404


@pytest.mark.parametrize("role", ["organiser", "admin"])
def test_drafts_are_visible_to_organisers(client, make_event, make_user, login_as, role):
    draft = make_event(status="draft", title="Work in progress")
    login_as(make_user(role=role))
    response = client.get(f"/events/{draft.slug}")
    assert response.status_code == 200
    assert "Work in progress" in response.get_data(as_text=True)
    assert "Only organisers can see this meeting" in response.get_data(as_text=True)


def test_drafts_never_appear_in_public_lists(client, make_event):
    make_event(status="draft", title="Secret plans")
    for path in ["/", "/events/", "/events/past"]:
        assert "Secret plans" not in client.get(path).get_data(as_text=True)


# Status changes over HTTP ------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, organiser, login_as):
    """The test client, signed in as an organiser."""
    login_as(organiser)
    return client


def test_publishing_a_draft(signed_in, make_event, stored_event):
    draft = make_event(status="draft")
    response = signed_in.post(f"/events/{draft.slug}/publish", follow_redirects=True)
    assert "The meeting is published." in response.get_data(as_text=True)
    stored = stored_event(draft.slug)
    assert stored["status"] == "published"
    assert stored["published_at"] is not None


def test_cancelling_asks_for_confirmation_first(signed_in, make_event, stored_event):
    event = make_event()
    confirmation = signed_in.get(f"/events/{event.slug}/cancel")
    assert confirmation.status_code == 200
    assert f'action="/events/{event.slug}/cancel"' in confirmation.get_data(as_text=True)
    assert stored_event(event.slug)["status"] == "published"

    response = signed_in.post(f"/events/{event.slug}/cancel", follow_redirects=True)
    assert "The meeting is cancelled." in response.get_data(as_text=True)
    stored = stored_event(event.slug)
    assert stored["status"] == "cancelled"
    assert stored["cancelled_at"] is not None


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("cancelled", "publish", "cannot be published"),
        ("published", "publish", "already published"),
        ("cancelled", "cancel", "already cancelled"),
        ("draft", "cancel", "edit it instead"),
    ],
)
def test_invalid_transitions_are_refused_with_a_message(
    signed_in, make_event, stored_event, status, action, message
):
    event = make_event(status=status)
    before = stored_event(event.slug)
    response = signed_in.post(f"/events/{event.slug}/{action}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.slug}")
    assert message in signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert stored_event(event.slug) == before


def test_status_changes_need_post(signed_in, make_event):
    event = make_event(status="draft")
    assert signed_in.get(f"/events/{event.slug}/publish").status_code == 405
    assert signed_in.get(f"/events/{event.slug}/speakers/1/remove").status_code == 405
