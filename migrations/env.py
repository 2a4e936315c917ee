"""Alembic environment, run through Flask-Migrate (`flask db upgrade`, `flask db migrate`)."""

import logging
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app

from eventmgr.database import alembic_options

config = context.config
if config.config_file_name is not None:
    # Keep loggers the app (or pytest) already set up working after Alembic configures its own.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL without connecting (`flask db upgrade --sql`)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
        **alembic_options(target_db.engine.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def foreign_keys_off_on_sqlite(connection):
    """On SQLite, run the block with foreign key enforcement off, then check the keys and turn it on.

    SQLite changes most columns by rebuilding the table (Alembic's batch mode: copy, DROP, rename).
    With enforcement on, which the app's connect hook turns on for every connection, dropping
    `users` would first delete it row by row, running every ON DELETE CASCADE and SET NULL that
    points at it, or fail on a reference without one. SQLite ignores the pragma inside a
    transaction, so it is set before the migrations' transaction begins, as SQLite's documentation
    for table rebuilds describes. The connection goes back to the pool afterwards, so enforcement
    is turned on again whatever happens.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        yield
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migrations left rows with broken foreign keys: {broken[:10]}")
    finally:
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def run_migrations_online() -> None:
    """Run migrations over a connection from the app's engine."""

    def process_revision_directives(context, revision, directives):
        # `flask db migrate` with no schema change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    with target_db.engine.connect() as connection:
        configure_args = {
            "process_revision_directives": process_revision_directives,
            **current_app.extensions["migrate"].configure_args,
            **alembic_options(connection.dialect.name),
        }
        context.configure(
            connection=connection, target_metadata=target_db.metadata, **configure_args
        )
        with foreign_keys_off_on_sqlite(connection), context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
