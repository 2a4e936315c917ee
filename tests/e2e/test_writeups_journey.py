"""Write-ups in Chromium: an organiser drafts from a past meeting and publishes; a guest replies;
the organiser approves the reply at /moderation/ and it shows. A guest answers a member's comment
through its Reply link, and the approved reply shows nested under it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.e2e.conftest import describe_violations, run_axe, unique


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


def published_writeup_with_a_comment(live_server: Any, member_email: str) -> dict[str, Any]:
    """A published standalone write-up with one comment by the member; its slug and comment id.

    Every browser test posts from 127.0.0.1, so guest comments posted by earlier tests are moved
    a minute back: the 15-second flood limit would otherwise refuse this test's guest.
    """
    from eventmgr.accounts.models import User
    from eventmgr.discussions.models import Comment
    from eventmgr.extensions import db
    from eventmgr.writeups import service

    app = live_server.app()
    with app.app_context():
        writeup = service.create_writeup(
            title="Knowledge cafés: what we heard",
            slug=unique("cafes"),
            body="Notes from the evening.",
            author=None,
        )
        service.publish_writeup(writeup)
        member = db.session.scalar(select(User).where(User.email == member_email))
        comment = service.add_member_reply(
            writeup, member, "The *cafe* format worked well for us.", parent=None
        )
        a_minute_ago = datetime.now(UTC) - timedelta(minutes=1)
        db.session.execute(
            update(Comment)
            .where(Comment.author_ip == "127.0.0.1", Comment.created_at > a_minute_ago)
            .values(created_at=a_minute_ago)
        )
        result = {"slug": writeup.slug, "comment_id": comment.id}
        db.session.commit()
        db.engine.dispose()
    return result


def test_a_guest_replies_to_a_comment_and_the_approved_reply_nests_under_it(
    new_context, signed_in_state, create_user, live_server
):
    member = create_user(display_name=unique("Max"))
    arranged = published_writeup_with_a_comment(live_server, member["email"])
    url, parent_id = f"/writeups/{arranged['slug']}", arranged["comment_id"]

    guest_name = unique("Hal")
    guest = new_context().new_page()
    guest.goto(url)
    guest.get_by_role("link", name=f"Reply to comment {parent_id}").click()
    expect(guest).to_have_url(re.compile(f"{url}/comments/{parent_id}/reply$"))
    expect(guest.get_by_role("heading", level=1)).to_have_text(f"Reply to {member['display_name']}")
    expect(guest.locator(f"#comment-{parent_id}")).to_contain_text("format worked well")
    violations = run_axe(guest)
    assert not violations, describe_violations(violations)
    guest.get_by_label("Your name").fill(guest_name)
    guest.get_by_label("Your email").fill(f"{unique('hal')}@example.org")
    guest.get_by_label("Your comment").fill("It did for us too.")
    guest.get_by_role("button", name="Post reply").click()
    expect(guest).to_have_url(re.compile(f"{url}#comment-\\d+$"))
    expect(guest.get_by_role("status")).to_contain_text("Your comment is awaiting moderation")
    pending = guest.locator(".comment--pending", has_text="It did for us too.")
    expect(pending).to_contain_text("Awaiting moderation")
    expect(pending).to_contain_text(f"in reply to {member['display_name']}")

    # Nobody else sees it yet.
    reader = new_context().new_page()
    reader.goto(url)
    expect(reader.locator("article.comment", has_text=guest_name)).to_have_count(0)

    organiser = new_context(storage_state=signed_in_state("organiser")["storage_state"]).new_page()
    organiser.goto("/moderation/")
    card = organiser.locator("li.card", has_text=guest_name)
    card.get_by_role("button", name=re.compile(r"^Approve")).click()
    expect(organiser.get_by_role("status")).to_contain_text("The comment is published.")

    reader.goto(url)
    conversation = reader.locator(f"li:has(> #comment-{parent_id})")
    reply = conversation.locator("ol.comments--replies article.comment", has_text=guest_name)
    expect(reply).to_contain_text("It did for us too.")
    expect(reader.get_by_role("heading", name=re.compile(r"Replies \(2\)"))).to_be_visible()
