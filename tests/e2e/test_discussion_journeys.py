"""Discussing a meeting in Chromium: comments, replies, quotes and edits by attendees; moderation."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import describe_violations, log_in, run_axe, unique

QUESTION = "What do we need personally?"


@pytest.fixture(scope="module")
def register_directly(live_server) -> Callable[[str, str], None]:
    """Give a member a confirmed place at a meeting through the service, in the server's database."""
    from eventmgr.accounts import service as accounts_service
    from eventmgr.events import service as events_service
    from eventmgr.extensions import db
    from eventmgr.registrations import service

    def register(slug: str, email: str) -> None:
        app = live_server.app()
        with app.app_context():
            user = accounts_service.get_user_by_email(email)
            event = events_service.get_visible_event_or_404(slug, user)
            registration = service.register_member(event, user)
            assert registration.is_confirmed, registration
            db.session.commit()
            db.engine.dispose()

    return register


def comment(page: Page, text: str) -> Locator:
    """The comment (an <article>) whose text contains `text`, without the replies under it."""
    return page.get_by_role("article").filter(has_text=text)


def action(article: Locator, name: str) -> Locator:
    """A comment's action link; screen readers hear which comment it acts on ("Reply to comment 7")."""
    return article.get_by_role("link", name=re.compile(rf"^{name}\s"))


def post_comment(page: Page, text: str) -> None:
    """Write a comment in the thread's form and post it."""
    page.get_by_label("Your comment").fill(text)
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("status")).to_contain_text("Your comment has been posted.")


def assert_no_serious_axe_violations(page: Page) -> None:
    """axe finds no serious or critical violation on the page, in light or dark colours."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = run_axe(page)
        assert not violations, f"{page.url} ({scheme}):\n{describe_violations(violations)}"


def test_attendees_discuss_a_key_question(
    new_context, create_user, create_event, register_directly
):
    meeting = create_event(title=f"Networks that learn {unique('talk')[-6:]}")
    alice = create_user(display_name="Alice Attendee")
    bruno = create_user(display_name="Bruno Attendee")
    outsider = create_user(display_name="Olu Outsider")
    for attendee in (alice, bruno):
        register_directly(meeting["slug"], attendee["email"])
    original = f"Knowledge cafés need **patient** hosts ({unique('c')[-6:]})."

    alice_page = new_context().new_page()
    log_in(alice_page, alice["email"])
    alice_page.goto(meeting["url"])
    alice_page.get_by_role("region", name="Discussions").get_by_role("link", name=QUESTION).click()
    expect(alice_page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    expect(alice_page.get_by_role("region", name="Comments")).to_contain_text("No comments yet.")
    post_comment(alice_page, original)
    first = comment(alice_page, "Knowledge cafés need patient hosts")
    expect(first).to_contain_text("Alice Attendee")
    expect(first.locator("strong")).to_have_text("patient")
    expect(first).not_to_contain_text("**")

    bruno_page = new_context().new_page()
    log_in(bruno_page, bruno["email"])
    bruno_page.goto(alice_page.url)
    action(comment(bruno_page, "patient hosts"), "Reply").click()
    expect(bruno_page.get_by_role("heading", level=1)).to_have_text("Reply to Alice Attendee")
    bruno_page.get_by_label("Your comment").fill("And hosts who *listen*.")
    bruno_page.get_by_role("button", name="Post reply").click()
    expect(bruno_page.get_by_role("status")).to_contain_text("Your reply has been posted.")
    reply = comment(bruno_page, "And hosts who listen.")
    expect(reply).to_contain_text("Bruno Attendee")
    expect(reply.locator("em")).to_have_text("listen")
    # The reply sits in a list inside the list item of the comment it answers.
    parent_item = (
        bruno_page.get_by_role("region", name="Comments")
        .get_by_role("listitem")
        .filter(has=comment(bruno_page, "patient hosts"))
        .first
    )
    expect(parent_item.get_by_role("list").get_by_role("article")).to_have_count(1)
    expect(parent_item.get_by_role("list").get_by_role("article")).to_contain_text(
        "And hosts who listen."
    )

    action(comment(bruno_page, "patient hosts"), "Quote").click()
    expect(bruno_page.get_by_label("Your comment")).to_have_value(
        re.compile(r"^> Knowledge cafés need \*\*patient\*\* hosts")
    )

    alice_page.reload()
    action(comment(alice_page, "patient hosts"), "Edit").click()
    expect(alice_page.get_by_role("heading", level=1)).to_have_text("Edit your comment")
    expect(alice_page.get_by_label("Your comment")).to_have_value(original)
    alice_page.get_by_label("Your comment").fill("Knowledge cafés need **patient** hosts, always.")
    alice_page.get_by_role("button", name="Save").click()
    expect(alice_page.get_by_role("status")).to_contain_text("Your comment has been saved.")
    edited = comment(alice_page, "patient hosts, always.")
    expect(edited.get_by_text(re.compile(r"^edited "))).to_be_visible()
    expect(comment(alice_page, "And hosts who listen.")).not_to_contain_text("edited")

    # A thread with a nested reply, as an attendee and as a visitor who is not logged in.
    assert_no_serious_axe_violations(alice_page)
    visitor_page = new_context().new_page()
    visitor_page.goto(alice_page.url)
    expect(comment(visitor_page, "And hosts who listen.")).to_be_visible()
    expect(visitor_page.get_by_role("link", name="Log in to join the discussion")).to_be_visible()
    assert_no_serious_axe_violations(visitor_page)

    outsider_page = new_context().new_page()
    log_in(outsider_page, outsider["email"])
    outsider_page.goto(alice_page.url)
    expect(comment(outsider_page, "patient hosts, always.")).to_be_visible()
    expect(outsider_page.get_by_role("note")).to_have_text(
        "Only registered attendees can join this discussion."
    )
    expect(outsider_page.get_by_label("Your comment")).to_have_count(0)
    expect(outsider_page.get_by_role("button", name="Post comment")).to_have_count(0)
    expect(action(comment(outsider_page, "patient hosts"), "Reply")).to_have_count(0)


def test_a_reported_comment_is_hidden_and_the_thread_locked(
    new_context, create_user, create_event, register_directly
):
    meeting = create_event(title=f"Moderated meeting {unique('mod')[-6:]}")
    author = create_user(display_name="Rex Rude")
    reporter = create_user(display_name="Pat Polite")
    organiser = create_user(role="organiser", display_name="Orla Organiser")
    register_directly(meeting["slug"], author["email"])
    rude = f"Everyone here is an idiot ({unique('r')[-6:]})."
    thread_url = f"{meeting['url']}/questions/{meeting['question_ids'][0]}"

    author_page = new_context().new_page()
    log_in(author_page, author["email"])
    author_page.goto(thread_url)
    post_comment(author_page, rude)

    reporter_page = new_context().new_page()
    log_in(reporter_page, reporter["email"])
    reporter_page.goto(thread_url)
    action(comment(reporter_page, rude), "Report").click()
    expect(reporter_page.get_by_role("heading", level=1)).to_have_text("Report a comment")
    reporter_page.get_by_label("What is wrong with this comment?").fill("Insults other members.")
    reporter_page.get_by_role("button", name="Send report").click()
    expect(reporter_page.get_by_role("status")).to_contain_text(
        "Thank you. The organisers will look at this comment."
    )

    page = new_context().new_page()
    log_in(page, organiser["email"])
    page.goto("/moderation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Moderation")
    reports = page.get_by_role("region", name="Reported comments")
    entry = reports.get_by_role("listitem").filter(has_text=rude).first
    expect(entry).to_contain_text(QUESTION)
    expect(entry).to_contain_text("Pat Polite")
    expect(entry).to_contain_text("Insults other members.")
    assert_no_serious_axe_violations(page)

    entry.get_by_role("link", name=re.compile(r"^Hide\s")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hide a comment")
    page.get_by_label("Reason").fill("Personal attack.")
    page.get_by_role("button", name="Hide comment").click()
    expect(page.get_by_role("status")).to_contain_text("The comment is hidden.")

    public_page = new_context().new_page()
    public_page.goto(thread_url)
    expect(public_page.get_by_role("region", name="Comments")).to_contain_text(
        "[hidden by a moderator]"
    )
    expect(public_page.get_by_text(rude)).to_have_count(0)

    page.goto("/moderation/")
    expect(page.get_by_role("region", name="Reported comments")).to_contain_text("No open reports.")
    expect(page.get_by_role("region", name="Moderation log")).to_contain_text("Personal attack.")

    page.goto(thread_url)
    page.get_by_label("Reason (for the moderation log)").fill("Cooling off.")
    page.get_by_role("button", name="Lock discussion").click()
    expect(page.get_by_role("status")).to_contain_text("The discussion is locked.")
    expect(page.get_by_role("button", name="Unlock discussion")).to_be_visible()

    author_page.reload()
    expect(author_page.get_by_role("note").filter(has_text="locked")).to_have_text(
        "This discussion has been locked by a moderator."
    )
    expect(author_page.get_by_label("Your comment")).to_have_count(0)
    expect(author_page.get_by_role("button", name="Post comment")).to_have_count(0)


@pytest.mark.parametrize("signed_in", [True, False], ids=["attendee", "logged-out"])
def test_follow_up_discussion_has_no_serious_axe_violations(
    new_context, create_user, create_event, register_directly, signed_in
):
    meeting = create_event()
    attendee = create_user()
    register_directly(meeting["slug"], attendee["email"])
    page = new_context().new_page()
    log_in(page, attendee["email"])
    page.goto(f"{meeting['url']}/discussion")
    post_comment(page, "A **first** thought.")
    if not signed_in:
        page = new_context().new_page()
        page.goto(f"{meeting['url']}/discussion")
    expect(comment(page, "A first thought.")).to_be_visible()
    assert_no_serious_axe_violations(page)


def test_an_unconfirmed_member_asks_for_the_confirmation_link_again(
    new_context, create_user, create_event
):
    meeting = create_event(title=f"Confirm first {unique('confirm')[-6:]}")
    # Not registered: an unconfirmed address cannot take a seat, and is told so before anything
    # else the discussion asks for.
    member = create_user(display_name="Uma Unconfirmed", email_confirmed=False)
    thread_url = f"{meeting['url']}/questions/{meeting['question_ids'][0]}"

    page = new_context().new_page()
    log_in(page, member["email"])
    page.goto(thread_url)
    join = page.get_by_role("region", name="Join the discussion")
    expect(join.get_by_role("note")).to_contain_text(
        "Confirm your email address to join the discussion: follow the link we emailed to"
        f" {member['email']}."
    )
    expect(page.get_by_label("Your comment")).to_have_count(0)
    assert_no_serious_axe_violations(page)

    join.get_by_role("button", name="Send the link again").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"We have sent a new confirmation link to {member['email']}."
    )
    # Back on the thread they came from, still offered the button until they follow the link.
    expect(page).to_have_url(re.compile(rf"{re.escape(thread_url)}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    expect(join.get_by_role("button", name="Send the link again")).to_be_visible()


def test_confirmed_members_are_not_offered_the_confirmation_link(
    new_context, create_user, create_event, register_directly
):
    meeting = create_event()
    member = create_user()
    register_directly(meeting["slug"], member["email"])
    page = new_context().new_page()
    log_in(page, member["email"])
    page.goto(f"{meeting['url']}/discussion")
    expect(page.get_by_label("Your comment")).to_be_visible()
    expect(page.get_by_role("button", name="Send the link again")).to_have_count(0)
