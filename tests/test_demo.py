"""`flask demo load` creates the Connecting Knowledge Communities meeting once, and demo accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from eventmgr.accounts import service as accounts_service
from eventmgr.demo import DEMO_ACCOUNTS, FOLLOW_UP_TITLE, load_demo
from eventmgr.discussions.models import Comment, Thread
from eventmgr.events.models import Event, Question
from eventmgr.mail.models import OutboxMessage
from eventmgr.registrations.models import Registration
from eventmgr.writeups.models import WriteUp

CKC_SLUG = "2015-09-23-connecting-knowledge-communities"


def count_events(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def test_demo_load_creates_the_meeting_from_the_seed(runner, app):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert CKC_SLUG in result.output
    assert "organiser@example.org / organiser-demo-2015" in result.output
    from eventmgr.extensions import db

    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == CKC_SLUG))
        assert event.title == "Connecting Knowledge Communities"
        assert event.starts_at == datetime(2015, 9, 23, 17, 0, tzinfo=UTC)  # 18:00 BST
        assert event.ends_at == datetime(2015, 9, 23, 19, 30, tzinfo=UTC)  # 20:30 BST
        assert event.timezone == "Europe/London"
        assert event.status == "published"
        affiliations = [speaker.affiliation for speaker in event.speakers]
        assert affiliations == [
            "Henley Business School",
            "Knowledge and Information Network (KIN)",
            "NetIKX",
            "ISKO UK",
            "Information and Records Management Society (IRMS)",
        ]
        assert [question.title for question in event.questions] == [
            "What do we need personally?",
            "What are the needs of our organisations?",
            "Do these communities and networks deliver effectively?",
        ]
        follow_up = db.session.scalar(select(Event).where(Event.title == FOLLOW_UP_TITLE))
        assert follow_up.status == "published"
        assert follow_up.starts_at > datetime.now(UTC)


def test_demo_load_is_idempotent(db):
    load_demo(today=date(2026, 11, 27))
    db.session.commit()
    assert load_demo(today=date(2026, 12, 25)) == []
    assert count_events(db) == 2


def test_demo_accounts_can_log_in(db):
    load_demo()
    db.session.commit()
    for spec in DEMO_ACCOUNTS:
        user = accounts_service.authenticate(spec["email"], spec["password"])
        assert user is not None
        assert user.role == spec["role"]


def test_if_empty_leaves_a_used_database_alone(runner, make_user, app):
    make_user()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0
    assert "already has data" in result.output
    from eventmgr.extensions import db

    with app.app_context():
        assert count_events(db) == 0


def test_demo_meeting_page_renders(runner, client):
    runner.invoke(args=["demo", "load"])
    response = client.get(f"/events/{CKC_SLUG}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Connecting Knowledge Communities" in page
    assert "18:00–20:30 BST" in page
    assert "Do these communities and networks deliver effectively?" in page


def test_demo_meeting_has_its_conversation_and_write_up(db):
    load_demo()
    db.session.commit()
    event = db.session.scalar(select(Event).where(Event.slug == CKC_SLUG))
    attendees = db.session.scalars(
        select(Registration).where(Registration.event_id == event.id)
    ).all()
    assert len(attendees) == 3
    assert all(r.is_confirmed and r.attended for r in attendees)
    assert event.last_queue_number == 3
    counts = dict(
        db.session.execute(
            select(Question.title, Thread.comment_count)
            .join(Thread, Thread.question_id == Question.id)
            .where(Question.event_id == event.id)
        ).all()
    )
    assert counts == {
        "What do we need personally?": 3,
        "What are the needs of our organisations?": 1,
        "Do these communities and networks deliver effectively?": 2,
    }
    writeup = db.session.scalar(select(WriteUp).where(WriteUp.event_id == event.id))
    assert writeup.is_published and writeup.author.email == "organiser@example.org"
    assert writeup.published_at.date() == date(2015, 9, 30)
    replies = db.session.scalars(
        select(Comment).join(Thread).where(Thread.writeup_id == writeup.id)
    ).all()
    assert [(c.guest_name, c.status) for c in replies] == [("Jo Reader", "published")]
    # Every comment is dated after the meeting, and nobody is emailed about any of it.
    comments = db.session.scalars(select(Comment)).all()
    assert all(event.ends_at < c.created_at < datetime(2015, 12, 1, tzinfo=UTC) for c in comments)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_demo_write_up_and_discussion_pages_render(runner, client):
    runner.invoke(args=["demo", "load"])
    meeting = client.get(f"/events/{CKC_SLUG}").get_data(as_text=True)
    assert "Connecting Knowledge Communities: what we heard" in meeting
    writeup = client.get("/writeups/connecting-knowledge-communities-what-we-heard")
    assert writeup.status_code == 200
    page = writeup.get_data(as_text=True)
    assert "Jo Reader" in page and "Information and Records Management Society" in page
