"""Fixtures for the write-ups tests: the discussions fixtures, write-ups, and reading them back."""

# Fixtures imported from the discussions tests are named again as parameters, as pytest wants.
# ruff: noqa: F811

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from eventmgr.discussions.models import Comment, ModerationAction, Thread
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from eventmgr.writeups.models import WriteUp
from tests.discussions.conftest import (  # noqa: F401  (fixtures shared with the discussions tests)
    attendee,
    make_meeting,
    meeting,
    member,
    organiser,
    outbox,
    post,
    register,
    stored,
)


@pytest.fixture
def make_writeup(in_app: Callable[..., Any]) -> Callable[..., Any]:
    """Create a write-up directly: make_writeup(slug=..., status="published", event_id=...)."""
    from eventmgr.web.markdown import render_markdown

    def build(**fields: Any) -> dict[str, Any]:
        fields.setdefault("title", "Connecting knowledge communities")
        fields.setdefault("slug", "connecting-knowledge-communities")
        fields.setdefault("body", "What do KM and IM professionals need from **networks**?")
        fields.setdefault("status", "published")
        if fields["status"] == "published":
            fields.setdefault("published_at", datetime.now(UTC))

        def act() -> dict[str, Any]:
            writeup = WriteUp(body_html=render_markdown(fields["body"]), **fields)
            _db.session.add(writeup)
            _db.session.commit()
            return {"id": writeup.id, "slug": writeup.slug, "url": f"/writeups/{writeup.slug}"}

        return in_app(act)

    return build


@pytest.fixture
def counts(in_app: Callable[..., Any]) -> Callable[[], dict[str, int]]:
    """How many write-ups, comments, threads, log entries and emails exist."""

    def read() -> dict[str, int]:
        def load() -> dict[str, int]:
            def count(model: Any) -> int:
                return _db.session.scalar(select(func.count()).select_from(model))

            return {
                "writeups": count(WriteUp),
                "comments": count(Comment),
                "threads": count(Thread),
                "actions": count(ModerationAction),
                "emails": count(OutboxMessage),
            }

        return in_app(load)

    return read


@pytest.fixture
def writeup_row(in_app: Callable[..., Any]) -> Callable[[str], dict[str, Any] | None]:
    """A write-up's columns read afresh by slug, or None."""

    def read(slug: str) -> dict[str, Any] | None:
        def load() -> dict[str, Any] | None:
            writeup = _db.session.scalar(select(WriteUp).where(WriteUp.slug == slug))
            if writeup is None:
                return None
            return {c.key: getattr(writeup, c.key) for c in WriteUp.__table__.c}

        return in_app(load)

    return read


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The application, with no minimum form-fill time unless a test asks for one."""
    return make_app(WRITEUP_MIN_FILL_SECONDS=0)


@pytest.fixture
def act_on_hide(in_app: Callable[..., Any]) -> Callable[[int, Any], None]:
    """Hide a comment as a moderator, through the discussions service."""
    from eventmgr.accounts.models import User
    from eventmgr.discussions import service

    def run(comment_id: int, moderator: Any) -> None:
        def act() -> None:
            comment = _db.session.get(Comment, comment_id)
            service.hide_comment(comment, _db.session.get(User, moderator.id), "Off topic")
            _db.session.commit()

        in_app(act)

    return run


@pytest.fixture
def writeup(make_writeup: Callable[..., Any]) -> dict[str, Any]:
    """A published standalone write-up."""
    return make_writeup()


@pytest.fixture
def token(app: Flask, in_app: Callable[..., Any], writeup: dict[str, Any]) -> Callable[..., str]:
    """A fresh signed form timestamp for `writeup` (shown `age` seconds ago)."""
    from eventmgr.writeups import service

    def make(age: float = 60, writeup_id: int | None = None) -> str:
        def act() -> str:
            target = _db.session.get(WriteUp, writeup_id or writeup["id"])
            with app.test_request_context():
                return service.form_token(target, now=time.time() - age)

        return in_app(act)

    return make
