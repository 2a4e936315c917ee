"""The Alembic migrations build exactly the schema the models describe, on this run's database."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from eventmgr import create_app
from eventmgr.database import alembic_options
from eventmgr.extensions import db
from tests.conftest import TEST_DATABASE_URL, base_config, is_postgres


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database of the kind this run tests (SQLite file or PostgreSQL)."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_migrations"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
