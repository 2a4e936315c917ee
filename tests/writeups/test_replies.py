"""Leave a Reply: members at once, guests through moderation, with the spam defences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventmgr.discussions.models import Comment, ModerationAction
from eventmgr.extensions import db as _db
from tests.discussions.helpers import comment_ids, field_error, flashes, soup, text
from tests.writeups.helpers import GUEST, comments, follow_confirmation, guest_post


def test_members_reply_at_once_and_threaded(client, member, make_user, login_as, writeup, outbox):
    login_as(member)
    response = client.post(writeup["url"], data={"body": "Great evening."})
    assert response.status_code == 302
    page = client.get(writeup["url"])
    [first] = comment_ids(page)
    assert "Replies (1)" in text(page)
    other = make_user(display_name="Other Member")
    login_as(other)
    client.post(f"/comments/{first}/reply", data={"body": "Agreed!"})
    page = client.get(writeup["url"])
    reply = soup(page).find(id=f"comment-{first}").find_next("ol", class_="comments--replies")
    assert reply is not None and "Agreed!" in reply.get_text()
    # The member is told about the reply, as in the meeting discussions.
    assert [row["to_address"] for row in outbox()] == [member.email]


def test_guest_comment_waits_for_moderation_and_the_guest_sees_it_marked(
    client, app, writeup, token, in_app
):
    response = guest_post(client, writeup, token)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Your comment is awaiting moderation." in " ".join(flashes(page))
    mine = soup(page).select_one(".comment--pending")
    assert "Awaiting moderation" in mine.get_text() and "report" in mine.get_text()
    assert comments(in_app) == [("pending", "gina@example.org", "127.0.0.1", GUEST["body"])]
    # Nobody else sees it, nor counts it, nor finds it in the feed.
    other = app.test_client()
    page = other.get(writeup["url"])
    assert comment_ids(page) == [] and "Replies (0)" in text(page)
    assert "report" not in other.get("/writeups.atom").get_data(as_text=True).split("<content")[0]
    assert "gina@example.org" not in page.get_data(as_text=True).lower()


def test_organiser_approves_rejects_or_marks_spam_and_the_log_records_it(
    client, app, organiser, login_as, writeup, token, in_app
):
    emails = ["a@example.org", "b@example.org", "c@example.org"]
    for number, email in enumerate(emails, start=1):
        guest = app.test_client()
        assert (
            guest_post(guest, writeup, token, email=email, ip=f"10.0.0.{number}").status_code == 302
        )
    ids = in_app(lambda: list(_db.session.scalars(select(Comment.id).order_by(Comment.id))))
    login_as(organiser)
    moderation = soup(client.get("/moderation/"))
    assert moderation.find(id="pending-heading") is not None
    assert len(moderation.select(f"form[action='/comments/{ids[0]}/approve']")) == 1
    assert client.get(f"/comments/{ids[0]}/approve").status_code == 405
    for comment_id, decision in zip(ids, ("approve", "reject", "spam"), strict=True):
        assert client.post(f"/comments/{comment_id}/{decision}").status_code == 302
    assert [row[0] for row in comments(in_app)] == ["published", "deleted", "spam"]
    actions = in_app(
        lambda: [
            a.action
            for a in _db.session.scalars(select(ModerationAction).order_by(ModerationAction.id))
        ]
    )
    assert actions == ["approve", "reject", "spam"]
    # Approving again (a double click) says so and changes nothing.
    again = client.post(f"/comments/{ids[0]}/approve", follow_redirects=True)
    assert again.status_code == 200 and "already approved" in text(again)
    assert in_app(lambda: _db.session.scalar(select(func.count(ModerationAction.id)))) == 3
    client.post("/account/logout")
    page = client.get(writeup["url"])
    assert comment_ids(page) == [ids[0]] and "Replies (1)" in text(page)
    assert "Gina Guest" in text(page)


def test_members_cannot_moderate(client, member, login_as, writeup, token, in_app):
    guest_post(client, writeup, token)
    [comment_id] = in_app(lambda: list(_db.session.scalars(select(Comment.id))))
    login_as(member)
    assert client.post(f"/comments/{comment_id}/approve").status_code == 403
    assert comments(in_app)[0][0] == "pending"


def age_comments(in_app) -> None:
    """Date every comment five minutes back, so the flood limit lets the next one through."""
    in_app(
        lambda: (
            _db.session.execute(
                Comment.__table__.update().values(
                    created_at=datetime.now(UTC) - timedelta(minutes=5)
                )
            ),
            _db.session.commit(),
        )
    )


def test_an_approved_email_posts_at_once_unless_it_carries_many_links(
    client, organiser, login_as, writeup, token, in_app, make_app
):
    guest_post(client, writeup, token)
    [first] = in_app(lambda: list(_db.session.scalars(select(Comment.id))))
    login_as(organiser)
    client.post(f"/comments/{first}/approve")
    client.post("/account/logout")
    age_comments(in_app)

    again = make_app(WRITEUP_MIN_FILL_SECONDS=0).test_client()
    # Approved, but the address is not confirmed yet: still waits.
    response = guest_post(again, writeup, token, body="Me again.", email="GINA@example.org")
    assert comments(in_app)[-1][0] == "pending"
    assert follow_confirmation(again, in_app).status_code == 200
    age_comments(in_app)
    response = guest_post(again, writeup, token, body="Me again.", email="GINA@example.org")
    assert response.status_code == 302
    assert comments(in_app)[-1][0] == "published"
    age_comments(in_app)
    links = "See https://a.example https://b.example and www.c.example"
    guest_post(again, writeup, token, body=links, email="gina@example.org")
    assert comments(in_app)[-1][0] == "pending"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"website": "https://spam.example"}, "could not be accepted"),
        ({"started": "forged"}, "could not be accepted"),
    ],
)
def test_bots_are_refused_and_nothing_is_saved(client, writeup, token, counts, changes, message):
    before = counts()
    response = guest_post(client, writeup, token, **changes)
    assert response.status_code == 400
    assert message in " ".join(flashes(response))
    assert counts() == before


def test_the_honeypot_is_hidden_from_people(client, writeup):
    trap = soup(client.get(writeup["url"])).find("input", attrs={"name": "website"})
    assert trap["tabindex"] == "-1" and trap["autocomplete"] == "off"
    assert trap.find_parent(class_="honeypot")["aria-hidden"] == "true"


def test_a_form_sent_back_too_quickly_is_refused(make_app, writeup, token, counts):
    client = make_app(WRITEUP_MIN_FILL_SECONDS=3).test_client()
    response = client.post(writeup["url"], data={**GUEST, "started": token(age=1)})
    assert response.status_code == 400
    assert "That was quick" in " ".join(flashes(response))
    assert counts()["comments"] == 0
    assert client.post(writeup["url"], data={**GUEST, "started": token(age=4)}).status_code == 302
    assert counts()["comments"] == 1


def test_one_comment_per_fifteen_seconds_per_address_and_per_email(
    make_app, writeup, token, in_app
):
    client = make_app(WRITEUP_MIN_FILL_SECONDS=0).test_client()
    assert guest_post(client, writeup, token).status_code == 302
    same_address = guest_post(client, writeup, token, email="someone.else@example.org")
    assert same_address.status_code == 400
    assert "too quickly" in " ".join(flashes(same_address))
    other_address = make_app(WRITEUP_MIN_FILL_SECONDS=0).test_client()
    same_email = other_address.post(
        writeup["url"], data={**GUEST, "started": token()}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert same_email.status_code == 400
    assert len(comments(in_app)) == 1
    # Once the 15 seconds have passed, the next comment goes through.
    in_app(
        lambda: (
            _db.session.execute(
                Comment.__table__.update().values(
                    created_at=datetime.now(UTC) - timedelta(seconds=16)
                )
            ),
            _db.session.commit(),
        )
    )
    assert guest_post(client, writeup, token).status_code == 302


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not an email"}, "email", "such as name@example.org"),
        ({"name": "n" * 101}, "name", "at most 100"),
        ({"name": ""}, "name", "Give your name"),
        ({"body": ""}, "body", "Write something"),
    ],
)
def test_bad_guest_input_is_shown_beside_its_field(
    client, writeup, token, counts, changes, field, message
):
    response = guest_post(client, writeup, token, **changes)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert counts()["comments"] == 0


def test_no_replies_to_an_unpublished_write_up(
    client, organiser, member, login_as, make_writeup, token, counts, in_app
):
    draft = make_writeup(slug="draft", status="draft")
    assert guest_post(client, draft, lambda: token(writeup_id=draft["id"])).status_code == 404
    login_as(organiser)
    response = client.post(draft["url"], data={"body": "Early words."})
    assert response.status_code == 403
    assert "not published" in response.get_data(as_text=True)
    assert counts()["comments"] == 0


# Members who have not confirmed their email address ----------------------------------------------

RESEND_URL = "/account/confirm/resend"


def resend_form(response):
    """The "send the confirmation link again" form on a page, or None."""
    return soup(response).find("form", attrs={"action": RESEND_URL})


def test_unconfirmed_members_are_offered_the_confirmation_link_instead_of_the_form(
    client, make_user, login_as, writeup, counts
):
    login_as(make_user(email_confirmed=False))
    response = client.get(writeup["url"])
    assert response.status_code == 200
    assert "Confirm your email address to join the discussion" in text(response)
    assert soup(response).find("textarea") is None
    form = resend_form(response)
    assert form is not None
    assert form.find("input", attrs={"name": "next"})["value"] == writeup["url"]

    before = counts()
    response = client.post(writeup["url"], data={"body": "Sneaking in."})
    assert response.status_code == 403
    assert resend_form(response) is not None
    assert counts() == before


@pytest.mark.parametrize("who", ["guest", "member", "organiser"])
def test_everyone_else_sees_a_reply_form_and_no_resend_button(
    client, member, organiser, login_as, writeup, who
):
    people = {"member": member, "organiser": organiser}
    if who in people:
        login_as(people[who])
    response = client.get(writeup["url"])
    assert response.status_code == 200
    assert resend_form(response) is None
    assert "Send the link again" not in text(response)
    assert soup(response).find("textarea", attrs={"name": "body"}) is not None
