"""Guests reply to a comment on a write-up, as on a WordPress "Leave a Reply" form: a Reply link per
comment, a form under the quoted comment, then moderation; never on the meetings' discussions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from eventmgr.accounts.models import User
from eventmgr.discussions import service as discussions_service
from eventmgr.discussions.models import Comment, CommentStatus
from eventmgr.extensions import db as _db
from eventmgr.writeups import service
from eventmgr.writeups.models import WriteUp
from tests.discussions.helpers import comment_ids, field_error, flashes, soup, text, textarea
from tests.writeups.helpers import GUEST, follow_confirmation, guest_post, replies_emailed

REPLY = "A guest's **answer** to Max."


@pytest.fixture
def commented(in_app, writeup, member) -> int:
    """A published comment by `member` on `writeup`; returns its id."""

    def act() -> int:
        comment = service.add_member_reply(
            _db.session.get(WriteUp, writeup["id"]),
            _db.session.get(User, member.id),
            "Max's thoughts on the evening.",
            parent=None,
        )
        _db.session.commit()
        return comment.id

    return in_app(act)


def reply_url(writeup: dict[str, Any], comment_id: int) -> str:
    """The guest reply form under comment `comment_id`."""
    return f"{writeup['url']}/comments/{comment_id}/reply"


def reply_as_guest(client, writeup, token, comment_id: int, **changes: Any):
    """POST a guest reply to comment `comment_id`."""
    changes.setdefault("body", REPLY)
    return guest_post(client, writeup, token, url=reply_url(writeup, comment_id), **changes)


def set_status(in_app: Callable[..., Any], comment_id: int, status: str) -> None:
    """Put a comment in `status` directly."""
    in_app(
        lambda: (
            _db.session.execute(
                update(Comment).where(Comment.id == comment_id).values(status=status)
            ),
            _db.session.commit(),
        )
    )


def forget_recent_posts(in_app: Callable[..., Any]) -> None:
    """Move every comment a minute back, so the 15-second flood limit lets the next one through."""
    in_app(
        lambda: (
            _db.session.execute(
                update(Comment).values(created_at=datetime.now(UTC) - timedelta(minutes=1))
            ),
            _db.session.commit(),
        )
    )


def tree(in_app: Callable[..., Any]) -> list[tuple[Any, ...]]:
    """Every comment's id, status, parent, root and depth."""
    return in_app(
        lambda: [
            tuple(row)
            for row in _db.session.execute(
                select(
                    Comment.id, Comment.status, Comment.parent_id, Comment.root_id, Comment.depth
                ).order_by(Comment.id)
            )
        ]
    )


# Reply links and the form ------------------------------------------------------------------------


def test_guests_see_a_reply_link_to_a_form_under_the_quoted_comment(client, writeup, commented):
    page = soup(client.get(writeup["url"]))
    article = page.find(id=f"comment-{commented}")
    links = {a.get_text(" ", strip=True): a["href"] for a in article.select(".comment__actions a")}
    assert links == {
        f"Reply to comment {commented}": reply_url(writeup, commented),
        f"Quote comment {commented}": reply_url(writeup, commented) + "?quote=1",
    }
    response = client.get(reply_url(writeup, commented))
    assert response.status_code == 200
    form_page = soup(response)
    assert form_page.find("h1").get_text() == "Reply to Max Member"
    # The comment being answered stands above the form, without links of its own.
    [shown] = form_page.select("article.comment")
    assert shown["id"] == f"comment-{commented}" and "Max's thoughts" in shown.get_text()
    assert not shown.select(".comment__actions")
    form = form_page.find("form", attrs={"action": reply_url(writeup, commented)})
    names = {field["name"] for field in form.select("input, textarea")}
    assert {"name", "email", "body", "website", "started", "csrf_token"} <= names
    assert form.find(class_="honeypot")["aria-hidden"] == "true"
    assert textarea(response) == ""
    quoted = client.get(reply_url(writeup, commented) + "?quote=1")
    assert textarea(quoted).startswith("> Max's thoughts on the evening.")


def test_members_keep_their_own_reply_links_and_are_sent_to_their_reply_form(
    client, make_user, login_as, writeup, commented
):
    login_as(make_user(display_name="Other Member"))
    article = soup(client.get(writeup["url"])).find(id=f"comment-{commented}")
    hrefs = [a["href"] for a in article.select(".comment__actions a")]
    assert f"/comments/{commented}/reply" in hrefs
    assert not any(href.startswith("/writeups/") for href in hrefs)
    response = client.get(reply_url(writeup, commented) + "?quote=1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/comments/{commented}/reply?quote=1")


def test_the_meetings_discussions_stay_members_only(
    client, app, meeting, attendee, post, writeup, token, counts
):
    root = post(meeting, attendee, "About the first key question.")
    page = client.get(meeting.question_url())
    assert comment_ids(page) == [root]
    assert not soup(page).select(f"#comment-{root} .comment__actions a")
    assert client.get(f"/comments/{root}/reply").status_code == 302  # to the login page
    # The write-up's guest form does not take a question's comment either.
    before = counts()
    assert client.get(reply_url(writeup, root)).status_code == 404
    assert reply_as_guest(client, writeup, token, root).status_code == 404
    assert counts() == before


# Posting a reply ---------------------------------------------------------------------------------


def test_a_guest_reply_waits_for_moderation_then_shows_nested(
    client, app, organiser, member, login_as, writeup, token, commented, in_app, outbox
):
    response = reply_as_guest(client, writeup, token, commented)
    assert response.status_code == 302
    [(_, _), (reply_id, status)] = [row[:2] for row in tree(in_app)]
    assert status == "pending"
    assert tree(in_app)[1] == (reply_id, "pending", commented, commented, 1)
    assert response.headers["Location"].endswith(f"{writeup['url']}#comment-{reply_id}")
    page = client.get(response.headers["Location"])
    assert "Your comment is awaiting moderation." in " ".join(flashes(page))
    mine = soup(page).find(id=f"comment-{reply_id}")
    assert "Awaiting moderation" in mine.get_text() and "in reply to Max Member" in text(page)
    # Nobody else sees it, counts it or is told of it before a moderator approves it.
    stranger = app.test_client()
    page = stranger.get(writeup["url"])
    assert comment_ids(page) == [commented] and "Replies (1)" in text(page)
    assert "answer" not in page.get_data(as_text=True)
    assert stranger.get(f"/comments/{reply_id}").status_code == 404
    assert stranger.get(reply_url(writeup, reply_id)).status_code == 404
    assert replies_emailed(outbox) == []

    login_as(organiser)
    page = client.get(writeup["url"])
    nested = soup(page).find(id=f"comment-{commented}").find_next("ol", class_="comments--replies")
    assert nested.find(id=f"comment-{reply_id}") is not None
    assert "Awaiting moderation" in nested.get_text()
    assert client.post(f"/comments/{reply_id}/approve").status_code == 302

    page = stranger.get(writeup["url"])
    nested = soup(page).find(id=f"comment-{commented}").find_next("ol", class_="comments--replies")
    assert "answer" in nested.find(id=f"comment-{reply_id}").get_text()
    assert "Gina Guest" in nested.get_text() and "Replies (2)" in text(page)
    # Max hears about the reply once it is shown.
    assert replies_emailed(outbox) == [member.email]


def test_a_guest_can_answer_a_reply_and_it_nests_under_the_same_conversation(
    client, app, organiser, login_as, writeup, token, commented, in_app
):
    assert reply_as_guest(client, writeup, token, commented).status_code == 302
    [_, (first, *_)] = tree(in_app)
    moderator = app.test_client()
    login_as(organiser, moderator)
    moderator.post(f"/comments/{first}/approve")
    follow_confirmation(client, in_app)
    forget_recent_posts(in_app)
    response = reply_as_guest(client, writeup, token, first, email="hal@example.org")
    assert response.status_code == 302
    assert tree(in_app)[-1][1:] == ("pending", first, commented, 2)


def test_an_approved_guest_replies_at_once_and_the_conversation_is_freshened(
    client, app, organiser, login_as, writeup, token, commented, in_app, outbox, member
):
    reply_as_guest(client, writeup, token, commented)
    [_, (first, *_)] = tree(in_app)
    moderator = app.test_client()
    login_as(organiser, moderator)
    moderator.post(f"/comments/{first}/approve")
    follow_confirmation(client, in_app)
    forget_recent_posts(in_app)
    before = in_app(lambda: _db.session.get(Comment, commented).activity_at)
    response = reply_as_guest(client, writeup, token, commented, body="Once more.")
    assert response.status_code == 302
    last = tree(in_app)[-1]
    assert last[1:] == ("published", commented, commented, 1)
    assert f"#comment-{last[0]}" in response.headers["Location"]
    assert in_app(lambda: _db.session.get(Comment, commented).activity_at) > before
    # Both replies (the approved one and this one) come in one email to the member: reply emails
    # to one person are gathered (issue 11; tests/discussions/test_reply_emails.py).
    [email] = [email for email in outbox() if email["to_address"] == member.email]
    assert "2 new replies" in email["text_body"] and "Once more." in email["text_body"]


@pytest.mark.parametrize("status", ["pending", "hidden", "deleted", "spam"])
def test_replies_to_a_comment_that_is_not_shown_are_not_found(
    client, writeup, token, commented, in_app, counts, status
):
    set_status(in_app, commented, status)
    before = counts()
    assert client.get(reply_url(writeup, commented)).status_code == 404
    assert reply_as_guest(client, writeup, token, commented).status_code == 404
    assert counts() == before


def test_replies_to_a_comment_of_another_write_up_or_none_are_not_found(
    client, make_writeup, writeup, token, commented, counts
):
    other = make_writeup(slug="another-report", title="Another report")
    before = counts()
    for url in (reply_url(other, commented), reply_url(writeup, commented + 1000)):
        assert client.get(url).status_code == 404
        assert client.post(url, data={**GUEST, "started": token()}).status_code == 404
    assert counts() == before


def test_no_guest_replies_under_a_draft_or_in_a_locked_thread(
    client, app, organiser, login_as, writeup, token, commented, in_app, counts, writeup_row
):
    in_app(
        lambda: (
            discussions_service.set_locked(
                service.topic(_db.session.get(WriteUp, writeup["id"])),
                _db.session.get(User, organiser.id),
                locked=True,
            ),
            _db.session.commit(),
        )
    )
    before = counts()
    page = client.get(writeup["url"])
    assert not soup(page).select(f"#comment-{commented} .comment__actions a")
    form_page = client.get(reply_url(writeup, commented))
    assert discussions_service.LOCKED_MESSAGE in text(form_page)
    assert soup(form_page).find("textarea") is None
    assert reply_as_guest(client, writeup, token, commented).status_code == 403
    moderator = app.test_client()
    login_as(organiser, moderator)
    moderator.post(f"{writeup['url']}/unpublish")
    assert writeup_row(writeup["slug"])["status"] == "draft"
    assert client.get(reply_url(writeup, commented)).status_code == 404
    assert reply_as_guest(client, writeup, token, commented).status_code == 404
    assert counts() == before


# The spam defences hold under a comment too -------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"website": "https://spam.example"}, "could not be accepted"),
        ({"started": "forged"}, "could not be accepted"),
    ],
)
def test_bots_replying_are_refused_and_nothing_is_saved(
    client, writeup, token, commented, counts, changes, message
):
    before = counts()
    response = reply_as_guest(client, writeup, token, commented, **changes)
    assert response.status_code == 400
    assert message in " ".join(flashes(response))
    assert counts() == before
    # The form is shown again with the guest's words and a new timestamp.
    assert "answer" in textarea(response)
    assert soup(response).find("input", attrs={"name": "started"})["value"] not in ("", "forged")


def test_a_reply_sent_back_too_quickly_is_refused(make_app, writeup, token, commented, counts):
    client = make_app(WRITEUP_MIN_FILL_SECONDS=3).test_client()
    url = reply_url(writeup, commented)
    response = client.post(url, data={**GUEST, "started": token(age=1)})
    assert response.status_code == 400
    assert "That was quick" in " ".join(flashes(response))
    assert client.post(url, data={**GUEST, "started": token(age=4)}).status_code == 302
    assert counts()["comments"] == 2


def test_replies_share_the_flood_limit_with_top_level_comments(
    client, app, writeup, token, commented, in_app
):
    assert guest_post(client, writeup, token).status_code == 302
    same_address = reply_as_guest(client, writeup, token, commented, email="x@example.org")
    assert same_address.status_code == 400
    assert "too quickly" in " ".join(flashes(same_address))
    same_email = reply_as_guest(app.test_client(), writeup, token, commented, ip="10.0.0.9")
    assert same_email.status_code == 400
    assert len(tree(in_app)) == 2


def test_bad_reply_input_is_shown_beside_its_field(client, writeup, token, commented, counts):
    response = reply_as_guest(client, writeup, token, commented, email="not an email")
    assert response.status_code == 400
    assert "such as name@example.org" in field_error(response, "email")
    assert counts()["comments"] == 1


# The service -------------------------------------------------------------------------------------


def test_service_places_a_guest_reply_and_refuses_a_parent_it_may_not_answer(
    db, make_writeup, writeup, commented, token
):
    other_id = make_writeup(slug="other", title="Other")["id"]
    target = db.session.get(WriteUp, writeup["id"])
    parent = db.session.get(Comment, commented)
    reply = service.add_guest_reply(
        target, name="Gina", email="gina@example.org", body="Yes.", ip="10.0.0.1",
        honeypot="", token=token(), parent=parent,
    )  # fmt: skip
    assert (reply.parent_id, reply.root_id, reply.depth, reply.status) == (
        commented,
        commented,
        1,
        CommentStatus.PENDING,
    )
    assert db.session.get(Comment, commented).thread.comment_count == 1
    other = db.session.get(WriteUp, other_id)
    with pytest.raises(discussions_service.DiscussionError, match="not available for replies"):
        service.add_guest_reply(
            other, name="Hal", email="hal@example.org", body="No.", ip="10.0.0.2",
            honeypot="", token=token(writeup_id=other.id), parent=parent,
        )  # fmt: skip
    with pytest.raises(discussions_service.DiscussionError, match="not available for replies"):
        service.add_guest_reply(
            target, name="Hal", email="hal@example.org", body="No.", ip="10.0.0.2",
            honeypot="", token=token(), parent=reply,
        )  # fmt: skip
