"""Fixtures and helpers for the events tests: signed-in organisers and members, form data, queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from eventmgr.events.models import Event
from eventmgr.extensions import db as _db


@pytest.fixture
def organiser(make_user: Callable[..., Any]) -> Any:
    """A user with the organiser role (detached, columns loaded)."""
    return make_user(role="organiser")


@pytest.fixture
def member(make_user: Callable[..., Any]) -> Any:
    """An ordinary member."""
    return make_user(role="member")


@pytest.fixture
def count_events(in_app: Callable[..., Any]) -> Callable[[], int]:
    """How many meetings the database holds."""
    return lambda: in_app(lambda: _db.session.scalar(select(func.count()).select_from(Event)))


@pytest.fixture
def stored_event(in_app: Callable[..., Any]) -> Callable[[str], dict[str, Any]]:
    """A meeting's stored columns, speakers and questions as plain data, read in a fresh context."""

    def read(slug: str) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            event = _db.session.scalar(select(Event).where(Event.slug == slug))
            if event is None:
                return {}
            columns = {column.key: getattr(event, column.key) for column in Event.__table__.c}
            columns["speakers"] = [(s.position, s.name) for s in event.speakers]
            columns["speaker_ids"] = [s.id for s in event.speakers]
            columns["questions"] = [(q.position, q.title) for q in event.questions]
            columns["question_ids"] = [q.id for q in event.questions]
            return columns

        return in_app(load)

    return read


@pytest.fixture
def positions(in_app: Callable[..., Any]) -> Callable[[Any, int], list[int]]:
    """The stored positions of a meeting's speakers or questions, in id order."""

    def read(model: Any, event_id: int) -> list[int]:
        statement = select(model.position).where(model.event_id == event_id).order_by(model.id)
        return in_app(lambda: list(_db.session.scalars(statement)))

    return read
