"""The declarative base every model uses, and the column types they share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, inspect, text, update
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

#: Stable constraint names, so Alembic migrations can refer to (and drop) them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def lock_row(session: Session, instance: Any) -> None:
    """Hold a write lock on `instance`'s row until the transaction ends, then reload `instance`
    from the row as the last holder of the lock committed it.

    This is the first half of every state transition (the service then re-checks the rules on what
    it reloaded, and the loser of a race finds the change already made). The lock is a no-op UPDATE,
    the transaction's first write: PostgreSQL keeps the row locked until commit or rollback, and a
    second request waits here, then reads what the first committed (READ COMMITTED); SQLite's
    transaction only starts with this write and keeps its database-wide write lock as long. Columns
    with an `onupdate` default are set to themselves, so taking the lock is never an edit. Flushes.
    """
    # Changes not yet written are written first, so the reload below keeps them.
    session.flush()
    mapper = inspect(instance).mapper
    table = mapper.local_table
    keys = [column.name for column in mapper.primary_key]
    identity = mapper.primary_key_from_instance(instance)
    unchanged = {column.name: column for column in table.columns if column.onupdate is not None}
    if not unchanged:
        column = next(column for column in table.columns if not column.primary_key)
        unchanged = {column.name: column}
    statement = (
        update(table)
        .where(*(table.c[key] == value for key, value in zip(keys, identity, strict=True)))
        .values(unchanged)
    )
    session.execute(statement, execution_options={"synchronize_session": False})
    session.refresh(instance)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always handed back timezone-aware.

    PostgreSQL keeps the offset (`timestamptz`); SQLite keeps none, so values are converted to UTC
    before they are written and marked as UTC when they are read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store timezone-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _render_item(type_: str, obj: object, autogen_context) -> str | bool:
    """Write UTCDateTime into migrations as the plain column type it stores as."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def alembic_options(dialect_name: str) -> dict:
    """Options for Alembic's context, shared by migrations/env.py and the schema-drift test."""
    return {
        "compare_type": True,
        "render_item": _render_item,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        "render_as_batch": dialect_name == "sqlite",
    }


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist yet (connects to the
    server's `postgres` database to do so)."""
    target = make_url(url)
    maintenance = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                name = maintenance.dialect.identifier_preparer.quote(target.database)
                # An identifier cannot be a bound parameter; the preparer quotes the name.
                connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        maintenance.dispose()
