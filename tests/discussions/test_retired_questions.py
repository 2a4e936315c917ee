"""Nothing a member wrote disappears by an organiser's click: key questions people discussed are
retired (off the programme, discussion kept and read-only), never deleted, and the database
refuses every delete that would take comments or reports with it (issue 11, item 2)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from eventmgr.accounts.models import User
from eventmgr.discussions import service
from eventmgr.discussions.models import Comment, CommentStatus, Report, Thread
from eventmgr.events import service as events_service
from eventmgr.events.models import Event, Question
from eventmgr.extensions import db as _db
from eventmgr.writeups.models import WriteUp
from tests.discussions.helpers import flashes, soup, text


def count(model) -> int:
    """Rows of `model`'s table."""
    return _db.session.scalar(select(func.count()).select_from(model))


def question(meeting, index: int = 0) -> Question:
    return _db.session.get(Question, meeting.question_ids[index])


# The service and the database ----------------------------------------------------------------


@pytest.mark.parametrize("status", list(CommentStatus))
def test_a_question_with_a_comment_of_any_status_cannot_be_deleted(
    db, meeting, attendee, post, status
):
    comment_id = post(meeting, attendee, "My words")
    _db.session.get(Comment, comment_id).status = status
    _db.session.commit()
    with pytest.raises(events_service.EventError, match="cannot be deleted"):
        events_service.remove_question(question(meeting))
    _db.session.rollback()
    assert _db.session.get(Question, meeting.question_ids[0]) is not None
    assert _db.session.get(Comment, comment_id).body == "My words"


def test_without_the_discussions_check_the_database_still_refuses(
    db, meeting, attendee, post, monkeypatch
):
    """A comment posted between the check and the delete (or code that skips the check) meets
    the RESTRICT key: a clear refusal, never a 500, and the comment stays."""
    from blinker import Signal

    comment_id = post(meeting, attendee, "Just in time")
    monkeypatch.setattr(events_service, "question_removing", Signal())
    with pytest.raises(events_service.EventError, match="cannot be deleted"):
        events_service.remove_question(question(meeting))
    assert _db.session.get(Comment, comment_id).body == "Just in time"
    assert _db.session.get(Question, meeting.question_ids[0]) is not None


def test_a_question_nobody_discussed_is_deleted_with_its_empty_thread(
    db, meeting, organiser, attendee, post
):
    # A thread without comments (locked before anyone wrote) does not keep the question alive.
    service.set_locked(
        service.Topic(_db.session.get(Event, meeting.id), question(meeting, 1)),
        _db.session.get(User, organiser.id),
        locked=True,
    )
    _db.session.commit()
    post(meeting, attendee, "On the first question")
    events_service.remove_question(question(meeting, 1))
    _db.session.commit()
    assert _db.session.get(Question, meeting.question_ids[1]) is None
    assert count(Thread) == 1
    assert [q.position for q in _db.session.get(Event, meeting.id).questions] == [1]


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(lambda ids: delete(Question).where(Question.id == ids["question"]), id="q"),
        pytest.param(lambda ids: delete(Event).where(Event.id == ids["event"]), id="meeting"),
        pytest.param(lambda ids: delete(Thread).where(Thread.id == ids["thread"]), id="thread"),
        pytest.param(lambda ids: delete(Comment).where(Comment.id == ids["root"]), id="parent"),
        pytest.param(lambda ids: delete(WriteUp).where(WriteUp.id == ids["writeup"]), id="wu"),
        pytest.param(lambda ids: delete(User).where(User.id == ids["reporter"]), id="reporter"),
    ],
)
def test_the_database_refuses_deletes_that_would_take_members_words(
    db, meeting, attendee, member, post, statement
):
    """Whatever code runs (a bulk delete skips the ORM), the foreign keys keep comments and
    reports: RESTRICT (or NO ACTION) where they used to CASCADE."""
    root = post(meeting, attendee, "Root")
    post(meeting, attendee, "Reply", parent=root)
    post(meeting, attendee, "Follow-up", question=None)
    writeup = WriteUp(
        event_id=meeting.id, slug="report", title="Report", body="x", body_html="x",
        status="published", published_at=func.now(),
    )  # fmt: skip
    _db.session.add(writeup)
    _db.session.flush()
    writeup_topic = service.Topic(_db.session.get(Event, meeting.id), writeup=writeup)
    service.add_comment(writeup_topic, _db.session.get(User, attendee.id), "On the write-up")
    service.report_comment(
        _db.session.get(Comment, root), _db.session.get(User, member.id), "Off topic"
    )
    _db.session.commit()
    ids = {
        "question": meeting.question_ids[0],
        "event": meeting.id,
        "thread": _db.session.get(Comment, root).thread_id,
        "root": root,
        "writeup": writeup.id,
        "reporter": member.id,
    }
    before = (count(Comment), count(Report))
    with pytest.raises(IntegrityError):
        _db.session.execute(statement(ids))
        _db.session.flush()
    _db.session.rollback()
    assert (count(Comment), count(Report)) == before == (4, 1)


def test_retiring_keeps_the_discussion_read_only_and_bringing_back_reopens_it(
    db, meeting, attendee, post
):
    comment_id = post(meeting, attendee, "Kept")
    author = _db.session.get(User, attendee.id)
    events_service.retire_question(question(meeting))
    _db.session.commit()
    event = _db.session.get(Event, meeting.id)
    assert [q.id for q in event.current_questions] == [meeting.question_ids[1]]
    assert [(q.id, q.position) for q in event.questions] == [
        (meeting.question_ids[1], 1),
        (meeting.question_ids[0], 2),
    ]
    topic = service.Topic(event, question(meeting))
    assert service.posting_refusal(topic, service.find_thread(topic), author) == (
        service.RETIRED_MESSAGE
    )
    comment = _db.session.get(Comment, comment_id)
    with pytest.raises(service.NotAllowed, match="retired"):
        service.add_comment(topic, author, "More")
    with pytest.raises(service.NotAllowed, match="retired"):
        service.add_comment(topic, author, "Reply", parent=comment)
    with pytest.raises(service.NotAllowed, match="retired"):
        service.edit_comment(comment, author, "Changed")
    # Deleting one's own words stays allowed everywhere.
    service.check_can_delete(comment, author)
    with pytest.raises(events_service.EventError, match="already retired"):
        events_service.retire_question(question(meeting))
    events_service.restore_question(question(meeting))
    _db.session.commit()
    assert [q.id for q in _db.session.get(Event, meeting.id).current_questions] == [
        meeting.question_ids[1],
        meeting.question_ids[0],
    ]
    assert service.posting_refusal(topic, service.find_thread(topic), author) is None


# The pages ------------------------------------------------------------------------------------


def test_organiser_retires_a_discussed_question_instead_of_deleting_it(
    app, client, meeting, attendee, member, organiser, post, login_as, in_app
):
    comment_id = post(meeting, attendee, "Words worth keeping")
    login_as(organiser)
    questions_page = client.get(f"/events/{meeting.slug}/questions")
    discussed = soup(questions_page).find(id=f"question-{meeting.question_ids[0]}")
    assert "cannot be deleted" in discussed.get_text()
    assert [b.get_text(" ", strip=True) for b in discussed.select("button")][-1].startswith(
        "Retire"
    )
    undiscussed = soup(questions_page).find(id=f"question-{meeting.question_ids[1]}")
    assert any(link.get_text().startswith("Delete") for link in undiscussed.select("a"))
    assert not any(link.get_text().startswith("Delete") for link in discussed.select("a"))

    remove_url = f"/events/{meeting.slug}/questions/{meeting.question_ids[0]}/remove"
    assert "cannot be deleted" in text(client.get(remove_url))
    refused = client.post(remove_url, follow_redirects=True)
    assert any("cannot be deleted" in message for message in flashes(refused))
    assert in_app(lambda: count(Comment)) == 1

    retire_url = f"/events/{meeting.slug}/questions/{meeting.question_ids[0]}/retire"
    retired = client.post(retire_url, follow_redirects=True)
    assert any("retired" in message for message in flashes(retired))
    assert "Retired questions" in text(retired)

    for viewer in (None, member, attendee):
        visitor = app.test_client()
        if viewer is not None:
            login_as(viewer, visitor)
        page = text(visitor.get(f"/events/{meeting.slug}"))
        assert "What do communities need?" not in page
        assert "Who pays for networks?" in page
        assert "What do communities need?" not in text(visitor.get("/"))
        thread = visitor.get(meeting.question_url())
        assert thread.status_code == 200
        assert "Words worth keeping" in text(thread)
        assert service.RETIRED_MESSAGE in text(thread)
        assert soup(thread).find("textarea") is None
    # The attendee (who may post elsewhere) can neither comment, reply nor edit here.
    assert visitor.post(meeting.question_url(), data={"body": "More"}).status_code == 403
    assert visitor.post(f"/comments/{comment_id}/reply", data={"body": "Hi"}).status_code == 403
    assert visitor.post(f"/comments/{comment_id}/edit", data={"body": "Hi"}).status_code == 403
    assert in_app(lambda: _db.session.get(Comment, comment_id).body) == "Words worth keeping"

    restore_url = f"/events/{meeting.slug}/questions/{meeting.question_ids[0]}/restore"
    restored = client.post(restore_url, follow_redirects=True)
    assert any("back on the programme" in message for message in flashes(restored)), text(restored)
    assert "What do communities need?" in text(client.get(f"/events/{meeting.slug}"))


def test_an_undiscussed_question_is_deleted_after_confirmation(
    client, meeting, organiser, login_as, in_app
):
    login_as(organiser)
    remove_url = f"/events/{meeting.slug}/questions/{meeting.question_ids[1]}/remove"
    confirmation = client.get(remove_url)
    assert confirmation.status_code == 200
    assert "Yes, delete the question" in text(confirmation)
    assert in_app(lambda: count(Question)) == 2
    client.post(remove_url)
    assert in_app(lambda: count(Question)) == 1
