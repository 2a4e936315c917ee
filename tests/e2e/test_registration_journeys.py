"""Registering in Chromium: a place or the waiting list, promotion, "My meetings", and the door list."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, describe_violations, log_in, run_axe, unique


def registration_panel(page: Page):
    """The meeting page's Registration section."""
    return page.get_by_role("region", name="Registration")


def assert_no_serious_axe_violations(page: Page) -> None:
    """axe finds no serious or critical violation on the page, in light or dark colours."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = run_axe(page)
        assert not violations, f"{page.url} ({scheme}):\n{describe_violations(violations)}"


def for_member(action: str, member: dict[str, Any]) -> re.Pattern[str]:
    """A roster button's accessible name, read as one phrase: "Check in Ada Lovelace"."""
    return re.compile(rf"^{re.escape(action)} {re.escape(member['display_name'])}$")


def test_a_freed_seat_goes_to_the_first_on_the_waiting_list(new_context, create_user, create_event):
    meeting = create_event(capacity=1, title=f"One seat only {unique('seat')[-6:]}")
    first = create_user(display_name="Amina First")
    second = create_user(display_name="Bea Second")
    page_a = new_context().new_page()
    # The second member does everything on a phone.
    page_b = new_context(viewport=PHONE).new_page()
    log_in(page_a, first["email"])
    log_in(page_b, second["email"])

    page_a.goto(meeting["url"])
    panel_a = registration_panel(page_a)
    expect(panel_a).to_contain_text("1 of 1 place left")
    panel_a.get_by_role("button", name="Register").click()
    expect(page_a.get_by_role("status")).to_contain_text(
        f"You are registered for {meeting['title']}"
    )
    expect(panel_a).to_contain_text("Confirmed")
    expect(panel_a).to_contain_text("You have a place at this meeting.")
    expect(panel_a).to_contain_text("Fully booked")

    page_b.goto(meeting["url"])
    panel_b = registration_panel(page_b)
    expect(panel_b).to_contain_text("Fully booked")
    expect(panel_b.get_by_role("button", name="Register", exact=True)).to_have_count(0)
    panel_b.get_by_role("button", name="Join the waiting list").click()
    expect(page_b.get_by_role("status")).to_contain_text("on the waiting list at number 1")
    expect(panel_b).to_contain_text("You are number 1 on the waiting list.")
    expect(panel_b.get_by_role("button", name="Leave the waiting list")).to_be_visible()

    panel_a.get_by_role("button", name="Cancel my registration").click()
    expect(page_a.get_by_role("status")).to_contain_text(
        f"Your registration for {meeting['title']} is cancelled"
    )
    expect(panel_a).to_contain_text("Your registration is cancelled.")

    page_b.reload()
    expect(panel_b).to_contain_text("Confirmed")
    expect(panel_b).to_contain_text("You have a place at this meeting.")
    expect(panel_b.get_by_role("button", name="Cancel my registration")).to_be_visible()
    assert page_b.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page_b.get_by_role("navigation", name="Main").get_by_role("link", name="My meetings").click()
    expect(page_b.get_by_role("heading", level=1)).to_have_text("My meetings")
    upcoming = page_b.get_by_role("region", name="Upcoming").get_by_role("listitem")
    line = upcoming.filter(has=page_b.get_by_role("link", name=meeting["title"]))
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Confirmed")
    assert_no_serious_axe_violations(page_b)


def test_organiser_checks_a_member_in_and_downloads_the_attendee_list(
    new_context, create_user, create_event
):
    meeting = create_event(capacity=5, title=f"Door list {unique('roster')[-6:]}")
    member = create_user(display_name=f"Zoë Ångström {unique('z')[-5:]}")
    organiser = create_user(role="organiser")

    member_page = new_context().new_page()
    log_in(member_page, member["email"])
    member_page.goto(meeting["url"])
    registration_panel(member_page).get_by_role("button", name="Register").click()
    expect(registration_panel(member_page)).to_contain_text("Confirmed")

    page = new_context().new_page()
    log_in(page, organiser["email"])
    page.goto(meeting["url"])
    registration_panel(page).get_by_role("link", name="Attendee list").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Attendees: {meeting['title']}")
    counts = page.get_by_role("definition")
    expect(counts.nth(0)).to_have_text("1 of 5 places (0 checked in)")
    expect(counts.nth(1)).to_have_text("0")
    expect(counts.nth(2)).to_have_text("0")

    confirmed = page.get_by_role("region", name=re.compile(r"^Confirmed"))
    row = confirmed.get_by_role("row").filter(has_text=member["display_name"])
    expect(row).to_contain_text(member["email"])
    row.get_by_role("button", name=for_member("Check in", member)).click()
    expect(page.get_by_role("status")).to_contain_text(f"{member['display_name']} is checked in.")
    expect(row).to_contain_text("Checked in")
    expect(row.get_by_role("button", name=for_member("Undo check-in for", member))).to_be_visible()
    expect(counts.nth(0)).to_have_text("1 of 5 places (1 checked in)")
    assert_no_serious_axe_violations(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"{meeting['slug']}-attendees.csv"
    with open(download.path(), "rb") as file:
        content = file.read()
    assert content.startswith(b"\xef\xbb\xbf"), content[:10]
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Status", "Waiting list position", "Name", "Email"]
    assert [row[:4] + row[-1:] for row in rows[1:]] == [
        ["confirmed", "", member["display_name"], member["email"], "yes"]
    ]
