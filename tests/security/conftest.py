"""A small world for the security tests: every kind of actor, and content to point every URL at."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from eventmgr.extensions import db as _db

#: Text that must never be shown to anyone but organisers on organiser pages.
DRAFT_TITLE = "Zanzibar secret draft meeting"
DRAFT_SLUG_WORD = "zanzibar-secret"
PENDING_TEXT = "Quokka pending comment awaiting moderation"
DRAFT_WRITEUP_TITLE = "Yttrium unpublished write-up"
PENDING_GUEST_TEXT = "Wombat guest reply awaiting moderation"
#: The signed-in actors of the matrix; "anonymous" has no user.
ACTORS = ("anonymous", "member", "attendee", "other", "organiser", "admin")


@dataclass
class World:
    """Ids and slugs of what the security tests' URLs point at."""

    users: dict[str, Any]
    params: dict[str, Any]
    draft_params: dict[str, Any]


#: Columns a request may change without saving anything: none yet.
UNWATCHED_COLUMNS: dict[str, set[str]] = {}


def table_rows() -> dict[str, list[tuple]]:
    """Each table's rows, sorted, read inside an app context: comparing two snapshots catches
    inserts, deletes and updates alike."""
    snapshot = {}
    for table in _db.metadata.sorted_tables:
        ignored = UNWATCHED_COLUMNS.get(table.name, set())
        columns = [column for column in table.columns if column.name not in ignored]
        rows = _db.session.execute(select(*columns))
        snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    _db.session.rollback()
    return snapshot


def build_world(app: Flask, make_user: Callable[..., Any], make_event: Callable[..., Any]) -> World:
    """Users of every role, a published upcoming meeting with a speaker, a question, a thread with
    comments by the attendee and a pending comment, a draft meeting and a past meeting."""
    from eventmgr.accounts import service as accounts
    from eventmgr.accounts.models import User
    from eventmgr.discussions import service as discussions
    from eventmgr.discussions.models import Comment, CommentStatus
    from eventmgr.events.models import Event
    from eventmgr.mail import unsubscribe
    from eventmgr.registrations import service as registrations

    users = {
        "member": make_user(display_name="Plain Member"),
        "attendee": make_user(display_name="Attending Member"),
        "other": make_user(display_name="Other Member"),
        "organiser": make_user(role="organiser", display_name="Olive Organiser"),
        "admin": make_user(role="admin", display_name="Ada Admin"),
    }
    upcoming = make_event(
        title="Upcoming open meeting",
        speakers=[{"name": "Sam Speaker"}, {"name": "Tia Talker"}],
        questions=[{"title": "What is knowledge?"}, {"title": "Who keeps it?"}],
    )
    starts = datetime.now(UTC) + timedelta(days=10)
    draft = make_event(
        title=DRAFT_TITLE,
        slug=f"{starts:%Y-%m-%d}-{DRAFT_SLUG_WORD}",
        status="draft",
        starts_at=starts,
        questions=[{"title": "Draft question"}],
    )
    make_event(title="A meeting long past", starts_at=datetime.now(UTC) - timedelta(days=30))
    with app.app_context():
        event = _db.session.scalar(select(Event).where(Event.slug == upcoming.slug))
        attendee = _db.session.get(User, users["attendee"].id)
        other = _db.session.get(User, users["other"].id)
        registration = registrations.register_member(event, attendee)
        question = event.questions[0]
        topic = discussions.Topic(event, question)
        root = discussions.add_comment(topic, attendee, "The attendee's first thought.")
        reply = discussions.add_comment(topic, attendee, "The attendee adds more.", parent=root)
        discussions.add_comment(discussions.Topic(event), attendee, "Follow-up by the attendee.")
        pending = Comment(
            thread=root.thread,
            author=other,
            body=PENDING_TEXT,
            body_html=f"<p>{PENDING_TEXT}</p>",
            status=CommentStatus.PENDING,
        )
        _db.session.add(pending)
        _db.session.flush()
        writeup_slug, draft_writeup_slug, guest_pending = _writeups(event, other)
        # The other member is also signed in on a second device (a session only they may end).
        accounts.start_session(other, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
        other_device = other.current_session.id
        params = {
            "writeup_slug": writeup_slug,
            "draft_writeup_slug": draft_writeup_slug,
            "guest_pending": guest_pending,
            "slug": event.slug,
            "question_id": question.id,
            "speaker_id": event.speakers[0].id,
            "registration_id": registration.id,
            "comment_id": root.id,
            "reply_id": reply.id,
            "pending": pending.id,
            "user_id": users["other"].id,
            "session_id": other_device,
            "token": unsubscribe.make_token(_db.session.get(User, users["member"].id)),
            "filename": "site.css",
            "change": None,
            "direction": "down",
        }
        _db.session.commit()
        draft_event = _db.session.scalar(select(Event).where(Event.slug == draft.slug))
        draft_params = {"slug": draft.slug, "question_id": draft_event.questions[0].id}
    return World(users=users, params=params, draft_params=draft_params)


def _writeups(event: Any, author: Any) -> tuple[str, str, int]:
    """A published write-up of `event` with a pending guest reply, and a draft write-up; returns
    their slugs and the guest reply's id."""
    from eventmgr.discussions import service as discussions
    from eventmgr.discussions.models import Comment, CommentStatus
    from eventmgr.writeups import service as writeups

    published = writeups.create_writeup(
        title="What we learnt", slug="what-we-learnt", body="Notes.", author=author, event=event
    )
    writeups.publish_writeup(published)
    draft = writeups.create_writeup(
        title=DRAFT_WRITEUP_TITLE, slug="yttrium-unpublished", body="Draft notes.", author=author
    )
    thread = discussions.get_or_create_thread(writeups.topic(published))
    guest = Comment(
        thread=thread,
        guest_name="Gus Guest",
        guest_email="gus@example.org",
        body=PENDING_GUEST_TEXT,
        body_html=f"<p>{PENDING_GUEST_TEXT}</p>",
        status=CommentStatus.PENDING,
    )
    _db.session.add(guest)
    _db.session.flush()
    return published.slug, draft.slug, guest.id


def login_clients(app: Flask, world: World) -> dict[str, FlaskClient]:
    """A test client per actor, logged in as that actor's user (anonymous: not logged in)."""
    clients = {}
    for actor in ACTORS:
        client = app.test_client()
        if actor != "anonymous":
            with client.session_transaction() as session:
                session["_user_id"] = world.users[actor].get_id()
                session["_fresh"] = True
        clients[actor] = client
    return clients


@pytest.fixture
def make_world(app: Flask, make_user, make_event) -> Callable[[], World]:
    """make_world() builds the world in the (CSRF-off) `app`'s database."""
    return lambda: build_world(app, make_user, make_event)


@pytest.fixture
def rows(app: Flask) -> Callable[[], dict[str, list[tuple]]]:
    """rows() → each table's sorted rows (table_rows), in a fresh app context."""

    def read() -> dict[str, list[tuple]]:
        with app.app_context():
            return table_rows()

    return read


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    """Run the test body inside an app context."""
    with app.app_context():
        yield
