"""Fixtures for the registrations tests: members, registering them, and reading the outcome back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from eventmgr.events.models import Event
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from eventmgr.registrations import service
from eventmgr.registrations.models import Registration


@pytest.fixture
def organiser(make_user: Callable[..., Any]) -> Any:
    """A user with the organiser role (detached, columns loaded)."""
    return make_user(role="organiser")


@pytest.fixture
def member(make_user: Callable[..., Any]) -> Any:
    """An ordinary member."""
    return make_user(role="member")


@pytest.fixture
def make_members(make_user: Callable[..., Any]) -> Callable[[int], list[Any]]:
    """`make_members(3)`: that many new members, in order."""
    return lambda count: [make_user() for _ in range(count)]


@pytest.fixture
def register(in_app: Callable[..., Any]) -> Callable[..., str]:
    """Register members for a meeting through the service, committing each; returns the statuses."""

    def run(event: Any, *users: Any) -> list[str]:
        def act() -> list[str]:
            statuses = []
            for user in users:
                registration = service.register_member(
                    _db.session.get(Event, event.id), _db.session.get(type(user), user.id)
                )
                _db.session.commit()
                statuses.append(registration.status)
            return statuses

        return in_app(act)

    return run


@pytest.fixture
def unregister(in_app: Callable[..., Any]) -> Callable[..., None]:
    """Cancel members' registrations through the service, committing each."""

    def run(event: Any, *users: Any) -> None:
        def act() -> None:
            for user in users:
                service.unregister_member(
                    _db.session.get(Event, event.id), _db.session.get(type(user), user.id)
                )
                _db.session.commit()

        in_app(act)

    return run


@pytest.fixture
def stored(in_app: Callable[..., Any]) -> Callable[[Any], dict[int, tuple[str, int | None]]]:
    """{user_id: (status, waitlist position)} for a meeting, read afresh from the database."""

    def read(event: Any) -> dict[int, tuple[str, int | None]]:
        def load() -> dict[int, tuple[str, int | None]]:
            registrations = _db.session.scalars(
                select(Registration).where(Registration.event_id == event.id)
            ).all()
            return {
                registration.user_id: (
                    registration.status,
                    service.waitlist_position(registration),
                )
                for registration in registrations
            }

        return in_app(load)

    return read


@pytest.fixture
def stored_capacity(in_app: Callable[..., Any]) -> Callable[[Any], int | None]:
    """A meeting's capacity as stored."""
    return lambda event: in_app(lambda: _db.session.get(Event, event.id).capacity)


@pytest.fixture
def outbox(in_app: Callable[..., Any]) -> Callable[[], list[tuple[str, str]]]:
    """The emails queued so far as (kind, recipient), oldest first."""

    def read() -> list[tuple[str, str]]:
        statement = select(OutboxMessage.kind, OutboxMessage.to_address).order_by(OutboxMessage.id)
        return in_app(lambda: [tuple(row) for row in _db.session.execute(statement)])

    return read


def hours_from_now(hours: float) -> datetime:
    """A moment `hours` away (negative: in the past), timezone-aware."""
    return datetime.now(UTC) + timedelta(hours=hours)
