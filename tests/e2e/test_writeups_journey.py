"""Write-ups in Chromium: an organiser drafts from a past meeting and publishes; a guest replies;
the organiser approves the reply at /moderation/ and it shows."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import unique


def test_organiser_publishes_a_write_up_and_a_guest_reply_is_approved(
    new_context, signed_in_state, create_event
):
    meeting = create_event(days_ahead=-14)
    organiser = new_context(storage_state=signed_in_state("organiser")["storage_state"]).new_page()
    organiser.goto(meeting["url"])
    organiser.get_by_role("link", name="Draft a write-up").click()
    expect(organiser.get_by_role("heading", level=1)).to_have_text("New write-up")
    report = organiser.get_by_label("Report")
    expect(report).to_have_value(re.compile(r"# What do we need personally\?"))
    slug = unique("report")
    organiser.get_by_label("Address").fill(slug)
    organiser.get_by_role("button", name="Preview").click()
    preview = organiser.get_by_role("region", name="Preview")
    expect(preview.get_by_role("heading", name="Speakers")).to_be_visible()
    organiser.get_by_role("button", name="Publish").click()
    expect(organiser.get_by_role("status")).to_contain_text("The write-up is published.")
    expect(organiser).to_have_url(re.compile(f"/writeups/{slug}$"))

    guest_name = unique("Gina")
    guest = new_context().new_page()
    guest.goto(f"/writeups/{slug}")
    guest.get_by_label("Your name").fill(guest_name)
    guest.get_by_label("Your email").fill(f"{unique('gina')}@example.org")
    guest.get_by_label("Your comment").fill("Thank you for a *lovely* evening.")
    guest.get_by_role("button", name="Post reply").click()
    expect(guest.get_by_role("status")).to_contain_text("Your comment is awaiting moderation")
    expect(guest.locator(".comment--pending")).to_contain_text("Awaiting moderation")

    organiser.goto("/moderation/")
    card = organiser.locator("li.card", has_text=guest_name)
    card.get_by_role("button", name=re.compile(r"^Approve")).click()
    expect(organiser.get_by_role("status")).to_contain_text("The comment is published.")

    reader = new_context().new_page()
    reader.goto(f"/writeups/{slug}")
    reply = reader.locator("article.comment", has_text=guest_name)
    expect(reply).to_contain_text("lovely")
    expect(reader.get_by_role("heading", name=re.compile(r"Replies \(1\)"))).to_be_visible()
