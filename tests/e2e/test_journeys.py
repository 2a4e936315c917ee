"""What people do with the site, in Chromium: sign up and in, run a meeting, read it on any screen."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import DEFAULT_PASSWORD
from tests.e2e.conftest import DESKTOP, PHONE, log_in, unique


def test_sign_up_log_out_and_log_in(page: Page):
    email = f"{unique('ada')}@example.org"
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")

    page.get_by_label("Email address").fill(email)
    page.get_by_label("Display name").fill("Ada Lovelace")
    page.get_by_label("Organisation").fill("Analytical Engines Ltd")
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_label("Confirm password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome, Ada Lovelace")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Ada Lovelace")).to_be_visible()

    navigation.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You have logged out")
    expect(navigation.get_by_role("link", name="Ada Lovelace")).to_have_count(0)

    navigation.get_by_role("link", name="Log in").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome back, Ada Lovelace")
    expect(navigation.get_by_role("link", name="Ada Lovelace")).to_be_visible()


def test_organiser_creates_a_meeting_with_speakers_and_questions_and_publishes_it(
    page: Page, create_user
):
    organiser = create_user(role="organiser")
    log_in(page, organiser["email"])
    title = f"Knowledge cafés in practice {unique('journey')[-6:]}"
    # Tomorrow evening: sooner than any meeting other tests create, so first in the list.
    day = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)).date()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="New meeting").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New meeting")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Summary").fill("How knowledge cafés help networks learn from each other.")
    page.get_by_label("Description").fill("Two talks, then **discussion** in small groups.")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_label("Starts").fill(f"{day:%Y-%m-%d}T18:00")
    page.get_by_label("Ends").fill(f"{day:%Y-%m-%d}T20:30")
    page.get_by_label("Venue", exact=True).fill("Conway Hall")
    page.get_by_label("Venue address").fill("25 Red Lion Square\nLondon WC1R 4RL")
    page.get_by_label("Capacity").fill("40")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_role("note")).to_contain_text("Draft")

    page.get_by_role("link", name="Speakers", exact=True).click()
    for name, affiliation, talk in [
        ("Ada Lovelace", "Henley Business School", "Research and careers"),
        ("Bob Brown", "ISKO UK", "Knowledge organisation as a community"),
    ]:
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Affiliation").fill(affiliation)
        page.get_by_label("Talk title").fill(talk)
        page.get_by_role("button", name="Add speaker").click()
        expect(page.get_by_role("status")).to_contain_text(f"Added {name}")

    page.get_by_role("navigation", name="Edit this meeting").get_by_role(
        "link", name="Questions"
    ).click()
    questions = [
        "What do we need personally?",
        "What are the needs of our organisations?",
        "Do these networks deliver effectively?",
    ]
    for question in questions:
        page.get_by_label("Question", exact=True).fill(question)
        page.get_by_role("button", name="Add question").click()
        expect(page.get_by_role("heading", name=question)).to_be_visible()

    page.get_by_role("link", name="View the meeting page").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("The meeting is published")
    expect(page.get_by_role("note")).to_have_count(0)
    programme = page.get_by_role("region", name="Programme").get_by_role("listitem")
    expect(programme).to_have_count(2)
    key_questions = page.get_by_role("region", name="Key questions").get_by_role("listitem")
    expect(key_questions).to_have_text(questions)

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Meetings", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming meetings")
    expect(page.get_by_role("link", name=title)).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_member_reads_a_meeting_page(new_context, create_user, create_event, viewport):
    meeting = create_event(days_ahead=2, title=f"Keeping the debate alive {unique('m')[-6:]}")
    member = create_user(role="member")
    page = new_context(viewport=viewport).new_page()
    log_in(page, member["email"])

    page.goto("/events/")
    page.get_by_role("link", name=meeting["title"]).click()
    expect(page).to_have_url(re.compile(re.escape(meeting["url"]) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(meeting["title"])

    facts = page.get_by_role("definition")
    expect(facts.filter(has_text=re.compile(r"18:00–20:30 (GMT|BST)"))).to_be_visible()
    expect(facts.filter(has_text="Conway Hall")).to_be_visible()
    talks = page.get_by_role("region", name="Programme").get_by_role("listitem")
    expect(talks).to_have_count(2)
    expect(talks.first).to_contain_text("Ada Lovelace, Henley Business School")
    expect(talks.first.get_by_role("heading", name="Research and careers")).to_be_visible()
    expect(page.get_by_role("region", name="Key questions").get_by_role("listitem")).to_have_count(
        2
    )

    # The programme leads, then the key questions, then the description.
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    order = [headings.index(name) for name in ("Programme", "Key questions", "About this meeting")]
    assert order == sorted(order), headings
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for heading in ("Programme", "Key questions"):
        box = page.get_by_role("heading", name=heading, exact=True).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
