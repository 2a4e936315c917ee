"""Nothing private leaks sideways through replies and edits (issue 11, item 6): a reply's `parent`
gets one answer whatever is wrong with it, and editing follows the posting rules."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from eventmgr.accounts.models import User
from eventmgr.discussions import service
from eventmgr.discussions.models import Comment, CommentStatus
from eventmgr.extensions import db as _db
from eventmgr.registrations.models import Registration
from eventmgr.writeups.models import WriteUp
from tests.discussions.helpers import soup, text


def set_status(in_app, comment_id: int, status: str) -> None:
    def act() -> None:
        _db.session.execute(update(Comment).where(Comment.id == comment_id).values(status=status))
        _db.session.commit()

    in_app(act)


@pytest.fixture
def parents(meeting, attendee, post, in_app) -> dict[str, str]:
    """A `parent` value per reason a reply cannot go under it."""
    values = {"missing": "999999", "elsewhere": str(post(meeting, attendee, "Q2", question=1))}
    for status in ("pending", "hidden", "deleted", "spam"):
        comment_id = post(meeting, attendee, f"A {status} one")
        set_status(in_app, comment_id, status)
        values[status] = str(comment_id)
    return values


def test_every_unusable_parent_gets_the_same_answer(
    client, meeting, attendee, parents, login_as, snapshot
):
    login_as(attendee)
    before = snapshot()
    answers = {}
    for reason, parent in parents.items():
        response = client.post(meeting.question_url(), data={"body": "Hi", "parent": parent})
        answers[reason] = (response.status_code, text(response))
    assert set(answers.values()) == {(400, next(iter(answers.values()))[1])}, answers
    assert service.PARENT_UNAVAILABLE_MESSAGE in next(iter(answers.values()))[1]
    assert snapshot() == before


def test_a_write_up_reply_with_an_unusable_parent_gets_the_same_answer(
    client, meeting, attendee, parents, login_as, in_app, snapshot
):
    def publish() -> str:
        writeup = WriteUp(
            slug="report", title="Report", body="x", body_html="x", status="published",
            published_at=_db.func.now(),
        )  # fmt: skip
        _db.session.add(writeup)
        _db.session.commit()
        return writeup.slug

    slug = in_app(publish)
    login_as(attendee)
    before = snapshot()
    answers = set()
    for parent in parents.values():
        response = client.post(f"/writeups/{slug}", data={"body": "Hi", "parent": parent})
        answers.add((response.status_code, text(response)))
    assert len(answers) == 1, answers
    [(status, page)] = answers
    assert status == 400
    assert service.PARENT_UNAVAILABLE_MESSAGE in page
    assert snapshot() == before


def test_a_member_who_lost_the_right_to_post_cannot_edit_but_can_still_delete(
    client, meeting, attendee, post, login_as, in_app, stored
):
    comment_id = post(meeting, attendee, "Registered words")
    login_as(attendee)
    page = soup(client.get(meeting.question_url()))
    assert page.find("a", href=f"/comments/{comment_id}/edit") is not None

    def unregister() -> None:
        _db.session.execute(
            update(Registration)
            .where(Registration.user_id == attendee.id)
            .values(status="cancelled")
        )
        _db.session.commit()

    in_app(unregister)
    page = soup(client.get(meeting.question_url()))
    assert page.find("a", href=f"/comments/{comment_id}/edit") is None
    assert client.get(f"/comments/{comment_id}/edit").status_code == 403
    response = client.post(f"/comments/{comment_id}/edit", data={"body": "Something else"})
    assert response.status_code == 403
    assert service.ATTENDEES_ONLY_MESSAGE in text(response)
    assert stored(comment_id)["body"] == "Registered words"
    with pytest.raises(service.NotAllowed, match="registered attendees"):
        in_app(
            lambda: service.edit_comment(
                _db.session.get(Comment, comment_id), _db.session.get(User, attendee.id), "x"
            )
        )
    # Withdrawing one's words stays allowed.
    assert client.post(f"/comments/{comment_id}/delete").status_code == 302
    assert stored(comment_id)["status"] == CommentStatus.DELETED
