"""The discussion pages over HTTP: reading, posting, replying, editing, deleting and moderating."""

from __future__ import annotations

import re

import pytest

from eventmgr.discussions import service
from tests.discussions.helpers import (
    comment_ids,
    comment_text,
    field_error,
    flashes,
    soup,
    text,
    textarea,
)

# Reading -----------------------------------------------------------------------------------------


def test_thread_shows_nested_comments_with_author_organisation_and_times(
    client, meeting, attendee, organiser, post
):
    root = post(meeting, attendee, "Communities need **time**.")
    reply = post(meeting, organiser, "And money.", parent=root)
    response = client.get(meeting.question_url())
    assert response.status_code == 200
    page = soup(response)
    assert page.h1.get_text(strip=True) == "What do communities need?"
    assert comment_ids(response) == [root, reply]
    article = page.find(id=f"comment-{root}")
    assert "Ada Attendee" in article.get_text() and "KIN" in article.get_text()
    assert article.find("strong").get_text() == "time"
    permalink = article.find("a", class_="comment__permalink")
    assert permalink["href"] == f"/comments/{root}"
    moment = permalink.find("time")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", moment["datetime"])
    assert moment.get_text().endswith(("GMT", "BST"))
    assert "just now" in article.get_text()
    nested = page.find(id=f"comment-{reply}").find_parent("ol")
    assert "comments--replies" in nested["class"]
    assert "2 comments" in text(response)


def test_times_are_shown_in_the_meetings_time_zone(client, make_meeting, attendee, post, register):
    meeting = make_meeting(timezone="America/New_York")
    register(meeting, attendee)
    post(meeting, attendee, "Hello from New York")
    response = client.get(meeting.question_url())
    times = soup(response).select("article.comment time")
    assert times and times[0].get_text().endswith(("EST", "EDT"))


def test_follow_up_thread_has_its_own_page(client, meeting, attendee, post):
    comment = post(meeting, attendee, "Thanks for a great evening", question=None)
    response = client.get(meeting.follow_up_url)
    assert response.status_code == 200
    assert soup(response).h1.get_text(strip=True) == "Follow-up discussion"
    assert comment_ids(response) == [comment]
    assert comment_ids(client.get(meeting.question_url())) == []


def test_unknown_questions_and_meetings_are_404(client, meeting, make_meeting):
    other = make_meeting()
    assert (
        client.get(f"/events/{meeting.slug}/questions/{other.question_ids[0]}").status_code == 404
    )
    assert client.get("/events/no-such-meeting/discussion").status_code == 404
    assert client.get(meeting.question_url() + "?page=3").status_code == 404
    assert client.get(meeting.question_url() + "?page=0").status_code == 404


def test_draft_meetings_threads_are_for_organisers_only(
    client, make_meeting, member, organiser, login_as
):
    draft = make_meeting(status="draft")
    assert client.get(draft.question_url()).status_code == 404
    login_as(member)
    assert client.get(draft.follow_up_url).status_code == 404
    login_as(organiser)
    assert client.get(draft.question_url()).status_code == 200


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("anonymous", "Log in to join the discussion"),
        ("member", "Only registered attendees can join this discussion."),
    ],
)
def test_people_who_may_not_post_see_why_instead_of_a_form(
    client, meeting, member, login_as, who, message
):
    if who == "member":
        login_as(member)
    response = client.get(meeting.question_url())
    assert message in text(response)
    assert textarea(response) is None


def test_log_in_link_returns_to_the_thread(client, meeting):
    link = soup(client.get(meeting.question_url())).select_one(".discussion-refusal a")
    assert link["href"] == f"/account/login?next={meeting.question_url()}"


RESEND_URL = "/account/confirm/resend"


def resend_form(response):
    """The "send the confirmation link again" form on a page, or None."""
    return soup(response).find("form", attrs={"action": RESEND_URL})


@pytest.fixture
def unconfirmed_attendee(make_user, register, meeting):
    """A member with a place at `meeting` who has not confirmed their email address yet."""
    user = make_user(display_name="Una Unconfirmed", email_confirmed=False)
    register(meeting, user)
    return user


def test_unconfirmed_members_are_offered_the_confirmation_link_again(
    client, meeting, unconfirmed_attendee, login_as, outbox
):
    login_as(unconfirmed_attendee)
    response = client.get(meeting.question_url())
    assert response.status_code == 200
    assert "Confirm your email address to join the discussion" in text(response)
    assert textarea(response) is None
    form = resend_form(response)
    assert form is not None
    assert form.find("button").get_text(strip=True) == "Send the link again"
    assert form.find("input", attrs={"name": "next"})["value"] == meeting.question_url()

    response = client.post(RESEND_URL, data={"next": meeting.question_url()})
    assert response.status_code == 302
    assert response.headers["Location"] == meeting.question_url()
    page = client.get(response.headers["Location"])
    assert flashes(page) == [
        f"We have sent a new confirmation link to {unconfirmed_attendee.email}."
    ]
    assert [row["to_address"] for row in outbox()][-1:] == [unconfirmed_attendee.email]


@pytest.mark.parametrize("who", ["anonymous", "attendee", "member", "organiser"])
def test_everyone_else_sees_no_resend_button(
    client, meeting, attendee, member, organiser, login_as, who
):
    people = {"attendee": attendee, "member": member, "organiser": organiser}
    if who in people:
        login_as(people[who])
    response = client.get(meeting.follow_up_url)
    assert response.status_code == 200
    assert resend_form(response) is None
    assert "Send the link again" not in text(response)


def test_the_resend_button_is_not_offered_where_confirming_would_not_help(
    client, make_meeting, make_user, login_as
):
    meeting = make_meeting(discussion_policy="closed")
    login_as(make_user(email_confirmed=False))
    response = client.get(meeting.question_url())
    assert "This discussion is closed." in text(response)
    assert resend_form(response) is None


def test_the_reply_page_offers_the_confirmation_link_instead_of_the_form(
    client, meeting, attendee, unconfirmed_attendee, post, login_as, snapshot
):
    comment = post(meeting, attendee, "Communities need time.")
    login_as(unconfirmed_attendee)
    response = client.get(f"/comments/{comment}/reply")
    assert response.status_code == 403
    assert "Confirm your email address to join the discussion" in text(response)
    assert "Communities need time." in text(response)
    assert textarea(response) is None
    form = resend_form(response)
    assert form is not None
    assert form.find("input", attrs={"name": "next"})["value"] == f"/comments/{comment}/reply"

    before = snapshot()
    response = client.post(f"/comments/{comment}/reply", data={"body": "Sneaking in."})
    assert response.status_code == 403
    assert resend_form(response) is not None
    assert snapshot() == before


def test_closed_discussions_are_read_only(client, make_meeting, organiser, login_as):
    meeting = make_meeting(discussion_policy="closed")
    login_as(organiser)
    response = client.get(meeting.question_url())
    assert "This discussion is closed." in text(response)
    assert textarea(response) is None
    assert client.post(meeting.question_url(), data={"body": "Hi"}).status_code == 403


def test_attendees_see_the_form(client, meeting, attendee, login_as):
    login_as(attendee)
    response = client.get(meeting.question_url())
    assert textarea(response) == ""
    assert soup(response).find(id="body-hint") is not None


def test_hidden_comment_shows_a_placeholder_to_others_and_a_notice_to_its_author(
    client, meeting, attendee, member, organiser, post, act_on, login_as
):
    comment = post(meeting, attendee, "Something regrettable")
    act_on(service.hide_comment, comment, organiser, "Personal remarks")
    public = comment_text(client.get(meeting.question_url()), comment)
    assert "[hidden by a moderator]" in public
    assert "regrettable" not in public and "Ada Attendee" not in public
    login_as(member)
    assert "regrettable" not in comment_text(client.get(meeting.question_url()), comment)
    login_as(attendee)
    own = comment_text(client.get(meeting.question_url()), comment)
    assert "Something regrettable" in own
    assert "A moderator has hidden this comment" in own


def test_sort_by_activity_puts_the_latest_conversation_first(client, meeting, attendee, post):
    first = post(meeting, attendee, "First")
    second = post(meeting, attendee, "Second")
    reply = post(meeting, attendee, "Reply to first", parent=first)
    assert comment_ids(client.get(meeting.question_url())) == [first, reply, second]
    active = client.get(meeting.question_url() + "?sort=active")
    assert comment_ids(active) == [first, reply, second]
    newest = post(meeting, attendee, "Third")
    assert comment_ids(client.get(meeting.question_url() + "?sort=active"))[:1] == [newest]
    assert comment_ids(client.get(meeting.question_url() + "?sort=bogus"))[:1] == [first]


def test_long_threads_paginate_by_top_level_comment(client, meeting, attendee, post):
    roots = [post(meeting, attendee, f"Comment {number}") for number in range(22)]
    first = client.get(meeting.question_url())
    assert comment_ids(first) == roots[:20]
    next_link = soup(first).find("a", rel="next")
    assert next_link["href"] == f"{meeting.question_url()}?page=2"
    assert comment_ids(client.get(next_link["href"])) == roots[20:]
    active = soup(client.get(meeting.question_url() + "?sort=active")).find("a", rel="next")
    assert "sort=active" in active["href"]


# Permalinks --------------------------------------------------------------------------------------


def test_permalink_redirects_to_the_comments_page_and_anchor(client, meeting, attendee, post):
    roots = [post(meeting, attendee, f"Comment {number}") for number in range(21)]
    reply = post(meeting, attendee, "A reply", parent=roots[20])
    response = client.get(f"/comments/{reply}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{meeting.question_url()}?page=2#comment-{reply}"
    first = client.get(f"/comments/{roots[0]}")
    assert first.headers["Location"] == f"{meeting.question_url()}?page=1#comment-{roots[0]}"


def test_permalinks_of_vanished_and_unknown_comments_are_404(
    client, meeting, attendee, post, act_on
):
    comment = post(meeting, attendee, "Gone")
    act_on(service.delete_comment, comment, attendee)
    assert client.get(f"/comments/{comment}").status_code == 404
    assert client.get("/comments/999999").status_code == 404


# Posting -----------------------------------------------------------------------------------------


def test_attendee_posts_a_comment_and_lands_on_it(client, meeting, attendee, login_as, stored):
    login_as(attendee)
    response = client.post(meeting.question_url(), data={"body": "My *view*"})
    assert response.status_code == 302
    match = re.fullmatch(
        rf"{meeting.question_url()}\?page=1#comment-(\d+)", response.headers["Location"]
    )
    assert match
    assert stored(int(match[1]))["body_html"] == "<p>My <em>view</em></p>\n"
    page = client.get(response.headers["Location"])
    assert "Your comment has been posted." in flashes(page)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something before posting."),
        ("   \n  ", "Write something before posting."),
        ("x" * 10_001, "at most 10,000 characters"),
    ],
)
def test_bad_bodies_are_refused_beside_the_field_and_kept(
    client, meeting, attendee, login_as, snapshot, body, message
):
    login_as(attendee)
    before = snapshot()
    response = client.post(meeting.question_url(), data={"body": body})
    assert response.status_code == 400
    assert message in field_error(response, "body")
    assert textarea(response) == body.rstrip()  # trailing blank space is trimmed, nothing else
    assert soup(response).find(id="body")["aria-invalid"] == "true"
    assert snapshot() == before


def test_posting_to_a_locked_thread_is_forbidden(
    client, meeting, attendee, organiser, login_as, in_app, snapshot
):
    from eventmgr.accounts.models import User
    from eventmgr.extensions import db
    from tests.discussions.conftest import topic_for

    def lock() -> None:
        service.set_locked(topic_for(meeting), db.session.get(User, organiser.id), locked=True)
        db.session.commit()

    in_app(lock)
    login_as(attendee)
    assert "This discussion has been locked by a moderator." in text(
        client.get(meeting.question_url())
    )
    before = snapshot()
    response = client.post(meeting.question_url(), data={"body": "Let me in"})
    assert response.status_code == 403
    assert "locked" in text(response)
    assert snapshot() == before


def test_a_parent_from_another_thread_is_refused(
    client, meeting, attendee, post, login_as, snapshot
):
    elsewhere = post(meeting, attendee, "On question two", question=1)
    login_as(attendee)
    before = snapshot()
    response = client.post(meeting.question_url(), data={"body": "Hi", "parent": str(elsewhere)})
    assert response.status_code == 400
    assert "not available for replies" in text(response)
    for parent in ("999999", "abc"):
        response = client.post(meeting.question_url(), data={"body": "Hi", "parent": parent})
        assert response.status_code == 400
    assert snapshot() == before


def test_a_reply_can_be_posted_to_the_thread_with_a_parent(
    client, meeting, attendee, post, login_as, stored
):
    parent = post(meeting, attendee, "Parent")
    login_as(attendee)
    response = client.post(meeting.question_url(), data={"body": "Child", "parent": str(parent)})
    reply = int(response.headers["Location"].rsplit("-", 1)[1])
    assert stored(reply)["parent_id"] == parent


def test_csrf_token_is_required_on_every_post(csrf_client, meeting, attendee, post, snapshot):
    comment = post(meeting, attendee, "Parent")
    with csrf_client.session_transaction() as session:
        session["_user_id"] = attendee.get_id()
        session["_fresh"] = True
    before = snapshot()
    for url in (
        meeting.question_url(),
        f"/comments/{comment}/reply",
        f"/comments/{comment}/edit",
        f"/comments/{comment}/delete",
    ):
        response = csrf_client.post(url, data={"body": "No token"})
        assert response.status_code == 400, url
    assert snapshot() == before


def test_csrf_token_from_the_page_is_accepted(csrf_client, meeting, attendee):
    with csrf_client.session_transaction() as session:
        session["_user_id"] = attendee.get_id()
        session["_fresh"] = True
    page = soup(csrf_client.get(meeting.question_url()))
    token = page.select_one("form.form input[name=csrf_token]")["value"]
    response = csrf_client.post(meeting.question_url(), data={"body": "Hi", "csrf_token": token})
    assert response.status_code == 302


# Replying and quoting ----------------------------------------------------------------------------


def test_quote_reply_prefills_the_form_without_javascript(
    client, meeting, attendee, member, register, post, login_as
):
    register(meeting, member)
    comment = post(meeting, attendee, "Networks need\nfunding.")
    login_as(member)
    response = client.get(f"/comments/{comment}/reply?quote=1")
    assert response.status_code == 200
    assert textarea(response) == "> Networks need\n> funding.\n\n"
    plain = client.get(f"/comments/{comment}/reply")
    assert textarea(plain) == ""
    form = soup(plain).find("form", class_="form")
    assert form["action"] == f"/comments/{comment}/reply"


def test_reply_is_posted_under_its_parent_and_emails_its_author(
    client, meeting, attendee, member, register, post, login_as, outbox
):
    register(meeting, member)
    parent = post(meeting, attendee, "What do you think?")
    login_as(member)
    response = client.post(f"/comments/{parent}/reply", data={"body": "> What\n\nI agree"})
    assert response.status_code == 302
    reply = int(response.headers["Location"].rsplit("-", 1)[1])
    page = client.get(meeting.question_url())
    assert comment_ids(page) == [parent, reply]
    (email,) = outbox()
    assert email["to_address"] == attendee.email
    assert f"/comments/{reply}" in email["text_body"]


def test_replying_to_hidden_or_deleted_comments_is_refused(
    client, meeting, attendee, organiser, post, act_on, login_as, snapshot
):
    hidden = post(meeting, attendee, "Hidden")
    deleted = post(meeting, attendee, "Deleted")
    act_on(service.hide_comment, hidden, organiser, "Rude")
    act_on(service.delete_comment, deleted, attendee)
    login_as(organiser)
    before = snapshot()
    for comment in (hidden, deleted):
        assert client.get(f"/comments/{comment}/reply").status_code == 400
        response = client.post(f"/comments/{comment}/reply", data={"body": "Hi"})
        assert response.status_code == 400
    assert "The comment you are replying to is not available for replies." in text(response)
    assert snapshot() == before


def test_bad_reply_bodies_re_render_the_reply_form(client, meeting, attendee, post, login_as):
    parent = post(meeting, attendee, "Parent")
    login_as(attendee)
    response = client.post(f"/comments/{parent}/reply", data={"body": "  "})
    assert response.status_code == 400
    assert "Write something" in field_error(response, "body")


# Editing and deleting ----------------------------------------------------------------------------


def test_author_edits_and_the_edited_marker_shows(client, meeting, attendee, post, login_as):
    comment = post(meeting, attendee, "Frist")
    login_as(attendee)
    form = client.get(f"/comments/{comment}/edit")
    assert textarea(form) == "Frist"
    response = client.post(f"/comments/{comment}/edit", data={"body": "First"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#comment-{comment}")
    shown = soup(client.get(meeting.question_url())).find(id=f"comment-{comment}")
    assert "First" in shown.get_text()
    edited = shown.find(class_="comment__edited")
    assert edited is not None and edited.find("time")["datetime"]


def test_edit_errors_keep_the_input(client, meeting, attendee, post, login_as, stored):
    comment = post(meeting, attendee, "Original")
    login_as(attendee)
    response = client.post(f"/comments/{comment}/edit", data={"body": "y" * 10_001})
    assert response.status_code == 400
    assert "10,000" in field_error(response, "body")
    assert textarea(response) == "y" * 10_001
    assert stored(comment)["body"] == "Original"


def test_forged_edit_and_delete_urls_are_forbidden(
    client, meeting, attendee, member, organiser, post, login_as, snapshot
):
    comment = post(meeting, attendee, "Mine")
    before = snapshot()
    for other in (member, organiser):
        login_as(other)
        assert client.get(f"/comments/{comment}/edit").status_code == 403
        assert client.post(f"/comments/{comment}/edit", data={"body": "Theirs"}).status_code == 403
        assert client.post(f"/comments/{comment}/delete").status_code == 403
    assert client.post("/comments/999999/edit", data={"body": "x"}).status_code == 404
    assert snapshot() == before


def test_delete_keeps_a_placeholder_while_replies_remain(
    client, meeting, attendee, organiser, post, login_as
):
    parent = post(meeting, attendee, "Parent")
    reply = post(meeting, organiser, "Reply", parent=parent)
    lonely = post(meeting, attendee, "Lonely")
    login_as(attendee)
    assert client.get(f"/comments/{parent}/delete").status_code == 200
    assert client.post(f"/comments/{parent}/delete").status_code == 302
    assert client.post(f"/comments/{lonely}/delete").status_code == 302
    page = client.get(meeting.question_url())
    assert comment_ids(page) == [parent, reply]
    placeholder = comment_text(page, parent)
    assert "[deleted]" in placeholder and "Parent" not in placeholder
    assert "Ada Attendee" not in placeholder


# Reports and moderation --------------------------------------------------------------------------


def test_member_reports_a_comment_and_organisers_see_it(
    client, meeting, attendee, member, organiser, post, login_as
):
    comment = post(meeting, attendee, "Dubious claim")
    login_as(member)
    assert client.get(f"/comments/{comment}/report").status_code == 200
    empty = client.post(f"/comments/{comment}/report", data={"reason": ""})
    assert empty.status_code == 400 and field_error(empty, "reason")
    response = client.post(f"/comments/{comment}/report", data={"reason": "Not true"})
    assert response.status_code == 302
    # A second report (a double click) is no error: the member is told and nothing is added.
    again = client.post(
        f"/comments/{comment}/report", data={"reason": "Really"}, follow_redirects=True
    )
    assert again.status_code == 200 and "already reported" in text(again)

    login_as(organiser)
    moderation = client.get("/moderation/")
    assert moderation.status_code == 200
    listed = text(moderation)
    assert "Dubious claim" in listed and "Not true" in listed and "Max Member" in listed


def test_organiser_hides_with_a_reason_and_the_log_records_it(
    client, meeting, attendee, organiser, post, login_as, stored
):
    comment = post(meeting, attendee, "Rude")
    login_as(organiser)
    form = client.get(f"/comments/{comment}/hide")
    assert form.status_code == 200
    missing = client.post(f"/comments/{comment}/hide", data={"reason": ""})
    assert missing.status_code == 400
    assert "Say why" in field_error(missing, "reason")
    assert stored(comment)["status"] == "published"
    response = client.post(f"/comments/{comment}/hide", data={"reason": "Personal attack"})
    assert response.status_code == 302
    assert stored(comment)["status"] == "hidden"
    assert stored(comment)["body"] == "Rude"  # hidden, never edited

    restored = client.post(f"/comments/{comment}/restore", data={"reason": "On reflection"})
    assert restored.status_code == 302 and stored(comment)["status"] == "published"

    log = soup(client.get("/moderation/")).find("table")
    rows = [" ".join(row.get_text(" ").split()) for row in log.select("tbody tr")]
    assert len(rows) == 2
    assert "Olivia Organiser" in rows[1] and "Hid" in rows[1] and "Personal attack" in rows[1]
    assert "Restored" in rows[0] and "On reflection" in rows[0]


def test_organiser_locks_and_unlocks_a_thread(client, meeting, attendee, organiser, login_as):
    login_as(organiser)
    response = client.post(f"{meeting.question_url()}/lock", data={"reason": "Too heated"})
    assert response.status_code == 302
    login_as(attendee)
    assert textarea(client.get(meeting.question_url())) is None
    login_as(organiser)
    client.post(f"{meeting.question_url()}/unlock", data={"reason": "Calmer now"})
    login_as(attendee)
    assert textarea(client.get(meeting.question_url())) == ""
    login_as(organiser)
    log = text(client.get("/moderation/"))
    assert "Locked the discussion" in log and "Too heated" in log and "Calmer now" in log


def test_dismissing_reports_clears_them_from_the_moderation_page(
    client, meeting, attendee, member, organiser, post, act_on, login_as
):
    comment = post(meeting, attendee, "Borderline")
    act_on(service.report_comment, comment, member, "Hmm")
    login_as(organiser)
    response = client.post(f"/comments/{comment}/dismiss", data={"reason": "Fair"})
    assert response.status_code == 302
    assert "No open reports." in text(client.get("/moderation/"))


# Meeting and home pages --------------------------------------------------------------------------


def test_meeting_page_shows_each_questions_count_and_latest_activity(
    client, meeting, attendee, post
):
    post(meeting, attendee, "One")
    post(meeting, attendee, "Two", question=1)
    post(meeting, attendee, "Three", question=1)
    page = soup(client.get(f"/events/{meeting.slug}"))
    items = page.select(".discussion-list__item")
    described = [" ".join(item.get_text(" ").split()) for item in items]
    assert described[0].startswith("What do communities need? 1 comment · latest")
    assert described[1].startswith("Who pays for networks? 2 comments · latest")
    assert described[2] == "Follow-up discussion 0 comments"
    links = [item.find("a")["href"] for item in items]
    assert links == [meeting.question_url(0), meeting.question_url(1), meeting.follow_up_url]
    assert items[1].find("time")["datetime"]


def test_home_page_lists_recently_active_discussions(client, meeting, attendee, post):
    assert "Recently active discussions" not in text(client.get("/"))
    post(meeting, attendee, "One", question=1)
    page = soup(client.get("/"))
    section = page.find(id="recent-discussions-heading").find_parent("section")
    link = section.find("a")
    assert link.get_text() == "Who pays for networks?"
    assert link["href"] == meeting.question_url(1)
