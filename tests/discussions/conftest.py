"""Fixtures for the discussions tests: a meeting with attendees, comments, and reading state back."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from eventmgr.accounts.models import User
from eventmgr.discussions import service
from eventmgr.discussions.models import Comment, ModerationAction, Report, Thread
from eventmgr.events.models import Event, Question
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from eventmgr.registrations.models import Registration

_queue_numbers = itertools.count(1)


@dataclass(frozen=True)
class Meeting:
    """A meeting's addresses and ids, for tests that drive the app over HTTP."""

    id: int
    slug: str
    question_ids: tuple[int, ...]

    def question_url(self, index: int = 0) -> str:
        return f"/events/{self.slug}/questions/{self.question_ids[index]}"

    @property
    def follow_up_url(self) -> str:
        return f"/events/{self.slug}/discussion"


@pytest.fixture
def organiser(make_user: Callable[..., Any]) -> Any:
    """A user with the organiser role."""
    return make_user(role="organiser", display_name="Olivia Organiser")


@pytest.fixture
def member(make_user: Callable[..., Any]) -> Any:
    """A member with no registration for the meeting."""
    return make_user(display_name="Max Member", organisation="ISKO UK")


@pytest.fixture
def register(in_app: Callable[..., Any]) -> Callable[..., None]:
    """Give `user` a registration for a meeting: register(meeting, user, status=..., attended=...)."""

    def run(meeting: Any, user: Any, *, status: str = "confirmed", attended: bool = False) -> None:
        def act() -> None:
            _db.session.add(
                Registration(
                    event_id=meeting.id,
                    user_id=user.id,
                    status=status,
                    attended=attended,
                    queue_number=next(_queue_numbers),
                )
            )
            _db.session.commit()

        in_app(act)

    return run


@pytest.fixture
def make_meeting(
    make_event: Callable[..., Any], in_app: Callable[..., Any]
) -> Callable[..., Meeting]:
    """A published meeting (a week ago unless told otherwise) with two key questions."""

    def build(**overrides: Any) -> Meeting:
        overrides.setdefault("starts_at", datetime.now(UTC) - timedelta(days=7))
        overrides.setdefault(
            "questions",
            [{"title": "What do communities need?"}, {"title": "Who pays for networks?"}],
        )
        event = make_event(**overrides)
        statement = (
            select(Question.id).where(Question.event_id == event.id).order_by(Question.position)
        )
        question_ids = tuple(in_app(lambda: list(_db.session.scalars(statement))))
        return Meeting(event.id, event.slug, question_ids)

    return build


@pytest.fixture
def meeting(make_meeting: Callable[..., Meeting]) -> Meeting:
    """A published meeting whose discussions are open to its attendees."""
    return make_meeting()


@pytest.fixture
def attendee(make_user: Callable[..., Any], register: Callable[..., None], meeting: Meeting) -> Any:
    """A member with a confirmed place at `meeting`."""
    user = make_user(display_name="Ada Attendee", organisation="KIN")
    register(meeting, user)
    return user


def topic_for(meeting: Meeting, question: int | None = 0) -> service.Topic:
    """The service's Topic for a question of the meeting (None: the follow-up), in this context."""
    event = _db.session.get(Event, meeting.id)
    if question is None:
        return service.Topic(event)
    return service.Topic(event, _db.session.get(Question, meeting.question_ids[question]))


@pytest.fixture
def post(in_app: Callable[..., Any]) -> Callable[..., int]:
    """Post a comment through the service and commit: post(meeting, user, body, parent=id) → id."""

    def run(
        meeting: Meeting,
        user: Any,
        body: str = "A thought.",
        *,
        parent: int | None = None,
        question: int | None = 0,
    ) -> int:
        def act() -> int:
            author = _db.session.get(User, user.id)
            parent_comment = _db.session.get(Comment, parent) if parent else None
            comment = service.add_comment(
                topic_for(meeting, question), author, body, parent=parent_comment
            )
            _db.session.commit()
            return comment.id

        return in_app(act)

    return run


@pytest.fixture
def act_on(in_app: Callable[..., Any]) -> Callable[..., Any]:
    """Call a service function on a comment as a user and commit: act_on(service.hide_comment,
    comment_id, user, "reason")."""

    def run(function: Callable[..., Any], comment_id: int, user: Any, *args: Any) -> Any:
        def act() -> Any:
            result = function(
                _db.session.get(Comment, comment_id), _db.session.get(User, user.id), *args
            )
            _db.session.commit()
            return result

        return in_app(act)

    return run


@pytest.fixture
def stored(in_app: Callable[..., Any]) -> Callable[..., Any]:
    """Read a comment's columns (or None) afresh: stored(comment_id)["status"]."""

    def read(comment_id: int) -> dict[str, Any] | None:
        def load() -> dict[str, Any] | None:
            comment = _db.session.get(Comment, comment_id)
            if comment is None:
                return None
            return {column.key: getattr(comment, column.key) for column in Comment.__table__.c}

        return in_app(load)

    return read


@pytest.fixture
def snapshot(in_app: Callable[..., Any]) -> Callable[[], dict[str, Any]]:
    """Everything the discussion pages can change, to compare before and after a refused request."""

    def read() -> dict[str, Any]:
        def load() -> dict[str, Any]:
            session = _db.session
            return {
                "comments": sorted(
                    session.execute(
                        select(Comment.id, Comment.status, Comment.body, Comment.edited_at)
                    ).all()
                ),
                "threads": sorted(
                    session.execute(select(Thread.id, Thread.locked, Thread.comment_count)).all()
                ),
                "reports": session.scalar(
                    select(func.count()).select_from(Report).where(Report.resolved_at.is_(None))
                ),
                "actions": session.scalar(select(func.count()).select_from(ModerationAction)),
                "emails": session.scalar(select(func.count()).select_from(OutboxMessage)),
            }

        return in_app(load)

    return read


@pytest.fixture
def outbox(in_app: Callable[..., Any]) -> Callable[[], list[dict[str, Any]]]:
    """The outbox rows, oldest first, as dicts."""

    def read() -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            rows = _db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            return [{c.key: getattr(row, c.key) for c in OutboxMessage.__table__.c} for row in rows]

        return in_app(load)

    return read
