"""The Alembic migrations build exactly the schema the models describe, on this run's database."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from eventmgr import create_app
from eventmgr.database import alembic_options
from eventmgr.demo import load_demo
from eventmgr.extensions import db
from tests.conftest import base_config, drop_postgres_database, fresh_database_url, is_postgres


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database of the kind this run tests (SQLite file or PostgreSQL)."""
    url = fresh_database_url(tmp_path, "migrations")
    yield url
    if is_postgres():
        drop_postgres_database(url)


def schema_differences(app):
    """What Alembic's autogenerate would still change to make the database match the models."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts=alembic_options(connection.dialect.name)
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_models(empty_database_url):
    app = create_app(base_config(empty_database_url))
    with app.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
    assert {"users", "events", "speakers", "questions", "alembic_version"} <= tables
    assert schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database_url):
    app = create_app(base_config(empty_database_url))
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
    assert schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()


#: Columns that exist in some of the revisions every_row() compares, not all.
REVISION_COLUMNS = {
    "session_token",
    "retired_at",
    "sign_in_nonce",
    "group_key",
    "group_items",
    "guest_key",
}


def every_row(app) -> dict[str, list[tuple]]:
    """Each table's rows, sorted (user_sessions, guest_addresses, alembic_version, and the columns
    only some of the compared revisions have aside: they differ between revisions by design)."""
    snapshot = {}
    with app.app_context():
        inspector = inspect(db.engine)
        for table in inspector.get_table_names():
            if table in ("alembic_version", "user_sessions", "guest_addresses"):
                continue
            columns = [c["name"] for c in inspector.get_columns(table)]
            columns = [name for name in columns if name not in REVISION_COLUMNS]
            rows = db.session.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))  # noqa: S608
            snapshot[table] = sorted((tuple(row) for row in rows), key=repr)
        db.session.rollback()
    return snapshot


def test_migrating_down_and_up_keeps_every_row(empty_database_url):
    # SQLite rebuilds `users` to drop or add a column; that must not run the ON DELETE rules of
    # the registrations, meetings, comments and write-ups that point at users.
    app = create_app(base_config(empty_database_url))
    with app.app_context():
        flask_migrate.upgrade()
        load_demo()
        db.session.commit()
    before = every_row(app)
    assert all(before[table] for table in ("users", "registrations", "comments", "writeups"))
    with app.app_context():
        flask_migrate.downgrade(revision="c4f6a8b0d2e3")
    assert every_row(app) == before
    with app.app_context():
        flask_migrate.upgrade()
    assert every_row(app) == before
    with app.app_context():
        db.engine.dispose()
