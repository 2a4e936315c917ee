"""Registering over HTTP: the buttons, the messages, the meeting page's panel and My meetings."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.events.helpers import soup
from tests.registrations.conftest import hours_from_now
from tests.registrations.helpers import (
    edit_form_for,
    flashes,
    panel,
    panel_buttons,
    panel_text,
)


def post_register(client, event):
    return client.post(f"/events/{event.slug}/register", follow_redirects=True)


def post_unregister(client, event):
    return client.post(f"/events/{event.slug}/unregister", follow_redirects=True)


# Register and unregister -------------------------------------------------------------------------


def test_registering_gives_a_seat_and_says_so(client, make_event, member, login_as, stored):
    event = make_event(title="Connecting Knowledge Communities", capacity=3)
    login_as(member)
    response = client.post(f"/events/{event.slug}/register")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.slug}")
    page = client.get(response.headers["Location"])
    assert flashes(page) == [
        "You are registered for Connecting Knowledge Communities. "
        "A confirmation is on its way by email."
    ]
    assert stored(event) == {member.id: ("confirmed", None)}
    assert "You have a place at this meeting" in panel_text(page)
    assert panel_buttons(page) == ["Cancel my registration"]


def test_a_full_meeting_puts_members_on_the_waiting_list(
    client, make_event, make_members, register, login_as, stored
):
    event = make_event(title="Full house", capacity=1)
    seated, first, second = make_members(3)
    register(event, seated, first)
    login_as(second)
    response = post_register(client, event)
    assert flashes(response) == [
        "Full house is full, so you are on the waiting list at number 2. "
        "We will email you if a place comes free."
    ]
    assert stored(event)[second.id] == ("waitlisted", 2)
    assert "You are number 2 on the waiting list" in panel_text(response)
    assert panel_buttons(response) == ["Leave the waiting list"]


def test_registering_twice_changes_nothing_and_says_so(
    client, make_event, member, register, login_as, stored, outbox
):
    event = make_event(capacity=3)
    register(event, member)
    before, emails = stored(event), outbox()
    login_as(member)
    response = post_register(client, event)
    assert flashes(response) == [
        "You are already registered for this meeting; nothing has changed."
    ]
    assert stored(event) == before
    assert outbox() == emails


def test_unregistering_promotes_the_first_waitlisted(
    client, make_event, make_members, register, login_as, stored
):
    event = make_event(title="Small room", capacity=1)
    seated, waiting = make_members(2)
    register(event, seated, waiting)
    login_as(seated)
    response = post_unregister(client, event)
    assert flashes(response) == ["Your registration for Small room is cancelled."]
    assert stored(event) == {seated.id: ("cancelled", None), waiting.id: ("confirmed", None)}
    assert "Your registration is cancelled" in panel_text(response)
    assert panel_buttons(response) == ["Join the waiting list"]


def test_unregistering_without_a_registration_says_so(client, make_event, member, login_as):
    event = make_event()
    login_as(member)
    assert flashes(post_unregister(client, event)) == ["You are not registered for this meeting."]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "cancelled"}, "This meeting has been cancelled, so registration is closed."),
        (
            {"starts_at": hours_from_now(-30), "ends_at": hours_from_now(-28)},
            "This meeting has already taken place.",
        ),
        ({"registration_closes_at": hours_from_now(-2)}, "Registration closed on"),
        ({"registration_opens_at": hours_from_now(2)}, "Registration opens on"),
    ],
    ids=["cancelled", "past", "closed", "not-yet-open"],
)
def test_registration_is_refused_with_a_clear_message(
    client, make_event, member, login_as, stored, fields, message
):
    event = make_event(**fields)
    login_as(member)
    response = post_register(client, event)
    assert len(flashes(response)) == 1
    assert flashes(response)[0].startswith(message)
    assert stored(event) == {}
    assert panel_buttons(response) == []


def test_drafts_are_not_found_by_members(client, make_event, member, login_as, stored):
    draft = make_event(status="draft")
    login_as(member)
    assert client.post(f"/events/{draft.slug}/register").status_code == 404
    assert stored(draft) == {}


def test_organisers_cannot_register_for_drafts(client, make_event, organiser, login_as, stored):
    draft = make_event(status="draft")
    login_as(organiser)
    response = post_register(client, draft)
    assert flashes(response) == ["Registration opens when this meeting is published."]
    assert stored(draft) == {}


def test_unknown_meetings_are_not_found(client, member, login_as):
    login_as(member)
    assert client.post("/events/2015-01-01-nothing/register").status_code == 404
    assert client.post("/events/2015-01-01-nothing/unregister").status_code == 404


@pytest.mark.parametrize("action", ["register", "unregister"])
def test_anonymous_visitors_are_asked_to_log_in_and_come_back(client, make_event, stored, action):
    event = make_event()
    response = client.post(f"/events/{event.slug}/{action}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/account/login"
    assert parse_qs(location.query)["next"] == [f"/events/{event.slug}"]
    assert stored(event) == {}


@pytest.mark.parametrize("action", ["register", "unregister"])
def test_register_and_unregister_are_post_only(client, make_event, member, login_as, action):
    event = make_event()
    login_as(member)
    assert client.get(f"/events/{event.slug}/{action}").status_code == 405


# The panel on the meeting page -------------------------------------------------------------------


def test_anonymous_visitors_see_places_left_and_a_login_button(
    client, make_event, make_members, register
):
    event = make_event(capacity=5)
    register(event, *make_members(2))
    response = client.get(f"/events/{event.slug}")
    assert "3 of 5 places left" in panel_text(response)
    assert panel_buttons(response) == ["Log in to register"]
    link = panel(response).select_one("a.button")["href"]
    assert parse_qs(urlsplit(link).query)["next"] == [f"/events/{event.slug}"]


def test_members_see_register_while_places_remain(client, make_event, member, login_as):
    event = make_event(capacity=1)
    login_as(member)
    response = client.get(f"/events/{event.slug}")
    assert "1 of 1 place left" in panel_text(response)
    assert panel_buttons(response) == ["Register"]


def test_a_full_meeting_offers_the_waiting_list(
    client, make_event, make_members, register, login_as
):
    event = make_event(capacity=1)
    seated, waiting, newcomer = make_members(3)
    register(event, seated, waiting)
    login_as(newcomer)
    response = client.get(f"/events/{event.slug}")
    assert "Fully booked: new registrations join the waiting list (1 waiting)" in panel_text(
        response
    )
    assert panel_buttons(response) == ["Join the waiting list"]


def test_unlimited_meetings_say_so(client, make_event, member, login_as):
    event = make_event(capacity=None)
    login_as(member)
    response = client.get(f"/events/{event.slug}")
    assert "Places are not limited" in panel_text(response)
    assert panel_buttons(response) == ["Register"]


def test_closed_registration_shows_why_and_no_button(client, make_event, member, login_as):
    event = make_event(registration_closes_at=hours_from_now(-1))
    login_as(member)
    response = client.get(f"/events/{event.slug}")
    assert "Registration closed on" in panel_text(response)
    assert panel_buttons(response) == []


def test_registered_members_can_still_withdraw_after_registration_closes(
    client, make_event, member, register, login_as, in_app
):
    from eventmgr.events.models import Event
    from eventmgr.extensions import db

    event = make_event()
    register(event, member)

    def close() -> None:
        db.session.get(Event, event.id).registration_closes_at = hours_from_now(-1)
        db.session.commit()

    in_app(close)
    login_as(member)
    response = client.get(f"/events/{event.slug}")
    assert "Registration closed" not in panel_text(response)
    assert panel_buttons(response) == ["Cancel my registration"]


def test_past_meetings_show_the_members_status_without_buttons(
    client, make_event, member, login_as, in_app
):
    from eventmgr.extensions import db
    from eventmgr.registrations.models import Registration

    event = make_event(starts_at=hours_from_now(-48), capacity=10)

    def add() -> None:
        db.session.add(
            Registration(event_id=event.id, user_id=member.id, status="confirmed", queue_number=1)
        )
        db.session.commit()

    in_app(add)
    login_as(member)
    response = client.get(f"/events/{event.slug}")
    text = panel_text(response)
    assert "You have a place at this meeting" in text
    assert "places left" not in text
    assert panel_buttons(response) == []


def test_only_organisers_see_the_attendee_list_link(
    client, make_event, organiser, member, login_as, register
):
    event = make_event(capacity=1)
    register(event, member)
    response = client.get(f"/events/{event.slug}")
    assert panel(response).find("a", string="Attendee list") is None
    login_as(organiser)
    response = client.get(f"/events/{event.slug}")
    link = panel(response).find("a", string="Attendee list")
    assert link["href"] == f"/events/{event.slug}/attendees"
    assert "(1 confirmed, 0 waiting)" in panel_text(response)


# Capacity changes through the meeting's edit form ------------------------------------------------


def test_lowering_capacity_below_the_confirmed_count_is_refused(
    app, client, make_event, make_members, register, organiser, login_as, stored, stored_capacity
):
    event = make_event(capacity=5, title="Before")
    register(event, *make_members(3))
    before = stored(event)
    login_as(organiser)
    response = client.post(
        f"/events/{event.slug}/edit", data=edit_form_for(app, event, capacity=2, title="After")
    )
    assert response.status_code == 200  # the form again, with the message
    assert flashes(response) == [
        "3 members have a place already, so the capacity cannot be lower than 3. "
        "Remove registrations from the attendee list first."
    ]
    assert stored_capacity(event) == 5
    assert stored(event) == before
    assert "Before" in client.get(f"/events/{event.slug}").get_data(as_text=True)


def test_raising_capacity_in_the_edit_form_promotes_the_waiting_list(
    app, client, make_event, make_members, register, organiser, login_as, stored, stored_capacity
):
    event = make_event(capacity=1)
    members = make_members(4)
    register(event, *members)
    login_as(organiser)
    response = client.post(f"/events/{event.slug}/edit", data=edit_form_for(app, event, capacity=3))
    assert response.status_code == 302
    assert stored_capacity(event) == 3
    assert stored(event) == {
        members[0].id: ("confirmed", None),
        members[1].id: ("confirmed", None),
        members[2].id: ("confirmed", None),
        members[3].id: ("waitlisted", 1),
    }


# My meetings -------------------------------------------------------------------------------------


def test_my_meetings_lists_upcoming_and_past_with_status(
    client, make_event, make_members, register, unregister, login_as, in_app
):
    from eventmgr.extensions import db
    from eventmgr.registrations.models import Registration

    member, other = make_members(2)
    full = make_event(title="Full", capacity=1, starts_at=hours_from_now(24))
    open_ = make_event(title="Open", starts_at=hours_from_now(48))
    dropped = make_event(title="Dropped", starts_at=hours_from_now(72))
    past = make_event(title="Last year", starts_at=hours_from_now(-24 * 365))
    make_event(title="Not mine")
    register(full, other, member)
    register(open_, member)
    register(dropped, member)
    unregister(dropped, member)

    def add_past() -> None:
        db.session.add(
            Registration(event_id=past.id, user_id=member.id, status="confirmed", queue_number=1)
        )
        db.session.commit()

    in_app(add_past)
    login_as(member)
    response = client.get("/my/events")
    assert response.status_code == 200
    page = soup(response)

    def cards(heading_id: str) -> list[str]:
        section = page.find(id=heading_id).find_parent("section")
        return [card.get_text(" ", strip=True) for card in section.select(".card")]

    upcoming = cards("upcoming-heading")
    assert [card.split(" ")[0] for card in upcoming] == ["Full", "Open", "Dropped"]
    assert "Waiting list: number 1" in upcoming[0]
    assert "Confirmed" in upcoming[1]
    assert "Cancelled" in upcoming[2]
    past_cards = cards("past-heading")
    assert len(past_cards) == 1
    assert past_cards[0].startswith("Last year")
    assert "Not mine" not in response.get_data(as_text=True)


def test_my_meetings_when_there_are_none(client, member, login_as):
    login_as(member)
    text = soup(client.get("/my/events")).get_text(" ", strip=True)
    assert "You have not registered for any upcoming meetings" in text


def test_my_meetings_needs_a_login(client):
    response = client.get("/my/events")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


def test_the_navigation_links_to_my_meetings_when_logged_in(client, member, login_as):
    assert soup(client.get("/")).find("a", string="My meetings") is None
    login_as(member)
    link = soup(client.get("/")).find("a", string="My meetings")
    assert link["href"] == "/my/events"
    current = soup(client.get("/my/events")).find("a", string="My meetings")
    assert current["aria-current"] == "page"


# Unconfirmed addresses ---------------------------------------------------------------------------


def test_an_unconfirmed_member_is_refused_a_seat_and_offered_the_link_again(
    client, make_event, make_user, login_as, stored, outbox
):
    event = make_event(title="Only the reachable", capacity=1)
    newcomer = make_user(email_confirmed=False)
    login_as(newcomer)
    page = client.get(f"/events/{event.slug}")
    text = panel_text(page)
    assert "Confirm your email address to register for this meeting" in text
    assert newcomer.email in text
    # No Register button: the panel offers the resend button, which comes back to this page.
    form = panel(page).select_one("form[action='/account/confirm/resend']")
    assert form.select_one("input[name=next]")["value"] == f"/events/{event.slug}"
    assert "Register" not in panel_buttons(page)

    response = post_register(client, event)
    assert flashes(response) == ["Confirm your email address to register for meetings."]
    assert stored(event) == {}
    assert outbox() == []

    resent = client.post("/account/confirm/resend", data={"next": f"/events/{event.slug}"})
    assert resent.headers["Location"].endswith(f"/events/{event.slug}")
    assert outbox() == [("email_confirmation", newcomer.email)]
