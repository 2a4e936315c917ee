"""The organisers' attendee list: groups and counts, check-in, removal, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from eventmgr.extensions import db
from eventmgr.registrations.export import safe_cell
from eventmgr.registrations.models import Registration
from tests.events.helpers import soup
from tests.registrations.helpers import flashes


@pytest.fixture
def roster_event(make_event, make_user, register, unregister, in_app):
    """A two-seat meeting: Zoë and Bob confirmed, Cy and Di waiting, Ed cancelled."""
    event = make_event(title="Roster", capacity=2, timezone="Europe/London")
    people = {
        name: make_user(display_name=display, email=f"{name}@example.org", organisation=org)
        for name, display, org in [
            ("zoe", "Zoë Ó Dálaigh", "Cumann Eolais"),
            ("ed", "Ed Early", "ISKO UK"),
            ("bob", "Bob Brown", '=HYPERLINK("http://evil.example")'),
            ("cy", "+Cy Formula", "NetIKX"),
            ("di", "@Di", "-Minus Ltd"),
        ]
    }
    register(event, people["zoe"], people["ed"], people["bob"], people["cy"], people["di"])
    unregister(event, people["ed"])  # Bob is promoted

    def fix_times() -> None:
        # Summer time in London: 17:30 UTC is 18:30 BST.
        db.session.execute(
            update(Registration)
            .where(Registration.event_id == event.id)
            .values(registered_at=datetime(2030, 6, 1, 17, 30, tzinfo=UTC))
        )
        db.session.commit()

    in_app(fix_times)
    return event, people


def rows(page, heading_id: str) -> list[list[str]]:
    """The cells of the table under a heading."""
    section = page.find(id=heading_id).find_parent("section")
    return [
        [cell.get_text(" ", strip=True) for cell in row.find_all("td")]
        for row in section.select("tbody tr")
    ]


def registration_id(in_app, event, user) -> int:
    return in_app(
        lambda: db.session.scalar(
            db.select(Registration.id).where(
                Registration.event_id == event.id, Registration.user_id == user.id
            )
        )
    )


def test_roster_lists_each_group_with_counts(client, roster_event, organiser, login_as):
    event, _people = roster_event
    login_as(organiser)
    response = client.get(f"/events/{event.slug}/attendees")
    assert response.status_code == 200
    page = soup(response)
    counts = page.select_one(".roster-counts").get_text(" ", strip=True)
    assert counts == "Confirmed 2 of 2 places (0 checked in) Waiting list 2 Cancelled 1"
    confirmed = rows(page, "confirmed-heading")
    assert [row[:4] for row in confirmed] == [
        ["Zoë Ó Dálaigh", "zoe@example.org", "Cumann Eolais", "1 June 2030, 18:30 BST"],
        [
            "Bob Brown",
            "bob@example.org",
            '=HYPERLINK("http://evil.example")',
            "1 June 2030, 18:30 BST",
        ],
    ]
    assert [row[:2] for row in rows(page, "waitlisted-heading")] == [
        ["1", "+Cy Formula"],
        ["2", "@Di"],
    ]
    assert [row[0] for row in rows(page, "cancelled-heading")] == ["Ed Early"]
    time = page.select_one("#confirmed-heading ~ div time")
    assert time["datetime"] == "2030-06-01T17:30:00Z"


def test_check_in_and_undo(client, roster_event, organiser, login_as, in_app):
    event, people = roster_event
    login_as(organiser)
    zoe = registration_id(in_app, event, people["zoe"])
    url = f"/events/{event.slug}/attendees/{zoe}/attendance"

    response = client.post(url, data={"attended": "yes"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/events/{event.slug}/attendees#registration-{zoe}"
    )
    page = client.get(f"/events/{event.slug}/attendees")
    assert flashes(page) == ["Zoë Ó Dálaigh is checked in."]
    assert "(1 checked in)" in soup(page).select_one(".roster-counts").get_text(" ", strip=True)
    assert "Checked in" in rows(soup(page), "confirmed-heading")[0][4]

    client.post(url, data={"attended": "yes"})  # a second click changes nothing
    assert in_app(lambda: db.session.get(Registration, zoe).attended) is True
    client.post(url, data={"attended": "no"})
    assert in_app(lambda: db.session.get(Registration, zoe).attended) is False


def button_names(page) -> list[str]:
    """The accessible name of each button in the roster's tables, in page order: its text with the
    visually hidden words, a space between the two as Chromium puts one, whitespace collapsed."""
    return [" ".join(button.get_text(" ").split()) for button in page.select("table button")]


def test_roster_buttons_name_the_action_and_the_member(
    client, roster_event, organiser, login_as, in_app
):
    event, people = roster_event
    login_as(organiser)
    page = soup(client.get(f"/events/{event.slug}/attendees"))
    assert button_names(page) == [
        "Check in Zoë Ó Dálaigh",
        "Remove Zoë Ó Dálaigh",
        "Check in Bob Brown",
        "Remove Bob Brown",
        "Remove +Cy Formula",
        "Remove @Di",
    ]
    # Only the action is shown; the member's name is for screen readers, who hear it with the action.
    visible = [
        button.find(string=True, recursive=False).strip() for button in page.select("table button")
    ]
    assert visible == ["Check in", "Remove", "Check in", "Remove", "Remove", "Remove"]

    zoe = registration_id(in_app, event, people["zoe"])
    client.post(f"/events/{event.slug}/attendees/{zoe}/attendance", data={"attended": "yes"})
    page = soup(client.get(f"/events/{event.slug}/attendees"))
    assert button_names(page)[:2] == ["Undo check-in for Zoë Ó Dálaigh", "Remove Zoë Ó Dálaigh"]


def test_members_with_the_same_name_get_buttons_with_different_names(
    client, make_event, make_user, register, organiser, login_as
):
    event = make_event(capacity=2)
    twins = [
        make_user(display_name="Sam & Co", email=f"sam{number}@example.org") for number in (1, 2)
    ]
    other = make_user(display_name="Sam & Company", email="sam3@example.org")
    register(event, *twins, other)
    login_as(organiser)
    page = soup(client.get(f"/events/{event.slug}/attendees"))
    names = button_names(page)
    assert names == [
        "Check in Sam & Co (sam1@example.org)",
        "Remove Sam & Co (sam1@example.org)",
        "Check in Sam & Co (sam2@example.org)",
        "Remove Sam & Co (sam2@example.org)",
        "Remove Sam & Company",
    ]
    assert len(set(names)) == len(names)


def test_check_in_needs_a_valid_choice(client, roster_event, organiser, login_as, in_app):
    event, people = roster_event
    login_as(organiser)
    zoe = registration_id(in_app, event, people["zoe"])
    url = f"/events/{event.slug}/attendees/{zoe}/attendance"
    assert client.post(url, data={"attended": "maybe"}).status_code == 400
    assert client.post(url).status_code == 400


def test_waiting_members_cannot_be_checked_in(client, roster_event, organiser, login_as, in_app):
    event, people = roster_event
    login_as(organiser)
    cy = registration_id(in_app, event, people["cy"])
    response = client.post(
        f"/events/{event.slug}/attendees/{cy}/attendance",
        data={"attended": "yes"},
        follow_redirects=True,
    )
    assert flashes(response) == ["Only members with a place can be checked in."]
    assert in_app(lambda: db.session.get(Registration, cy).attended) is False


def test_removing_a_confirmed_registration_promotes(
    client, roster_event, organiser, login_as, in_app, stored
):
    event, people = roster_event
    login_as(organiser)
    zoe = registration_id(in_app, event, people["zoe"])
    response = client.post(f"/events/{event.slug}/attendees/{zoe}/remove", follow_redirects=True)
    assert flashes(response) == [
        "Removed the registration of Zoë Ó Dálaigh. +Cy Formula now has a place."
    ]
    statuses = stored(event)
    assert statuses[people["zoe"].id] == ("cancelled", None)
    assert statuses[people["cy"].id] == ("confirmed", None)
    assert statuses[people["di"].id] == ("waitlisted", 1)


def test_removing_twice_says_so(client, roster_event, organiser, login_as, in_app):
    event, people = roster_event
    login_as(organiser)
    ed = registration_id(in_app, event, people["ed"])
    response = client.post(f"/events/{event.slug}/attendees/{ed}/remove", follow_redirects=True)
    assert flashes(response) == ["This registration is already cancelled."]


def test_registrations_of_other_meetings_are_not_found(
    client, roster_event, make_event, organiser, login_as, in_app
):
    event, people = roster_event
    other = make_event()
    login_as(organiser)
    zoe = registration_id(in_app, event, people["zoe"])
    assert client.post(f"/events/{other.slug}/attendees/{zoe}/remove").status_code == 404
    assert (
        client.post(
            f"/events/{other.slug}/attendees/{zoe}/attendance", data={"attended": "yes"}
        ).status_code
        == 404
    )
    assert client.get("/events/2015-01-01-nothing/attendees").status_code == 404


# CSV ---------------------------------------------------------------------------------------------


def test_csv_export_is_utf8_with_a_bom_and_safe_from_formulas(
    client, roster_event, organiser, login_as
):
    event, _people = roster_event
    login_as(organiser)
    response = client.get(f"/events/{event.slug}/attendees.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{event.slug}-attendees.csv"'
    )
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    assert "Zoë Ó Dálaigh".encode() in body
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0] == [
        "Status",
        "Waiting list position",
        "Name",
        "Email",
        "Organisation",
        "Registered",
        "Attended",
    ]
    assert table[1:] == [
        ["confirmed", "", "Zoë Ó Dálaigh", "zoe@example.org", "Cumann Eolais", "2030-06-01 18:30 BST", ""],
        ["confirmed", "", "Bob Brown", "bob@example.org", "'=HYPERLINK(\"http://evil.example\")", "2030-06-01 18:30 BST", ""],
        ["waitlisted", "1", "'+Cy Formula", "cy@example.org", "NetIKX", "2030-06-01 18:30 BST", ""],
        ["waitlisted", "2", "'@Di", "di@example.org", "'-Minus Ltd", "2030-06-01 18:30 BST", ""],
        ["cancelled", "", "Ed Early", "ed@example.org", "ISKO UK", "2030-06-01 18:30 BST", ""],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Plain", "Plain"),
        ("a=b", "a=b"),
        ("", ""),
        (3, 3),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
