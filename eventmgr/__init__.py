"""eventmgr: meetings, registrations and discussions for a knowledge-management network."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from eventmgr.config import load_config
from eventmgr.extensions import csrf, db, limiter, login_manager, migrate

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config_overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, CLI and error pages."""
    overrides = dict(config_overrides or {})
    environ = dict(os.environ)
    for name in ("APP_ENV", "SECRET_KEY"):
        if name in overrides:
            environ[name] = overrides[name]

    app = Flask(
        __name__,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
        instance_path=os.environ.get("INSTANCE_PATH", os.path.join(PROJECT_ROOT, "instance")),
    )
    app.config.from_mapping(load_config(environ))
    app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["PROXY_FIX_COUNT"]:
        count = app.config["PROXY_FIX_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_error_handlers(app)
    register_commands(app)
    connect_signals()
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extension objects from extensions.py to this app."""
    from eventmgr.accounts import service as accounts_service
    from eventmgr.models import import_all_models

    import_all_models()

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(PROJECT_ROOT, "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(accounts_service.load_user)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys only when asked, per connection; WAL lets readers and a writer overlap."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    """Every domain's routes; `<int:...>` in them is the bounded IdConverter (set before any rule)."""
    from eventmgr.accounts.views import bp as accounts_bp
    from eventmgr.calendars.views import bp as calendars_bp
    from eventmgr.discussions.views import bp as discussions_bp
    from eventmgr.events.views import bp as events_bp
    from eventmgr.mail.views import bp as mail_bp
    from eventmgr.registrations.views import bp as registrations_bp
    from eventmgr.web.health import bp as health_bp
    from eventmgr.web.numbers import IdConverter
    from eventmgr.writeups.views import bp as writeups_bp

    app.url_map.converters["int"] = IdConverter
    app.register_blueprint(health_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(calendars_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(registrations_bp)
    app.register_blueprint(discussions_bp)
    app.register_blueprint(writeups_bp)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates share."""
    from eventmgr.web import times

    app.jinja_env.filters.update(
        date_in=times.format_date,
        datetime_in=times.format_datetime,
        iso=times.iso,
        relative=times.relative,
    )
    app.jinja_env.globals.update(time_range=times.format_time_range)

    @app.context_processor
    def site_globals() -> dict[str, Any]:
        return {"site_name": app.config["SITE_NAME"]}


def register_error_handlers(app: Flask) -> None:
    """Friendly error pages and security headers."""
    from eventmgr.web import errors, security

    errors.init_app(app)
    security.init_app(app)


def register_commands(app: Flask) -> None:
    """`flask users ...`, `flask demo ...` and `flask mail ...`."""
    from eventmgr.accounts.cli import users_cli
    from eventmgr.demo import demo_cli
    from eventmgr.mail.cli import mail_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(mail_cli)


def connect_signals() -> None:
    """Cross-domain reactions to meeting changes (emails to members); connecting twice is harmless.

    Blinker does not promise an order among receivers, so an email may be queued before the
    registrations receiver refuses the same change; the refusal rolls the request back, email rows
    included, because both are in one transaction.
    """
    from eventmgr.registrations import notifications

    notifications.connect_signals()
