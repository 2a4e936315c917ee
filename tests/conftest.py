"""Shared fixtures: an app per test on a migrated database, a client, and builders for the domain.

The suite runs on SQLite by default. Set TEST_DATABASE_URL (postgresql+psycopg://...) to run the same
tests on PostgreSQL; the database is created if missing and migrated once per run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import Engine, make_url

from eventmgr import create_app
from eventmgr.database import ensure_postgres_database
from eventmgr.extensions import db as _db

DEFAULT_PASSWORD = "correct horse battery staple"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def is_postgres() -> bool:
    """Whether this run uses PostgreSQL."""
    return TEST_DATABASE_URL.startswith("postgresql")


def reset_postgres_schema(url: str) -> None:
    """Drop everything in the public schema so migrations start from empty."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def base_config(database_url: str) -> dict[str, Any]:
    """Configuration every test app starts from."""
    return {
        "APP_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        # Cheap Argon2 parameters: the tests check behaviour, not hashing cost.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8,
        "ARGON2_PARALLELISM": 1,
        "SERVER_NAME": "localhost",
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to the latest revision, shared by the run and emptied after each test."""
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        if is_postgres():
            ensure_postgres_database(url)
            reset_postgres_schema(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(base_config(url))
    with app.app_context():
        flask_migrate.upgrade()
        _db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def cleanup_engine(database_url: str) -> Iterator[Engine]:
    """A connection pool of the test run's own, used to empty the tables after each test."""
    # pre-ping: a fault test may restart PostgreSQL, leaving pooled connections dead.
    engine = create_engine(database_url, pool_pre_ping=True)
    yield engine
    engine.dispose()


def empty_all_tables(engine: Engine) -> None:
    """Delete every row, children before parents, so the next test starts from nothing."""
    with engine.begin() as connection:
        for table in reversed(_db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def make_app(database_url: str, cleanup_engine: Engine) -> Iterator[Callable[..., Flask]]:
    """Build an app with extra configuration (e.g. WTF_CSRF_ENABLED=True); cleaned up after."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = create_app({**base_config(database_url), **overrides})
        apps.append(app)
        return app

    yield build
    for built in apps:
        with built.app_context():
            _db.session.remove()
            _db.engine.dispose()
    empty_all_tables(cleanup_engine)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The application under test, CSRF off (tests that check CSRF use `csrf_client`)."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for `app`."""
    return app.test_client()


@pytest.fixture
def csrf_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """A test client for an app that enforces CSRF tokens, as production does."""
    return make_app(WTF_CSRF_ENABLED=True).test_client()


@pytest.fixture
def in_app(app: Flask) -> Callable[[Callable[[], Any]], Any]:
    """Run a function in a fresh app context and return its result: in_app(lambda: ...)."""

    def run(function: Callable[[], Any]) -> Any:
        with app.app_context():
            return function()

    return run


@pytest.fixture
def runner(app: Flask):
    """A CLI runner for `flask ...` commands."""
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The database inside an app context, for testing service functions directly."""
    with app.app_context():
        yield _db
        _db.session.rollback()


def _persist(app: Flask, build: Callable[[], Any]) -> Any:
    """Run `build` and commit. Inside an app context the object stays attached to its session;
    outside one it is detached with its columns loaded, for tests that drive the app over HTTP."""
    from flask import has_app_context

    if has_app_context():
        instance = build()
        _db.session.commit()
        return instance
    with app.app_context():
        instance = build()
        _db.session.commit()
        _db.session.refresh(instance)
        _db.session.expunge(instance)
        return instance


_sequence = itertools.count(1)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    """Create a user: make_user(role="organiser", email=..., password=...).

    The user is signed in on one device session (user agent "pytest"), so `user.get_id()` is the
    value a logged-in client's session holds (login_as, and tests that set it themselves).
    """
    from eventmgr.accounts import service

    def build(**overrides: Any) -> Any:
        number = next(_sequence)
        fields = {
            "email": f"user{number}@example.org",
            "display_name": f"User {number}",
            "organisation": "NetIKX",
            "password": DEFAULT_PASSWORD,
            "role": "member",
        }
        fields.update(overrides)

        def create() -> Any:
            user = service.create_user(**fields)
            service.start_session(user, user_agent="pytest")
            return user

        return _persist(app, create)

    return build


@pytest.fixture
def make_event(app: Flask, make_user: Callable[..., Any]) -> Callable[..., Any]:
    """Create a published meeting a week from now unless told otherwise: make_event(status="draft")."""
    from eventmgr.events.models import Event, Question, Speaker
    from eventmgr.web.markdown import render_markdown

    def build(**overrides: Any) -> Any:
        number = next(_sequence)
        starts_at = overrides.pop("starts_at", datetime.now(UTC) + timedelta(days=7))
        speakers = overrides.pop("speakers", [])
        questions = overrides.pop("questions", [])
        fields: dict[str, Any] = {
            "slug": f"{starts_at:%Y-%m-%d}-meeting-{number}",
            "title": f"Meeting {number}",
            "summary": "An evening of talks and discussion.",
            "description": "Talks, then *discussion*.",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2, minutes=30),
            "timezone": "Europe/London",
            "venue_name": "Conway Hall",
            "venue_address": "25 Red Lion Square, London WC1R 4RL",
            "status": "published",
        }
        fields.update(overrides)

        def create() -> Event:
            event = Event(**fields)
            event.description_html = render_markdown(event.description)
            if event.status == "published" and event.published_at is None:
                event.published_at = datetime.now(UTC)
            for position, speaker in enumerate(speakers, start=1):
                event.speakers.append(Speaker(position=position, **speaker))
            for position, question in enumerate(questions, start=1):
                event.questions.append(Question(position=position, **question))
            _db.session.add(event)
            _db.session.flush()
            return event

        return _persist(app, create)

    return build


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[..., None]:
    """Log `client` in as `user` by setting the session Flask-Login reads (no form round trip)."""

    def log_in(user: Any, target: FlaskClient | None = None) -> None:
        with (target or client).session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True

    return log_in


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """`with count_queries() as statements:` collects the SQL the app runs inside the block."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        with app.app_context():
            engine = _db.engine
        statements: list[str] = []

        def record(connection, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        sqlalchemy_event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sqlalchemy_event.remove(engine, "before_cursor_execute", record)

    return counting


def fresh_database_url(tmp_path: Path, suffix: str) -> str:
    """A new empty database of this run's kind: an SQLite file, or a PostgreSQL database named
    after TEST_DATABASE_URL's with `_suffix` appended (dropped first if a previous run left it)."""
    if not is_postgres():
        return f"sqlite:///{tmp_path / (suffix + '.sqlite3')}"
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_{suffix}"
    drop_postgres_database(url.set(database=name).render_as_string(hide_password=False))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop the PostgreSQL database named in `url`, disconnecting anyone still using it."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()
