"""`flask demo load` creates the Connecting Knowledge Communities meeting once, and demo accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from eventmgr.accounts import service as accounts_service
from eventmgr.demo import DEMO_ACCOUNTS, FOLLOW_UP_TITLE, load_demo
from eventmgr.events.models import Event

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
