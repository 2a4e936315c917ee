"""A guest's confirmation link over HTTP: the email, the page that says what happened, the browser's
guest pass; and guests' bylines marked "(guest)" wherever a comment's author is named."""

from __future__ import annotations

from sqlalchemy import select

from eventmgr.discussions.models import Comment
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from tests.discussions.helpers import soup, text
from tests.writeups.helpers import (
    comments,
    confirmation_links,
    guest_post,
)
from tests.writeups.test_replies import age_comments


def test_a_guest_is_emailed_one_link_and_the_page_says_what_confirming_did(
    client, writeup, token, in_app
):
    guest_post(client, writeup, token)
    age_comments(in_app)
    guest_post(client, writeup, token, body="Again.", email="gina+2@EXAMPLE.org")
    [link] = confirmation_links(in_app)
    [email] = in_app(
        lambda: list(
            _db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "guest_confirmation")
            )
        )
    )
    assert email.to_address == "gina@example.org"
    # Nothing the guest typed reaches the address they typed: not their name, not their words.
    assert "Gina Guest" not in email.text_body and "report" not in email.text_body.lower()

    page = client.get(link)
    assert page.status_code == 200
    assert "Email address confirmed" in text(page) and "does not publish anything" in text(page)
    assert "guest_pass" in page.headers["Set-Cookie"] and "HttpOnly" in page.headers["Set-Cookie"]
    assert [row[0] for row in comments(in_app)] == ["pending", "pending"]


def test_a_broken_or_forged_link_says_so_and_changes_nothing(client, writeup, token, in_app):
    guest_post(client, writeup, token)
    [link] = confirmation_links(in_app)
    page = client.get(link[:-3] + "abc")
    assert page.status_code == 400
    assert "Confirmation link not valid" in text(page)
    assert "Set-Cookie" not in page.headers or "guest_pass" not in page.headers["Set-Cookie"]


def test_guest_bylines_say_guest_on_the_page_the_moderation_page_and_the_reply_email(
    client, app, organiser, member, login_as, writeup, token, in_app, outbox
):
    login_as(member)
    client.post(writeup["url"], data={"body": "A member's view."})
    client.post("/account/logout")
    [member_comment] = in_app(lambda: list(_db.session.scalars(select(Comment.id))))
    ordered = select(Comment.id).order_by(Comment.id)
    guest_post(
        client,
        writeup,
        token,
        name="Olive Organiser",
        url=f"{writeup['url']}/comments/{member_comment}/reply",
    )
    [_, guest_comment] = in_app(lambda: list(_db.session.scalars(ordered)))
    moderator = app.test_client()
    login_as(organiser, moderator)
    moderation = moderator.get("/moderation/")
    assert "Olive Organiser (guest)" in text(moderation)
    moderator.post(f"/comments/{guest_comment}/approve")

    page = client.get(writeup["url"])
    byline = soup(page).find(id=f"comment-{guest_comment}").select_one(".comment__author")
    assert byline.get_text(strip=True) == "Olive Organiser (guest)"
    reply_email = [row for row in outbox() if row["kind"] == "comment-reply"][-1]
    assert reply_email["subject"].startswith("Olive Organiser (guest) replied")
    assert "Olive Organiser (guest) replied" in reply_email["text_body"]
