"""The app with the registration lock switched off, served by test_concurrency_without_lock.py.

gunicorn loads `tests.registrations.unlocked_app:app` in each worker. Two changes to the app:

- Registration changes still draw a unique queue number from the meeting's counter, but in a
  transaction of their own that commits at once, so no lock is held while the rules count the seats
  and decide: the one thing `eventmgr.registrations.service._lock_meeting` exists to prevent.
- Each transaction that writes a registration waits a little before it commits, as on a busy
  database server, so that concurrent requests overlap every time the test runs rather than
  only when the scheduler happens to interleave them.

Never used outside that test.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from app import app
from eventmgr.events.models import Event
from eventmgr.extensions import db
from eventmgr.registrations import service
from eventmgr.registrations.models import Registration

__all__ = ["app"]

#: Seconds a transaction that wrote a registration stays open before it may commit.
HOLD_SECONDS = 0.2


def _queue_number_without_lock(meeting: Event) -> int:
    """A new queue number for the meeting, committed at once on a connection of its own."""
    with db.engine.begin() as connection:
        number = connection.execute(
            update(Event)
            .where(Event.id == meeting.id)
            .values(last_queue_number=Event.last_queue_number + 1)
            .returning(Event.last_queue_number)
        ).scalar_one()
    db.session.refresh(meeting, attribute_names=list(service.RULE_COLUMNS))
    return number


def _note_registration_writes(session: Session, flush_context: Any) -> None:
    if any(isinstance(row, Registration) for row in (*session.new, *session.dirty)):
        session.info["wrote_registration"] = True


def _hold_registration_writes(session: Session) -> None:
    if session.info.pop("wrote_registration", False):
        time.sleep(HOLD_SECONDS)


service._lock_meeting = _queue_number_without_lock
event.listen(Session, "after_flush", _note_registration_writes)
event.listen(Session, "before_commit", _hold_registration_writes)
