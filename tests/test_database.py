"""eventmgr.database.lock_row: the row lock every state transition takes first."""

from __future__ import annotations

from sqlalchemy import select, update

from eventmgr.database import lock_row
from eventmgr.events.models import Event
from eventmgr.extensions import db


def test_lock_row_reloads_what_another_transaction_committed(app, make_event):
    event_id = make_event(status="draft").id
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.status == "draft"
        # Another request publishes it on its own connection while this one holds a stale copy.
        with db.engine.begin() as connection:
            connection.execute(update(Event).where(Event.id == event_id).values(status="published"))
        lock_row(db.session, event)
        assert event.status == "published"
        db.session.rollback()


def test_lock_row_is_not_an_edit(app, make_event):
    event_id = make_event().id
    with app.app_context():
        event = db.session.get(Event, event_id)
        updated_at = event.updated_at
        lock_row(db.session, event)
        db.session.commit()
        assert db.session.scalar(select(Event.updated_at).where(Event.id == event_id)) == updated_at


def test_lock_row_keeps_changes_not_yet_flushed(app, make_event):
    event_id = make_event().id
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.title = "Connecting Knowledge Communities"
        lock_row(db.session, event)
        assert event.title == "Connecting Knowledge Communities"
        db.session.rollback()
