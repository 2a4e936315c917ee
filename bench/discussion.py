"""Render time of a 5,000-comment thread and of its meeting page, on PostgreSQL, in-process.

`make bench-discussion` (or `python -m bench.discussion`): creates the database named by
DATABASE_URL if it is missing, migrates it, seeds one meeting whose first key question has a thread of
5,000 comments nested up to 8 levels deep (once; `--reseed` starts again), then times ~30 requests
per page through the Flask test client and prints p50/p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import flask_migrate
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from eventmgr import create_app
from eventmgr.accounts import service as accounts_service
from eventmgr.accounts.models import User
from eventmgr.database import ensure_postgres_database
from eventmgr.discussions.models import Comment, Thread
from eventmgr.events.models import Event, Question, Speaker
from eventmgr.extensions import db
from eventmgr.registrations.models import Registration
from eventmgr.web.markdown import render_markdown

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/eventmgr_bench"
SLUG = "2015-09-23-benchmark-connecting-knowledge-communities"
COMMENTS = 5_000
#: Deepest reply: depth 7 below a top-level comment, eight levels in all.
MAX_DEPTH = 7
TOP_LEVEL = 250
AUTHORS = 40
#: Every this-many-th comment is hidden by a moderator (placeholders are part of the work).
HIDDEN_EVERY = 97
BODY = (
    "Communities of practice need **time** and a *shared purpose*; see "
    "[the KIN report](https://example.org/kin) and this list:\n\n- trust\n- tools\n- tea\n\n"
    "> What we cannot fund, we can still make room for. (comment {number})"
)


def tree_shape(rng: random.Random) -> list[tuple[int | None, int]]:
    """(parent index, depth) for each comment, parents always earlier; TOP_LEVEL roots."""
    shape: list[tuple[int | None, int]] = [(None, 0)] * TOP_LEVEL
    subtrees: list[list[int]] = [[root] for root in range(TOP_LEVEL)]
    while len(shape) < COMMENTS:
        members = subtrees[rng.randrange(TOP_LEVEL)]
        # Prefer the newest comments as parents, so conversations run deep.
        parent = members[-1 - min(int(rng.expovariate(0.7)), len(members) - 1)]
        depth = shape[parent][1] + 1
        if depth > MAX_DEPTH:
            parent = next(index for index in reversed(members) if shape[index][1] < MAX_DEPTH)
            depth = shape[parent][1] + 1
        members.append(len(shape))
        shape.append((parent, depth))
    return shape


def seed(app: Flask) -> None:
    """One published meeting, a 5,000-comment thread on its first question, an attendee."""
    rng = random.Random(2015)  # noqa: S311 (reproducible benchmark data, not secrets)
    start = datetime(2015, 9, 23, 17, 0, tzinfo=UTC)
    with app.app_context():
        old = db.session.scalar(select(Event).where(Event.slug == SLUG))
        if old is not None:
            db.session.delete(old)
            db.session.flush()
        db.session.execute(User.__table__.delete().where(User.email.like("bench-%@example.org")))

        users = [
            User(
                email=f"bench-{number}@example.org",
                display_name=f"Member {number}",
                organisation=f"Organisation {number % 7}",
                password_hash="!unusable",  # noqa: S106 (matches no password: no log-ins)
                role="organiser" if number == 0 else "member",
            )
            for number in range(AUTHORS)
        ]
        db.session.add_all(users)
        meeting = Event(
            slug=SLUG,
            title="Benchmark: Connecting Knowledge Communities",
            status="published",
            starts_at=start,
            ends_at=start + timedelta(hours=2, minutes=30),
            description="Talks, then *discussion*.",
            published_at=start - timedelta(days=30),
        )
        meeting.description_html = render_markdown(meeting.description)
        for position in range(1, 4):
            meeting.speakers.append(Speaker(position=position, name=f"Speaker {position}"))
            meeting.questions.append(Question(position=position, title=f"Key question {position}"))
        db.session.add(meeting)
        db.session.flush()
        db.session.add(
            Registration(
                event_id=meeting.id, user_id=users[1].id, status="confirmed", queue_number=1
            )
        )
        thread = Thread(question=meeting.questions[0])
        db.session.add(thread)
        db.session.flush()

        shape = tree_shape(rng)
        comments: list[Comment] = []
        for number, (_parent, depth) in enumerate(shape):
            created = start + timedelta(days=1, minutes=number)
            comments.append(
                Comment(
                    thread_id=thread.id,
                    depth=depth,
                    author_id=users[number % AUTHORS].id,
                    body=BODY.format(number=number),
                    body_html=render_markdown(BODY.format(number=number)),
                    status="hidden" if number % HIDDEN_EVERY == HIDDEN_EVERY - 1 else "published",
                    created_at=created,
                    activity_at=created,
                )
            )
        # One flush per depth, so every parent has its id before its replies are written.
        for depth in range(MAX_DEPTH + 1):
            for number, (parent, comment_depth) in enumerate(shape):
                if comment_depth != depth:
                    continue
                if parent is not None:
                    comments[number].parent_id = comments[parent].id
                    comments[number].root_id = comments[parent].root_id or comments[parent].id
                db.session.add(comments[number])
            db.session.flush()
        for comment in comments:
            if comment.root_id is not None:
                root = db.session.get(Comment, comment.root_id)
                root.activity_at = max(root.activity_at, comment.created_at)
        thread.comment_count = sum(comment.status == "published" for comment in comments)
        thread.last_activity_at = comments[-1].created_at
        db.session.commit()


def is_seeded(app: Flask) -> bool:
    """Whether the benchmark meeting and its full thread are already there."""
    with app.app_context():
        statement = (
            select(func.count())
            .select_from(Comment)
            .join(Thread, Comment.thread_id == Thread.id)
            .join(Question, Thread.question_id == Question.id)
            .join(Event, Question.event_id == Event.id)
            .where(Event.slug == SLUG)
        )
        return db.session.scalar(statement) == COMMENTS


def log_in(client: FlaskClient, app: Flask, email: str) -> None:
    """Sign the test client in as the user with `email`."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        user_id = accounts_service.start_session(user, user_agent="bench")
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True


def measure(app: Flask, client: FlaskClient, url: str, requests: int) -> dict[str, Any]:
    """p50/p95 of `requests` GETs of `url` after three warm-up requests, and what one costs."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(*args: Any) -> None:
        """Record one statement (SQLAlchemy's before_cursor_execute hook)."""
        statements.append(args[2])

    for _ in range(3):
        assert client.get(url).status_code == 200, url
    timings = []
    for _ in range(requests):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        began = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, url
    body = response.get_data(as_text=True)
    quantiles = statistics.quantiles(timings, n=20)
    return {
        "p50": statistics.median(timings),
        "p95": quantiles[18],
        "queries": len(statements),
        "comments": body.count('<article class="comment'),
        "kb": len(body.encode()) / 1024,
    }


def main(argv: list[str] | None = None) -> None:
    """Seed if needed, then time the thread page and the meeting page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--reseed", action="store_true", help="seed the thread again")
    options = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    ensure_postgres_database(url)
    app = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
    if options.reseed or not is_seeded(app):
        began = time.perf_counter()
        seed(app)
        print(f"seeded {COMMENTS:,} comments in {time.perf_counter() - began:.1f} s")

    with app.app_context():
        question_id = db.session.scalar(
            select(Question.id).join(Event).where(Event.slug == SLUG, Question.position == 1)
        )
    pages: list[tuple[str, str, Callable[[FlaskClient], None]]] = [
        ("thread, page 1 (anonymous)", f"/events/{SLUG}/questions/{question_id}", lambda c: None),
        (
            "thread, page 1 (attendee)",
            f"/events/{SLUG}/questions/{question_id}",
            lambda c: log_in(c, app, "bench-1@example.org"),
        ),
        (
            "thread, ?sort=active (attendee)",
            f"/events/{SLUG}/questions/{question_id}?sort=active",
            lambda c: log_in(c, app, "bench-1@example.org"),
        ),
        ("meeting page (anonymous)", f"/events/{SLUG}", lambda c: None),
        (
            "meeting page (attendee)",
            f"/events/{SLUG}",
            lambda c: log_in(c, app, "bench-1@example.org"),
        ),
    ]
    print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'comments':>9} {'KiB':>7}")
    for label, page_url, prepare in pages:
        client = app.test_client()
        prepare(client)
        result = measure(app, client, page_url, options.requests)
        print(
            f"{label:34} {result['p50']:8.1f} {result['p95']:8.1f} {result['queries']:8d} "
            f"{result['comments']:9d} {result['kb']:7.0f}"
        )
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
