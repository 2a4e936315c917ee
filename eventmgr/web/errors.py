"""Friendly error pages that keep the site's layout."""

from __future__ import annotations

import contextlib
import secrets

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from eventmgr.extensions import db, login_manager
from eventmgr.web import logs

#: Headline and explanation per status code; the page shows these rather than Werkzeug's text.
MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "You do not have permission to do that."),
    404: ("Page not found", "There is nothing at this address. It may have moved or been removed."),
    405: ("Method not allowed", "That page cannot be used this way."),
    413: ("Too large", "What you sent is too large."),
    429: ("Too many requests", "Please wait a moment before trying again."),
    500: ("Something went wrong", "An error on our side stopped this page. It has been logged."),
    503: ("Unavailable", "The site is temporarily unavailable. Please try again shortly."),
}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(code: int, detail: str | None = None, *, error_id: str | None = None):
    """Render the error page for `code` with an optional more specific explanation."""
    title, message = MESSAGES.get(code, (f"Error {code}", "The request failed."))
    if _wants_json():
        body = {"error": title, "message": detail or message}
        if error_id:
            body["error_id"] = error_id
        return jsonify(body), code
    return render_template("errors/error.html", code=code, title=title,
                           message=detail or message, error_id=error_id), code  # fmt: skip


def handle_http_exception(error: HTTPException):
    """Any abort(): the friendly page, keeping headers such as Allow on a 405."""
    code = error.code or 500
    # Only our own abort(code, description) carries a message meant for people.
    detail = error.description if error.description != type(error).description else None
    response = make_response(render_error(code, detail))
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_csrf_error(error: CSRFError):
    """A missing or stale CSRF token: explain how to recover rather than a bare 400."""
    return render_error(
        400, "This form has expired or did not come from this site. Reload the page and try again."
    )


def _rollback() -> None:
    """Roll back the failed request's transaction; a dead connection may refuse even that."""
    try:
        db.session.rollback()
    except DBAPIError:
        _discard_connections()


def _discard_connections() -> None:
    """Drop the session's connections without a ROLLBACK, which a dead connection would refuse
    (and Flask-SQLAlchemy's teardown would then raise outside any error handler)."""
    # scoped_session does not proxy invalidate(): call it on the request's own Session.
    with contextlib.suppress(DBAPIError):
        db.session().invalidate()


def handle_internal_error(error: InternalServerError):
    """Roll back whatever the failed request started, log the error with an id, show the 500 page
    with that id. Only the method and path are logged: never form values or tokens."""
    original = getattr(error, "original_exception", None) or error
    if is_database_unavailable(original):
        return handle_database_unavailable(original)
    _rollback()
    error_id = secrets.token_hex(6)
    current_app.logger.error(
        "Unhandled error (error id %s) on %s %s",
        error_id,
        request.method,
        request.path,
        exc_info=(type(original), original, original.__traceback__),
    )
    return render_error(500, error_id=error_id)


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached or gave up (restart, timeout)."""
    if isinstance(error, OperationalError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def handle_database_unavailable(error: Exception):
    """The database is down, restarting or stalled: 503, with a page that needs no database."""
    _discard_connections()
    # The layout asks current_user, which would query the dead database: show it as anonymous.
    g._login_user = login_manager.anonymous_user()
    current_app.logger.warning(
        "Database unavailable on %s %s: %s", request.method, request.path, type(error).__name__
    )
    response = make_response(render_error(503))
    response.headers["Retry-After"] = "5"
    return response


def init_app(app: Flask) -> None:
    """Register the handlers, and keep the values PostgreSQL quotes in its errors out of the log."""
    logs.init_app(app)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(PoolTimeoutError, handle_database_unavailable)
