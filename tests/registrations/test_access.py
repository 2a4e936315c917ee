"""Who may do what: the organisers' pages, CSRF on every button, and constant query counts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventmgr.extensions import db
from eventmgr.registrations.models import Registration
from tests.events.helpers import soup


@pytest.fixture
def meeting(make_event, make_members, register, in_app):
    """A published meeting with one registration; its slug and the registration's id."""
    event = make_event(capacity=5)
    (attendee,) = make_members(1)
    register(event, attendee)
    registration = in_app(
        lambda: db.session.scalar(select(Registration.id).where(Registration.event_id == event.id))
    )
    return {"slug": event.slug, "registration": registration, "event": event}


#: Every organiser-only URL: (method, path template, form data, organiser's status code).
ORGANISER_URLS = [
    ("GET", "/events/{slug}/attendees", None, 200),
    ("GET", "/events/{slug}/attendees.csv", None, 200),
    ("POST", "/events/{slug}/attendees/{registration}/attendance", {"attended": "yes"}, 302),
    ("POST", "/events/{slug}/attendees/{registration}/remove", {}, 302),
]
URL_IDS = [f"{method} {path}" for method, path, _, _ in ORGANISER_URLS]


def send(client, method: str, path: str, data, meeting):
    url = path.format(**meeting)
    return client.get(url) if method == "GET" else client.post(url, data=data)


@pytest.mark.parametrize(("method", "path", "data", "expected"), ORGANISER_URLS, ids=URL_IDS)
def test_anonymous_visitors_are_sent_to_log_in(client, meeting, stored, method, path, data,
                                               expected):  # fmt: skip
    before = stored(meeting["event"])
    response = send(client, method, path, data, meeting)
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    assert stored(meeting["event"]) == before


@pytest.mark.parametrize(("method", "path", "data", "expected"), ORGANISER_URLS, ids=URL_IDS)
def test_members_are_forbidden(client, meeting, member, login_as, stored, method, path, data,
                               expected):  # fmt: skip
    login_as(member)
    before = stored(meeting["event"])
    assert send(client, method, path, data, meeting).status_code == 403
    assert stored(meeting["event"]) == before


@pytest.mark.parametrize("role", ["organiser", "admin"])
@pytest.mark.parametrize(("method", "path", "data", "expected"), ORGANISER_URLS, ids=URL_IDS)
def test_organisers_and_admins_may(client, meeting, make_user, login_as, role, method, path, data,
                                   expected):  # fmt: skip
    login_as(make_user(role=role))
    assert send(client, method, path, data, meeting).status_code == expected


def test_members_get_403_for_drafts_too(client, make_event, member, login_as):
    draft = make_event(status="draft")
    login_as(member)
    assert client.get(f"/events/{draft.slug}/attendees").status_code == 403


def test_organisers_see_the_attendee_list_of_a_draft(client, make_event, organiser, login_as):
    draft = make_event(status="draft")
    login_as(organiser)
    assert client.get(f"/events/{draft.slug}/attendees").status_code == 200


# CSRF --------------------------------------------------------------------------------------------


def csrf_token(client, url: str) -> str:
    """The CSRF token in the page's forms."""
    field = soup(client.get(url)).find("input", attrs={"name": "csrf_token"})
    assert field is not None
    return field["value"]


@pytest.mark.parametrize("action", ["register", "unregister"])
def test_member_buttons_need_a_csrf_token(csrf_client, make_event, member, login_as, stored,
                                          register, action):  # fmt: skip
    event = make_event()
    if action == "unregister":
        register(event, member)
    before = stored(event)
    login_as(member, csrf_client)
    response = csrf_client.post(f"/events/{event.slug}/{action}")
    assert response.status_code == 400
    assert stored(event) == before
    token = csrf_token(csrf_client, f"/events/{event.slug}")
    response = csrf_client.post(f"/events/{event.slug}/{action}", data={"csrf_token": token})
    assert response.status_code == 302
    assert stored(event) != before


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/events/{slug}/attendees/{registration}/attendance", {"attended": "yes"}),
        ("/events/{slug}/attendees/{registration}/remove", {}),
    ],
    ids=["attendance", "remove"],
)
def test_roster_buttons_need_a_csrf_token(csrf_client, meeting, organiser, login_as, in_app,
                                          path, data):  # fmt: skip
    def read() -> tuple[str, bool]:
        def load() -> tuple[str, bool]:
            registration = db.session.get(Registration, meeting["registration"])
            return registration.status, registration.attended

        return in_app(load)

    login_as(organiser, csrf_client)
    url = path.format(**meeting)
    assert csrf_client.post(url, data=data).status_code == 400
    assert read() == ("confirmed", False)
    token = csrf_token(csrf_client, f"/events/{meeting['slug']}/attendees")
    assert csrf_client.post(url, data={**data, "csrf_token": token}).status_code == 302
    assert read() != ("confirmed", False)


# Query counts ------------------------------------------------------------------------------------


@pytest.fixture
def two_meetings(make_event, make_members, register, organiser, in_app):
    """Two meetings with 10 and 40 registrations (some waiting, one cancelled each); a member
    registered for both, and an organiser."""
    members = make_members(40)
    small, large = make_event(capacity=6), make_event(capacity=30)
    register(small, *members[:10])
    register(large, *members)

    def cancel_one() -> None:
        from eventmgr.registrations import service

        for event in (small, large):
            registration = db.session.scalar(
                select(Registration).where(
                    Registration.event_id == event.id, Registration.user_id == members[1].id
                )
            )
            service.remove_registration(registration)
        db.session.commit()

    in_app(cancel_one)
    return {"small": small, "large": large, "member": members[-1], "organiser": organiser}


def queries_for(client, count_queries, url: str) -> int:
    client.get(url)  # warm up: first connection, caches
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


@pytest.mark.parametrize("who", [None, "member", "organiser"])
def test_meeting_page_query_count_does_not_grow_with_registrations(
    client, two_meetings, login_as, count_queries, who
):
    if who:
        login_as(two_meetings[who])
    few = queries_for(client, count_queries, f"/events/{two_meetings['small'].slug}")
    many = queries_for(client, count_queries, f"/events/{two_meetings['large'].slug}")
    assert few == many


@pytest.mark.parametrize("suffix", ["attendees", "attendees.csv"])
def test_roster_query_count_does_not_grow_with_registrations(
    client, two_meetings, login_as, count_queries, suffix
):
    login_as(two_meetings["organiser"])
    few = queries_for(client, count_queries, f"/events/{two_meetings['small'].slug}/{suffix}")
    many = queries_for(client, count_queries, f"/events/{two_meetings['large'].slug}/{suffix}")
    assert few == many
    assert few <= 6


def test_my_meetings_query_count_does_not_grow_with_registrations(
    client, make_event, make_members, register, login_as, count_queries
):
    member, other = make_members(2)
    login_as(member)
    for _ in range(2):
        event = make_event(capacity=1)
        register(event, other, member)
    few = queries_for(client, count_queries, "/my/events")
    for number in range(8):
        event = make_event(capacity=1 if number % 2 else None)
        register(event, other, member)
    many = queries_for(client, count_queries, "/my/events")
    assert few == many
    assert few <= 3
