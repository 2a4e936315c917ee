"""Retiring a discussed key question in Chromium: the organiser cannot delete it, retires it, the
programme no longer lists it, and its discussion still reads (read-only), axe-clean at phone and
desktop sizes (issue 11, item 2)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, describe_violations, log_in, run_axe, unique
from tests.e2e.test_discussion_journeys import (
    post_comment,
    register_directly,  # noqa: F401  (fixture)
)

QUESTION = "What do we need personally?"
RETIRED_NOTICE = "This question was retired; the discussion is read-only."


def assert_axe_clean_at_both_sizes(page: Page) -> None:
    """No serious or critical axe violation at phone (390×844) and desktop sizes."""
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        violations = run_axe(page)
        assert not violations, f"{page.url} at {size}:\n{describe_violations(violations)}"


def test_organiser_retires_a_discussed_question_and_its_discussion_still_reads(
    new_context,
    create_user,
    create_event,
    register_directly,  # noqa: F811
):
    meeting = create_event(title=f"Retiring questions {unique('r')[-6:]}")
    alice = create_user(display_name="Alice Attendee")
    olivia = create_user(role="organiser", display_name="Olivia Organiser")
    register_directly(meeting["slug"], alice["email"])
    words = f"Mentoring matters most ({unique('w')[-6:]})."
    question_url = f"{meeting['url']}/questions/{meeting['question_ids'][0]}"

    alice_page = new_context().new_page()
    log_in(alice_page, alice["email"])
    alice_page.goto(question_url)
    post_comment(alice_page, words)

    organiser = new_context().new_page()
    log_in(organiser, olivia["email"])
    organiser.goto(f"{meeting['url']}/questions")
    item = organiser.locator(f"#question-{meeting['question_ids'][0]}")
    expect(item).to_contain_text("cannot be deleted")
    expect(item.get_by_role("link", name=re.compile("^Delete"))).to_have_count(0)
    assert_axe_clean_at_both_sizes(organiser)
    item.get_by_role("button", name=re.compile("^Retire")).click()
    expect(organiser.get_by_role("status")).to_contain_text("The question is retired")
    retired = organiser.get_by_role("region", name="Retired questions")
    expect(retired.get_by_role("link", name=QUESTION)).to_be_visible()
    expect(retired.get_by_role("button", name=re.compile("^Bring back"))).to_be_visible()
    assert_axe_clean_at_both_sizes(organiser)

    alice_page.goto(meeting["url"])
    expect(alice_page.get_by_role("region", name="Key questions")).not_to_contain_text(QUESTION)
    expect(alice_page.get_by_role("region", name="Discussions")).not_to_contain_text(QUESTION)
    expect(alice_page.get_by_role("region", name="Key questions")).to_contain_text(
        "What are the needs of our organisations?"
    )

    alice_page.goto(question_url)
    expect(alice_page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    expect(alice_page.get_by_role("note").first).to_have_text(RETIRED_NOTICE)
    expect(alice_page.get_by_role("article").filter(has_text=words)).to_be_visible()
    expect(alice_page.get_by_role("button", name="Post comment")).to_have_count(0)
    expect(alice_page.get_by_role("link", name=re.compile(r"^Edit\s"))).to_have_count(0)
    expect(alice_page.get_by_role("link", name=re.compile(r"^Reply\s"))).to_have_count(0)
    assert_axe_clean_at_both_sizes(alice_page)
