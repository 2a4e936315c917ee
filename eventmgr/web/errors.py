"""Friendly error pages that keep the site's layout."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from eventmgr.extensions import db

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


def render_error(code: int, detail: str | None = None):
    """Render the error page for `code` with an optional more specific explanation."""
    title, message = MESSAGES.get(code, (f"Error {code}", "The request failed."))
    if _wants_json():
        return jsonify(error=title, message=detail or message), code
    return render_template("errors/error.html", code=code, title=title,
                           message=detail or message), code  # fmt: skip


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


def handle_internal_error(error: Exception):
    """Roll back whatever the failed request started, then show the 500 page."""
    db.session.rollback()
    return render_error(500)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_internal_error)
