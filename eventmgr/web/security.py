"""Security headers on every response, error pages included, and the rate-limit refusal page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import RateLimitExceeded

#: No inline scripts or styles anywhere: templates link static files only. default-src 'self'
#: covers scripts, so no 'unsafe-inline' script can run; nothing may set a <base> or frame us.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' https: data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: One year, subdomains included; sent only on HTTPS responses (RFC 6797 ignores it over HTTP).
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

FILE_REFUSED_MESSAGE = (
    "This form does not take files. Type your text into the field instead of attaching a file."
)

View = TypeVar("View", bound=Callable)

RATE_LIMITED_MESSAGE = "Too many attempts from here. Please wait a few minutes and try again."


def add_security_headers(response: Response) -> Response:
    """Set CSP, framing, sniffing, referrer and (over HTTPS) HSTS headers unless a view chose its own."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # is_secure follows X-Forwarded-Proto when PROXY_FIX_COUNT trusts the proxy in front.
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def keep_cookies_private(response: Response) -> Response:
    """A response that sets a cookie (a session refreshed, a remember-me cookie) is for this one
    browser: `Cache-Control: private, no-store` and `Vary: Cookie`, whatever the view chose, so no
    shared cache keeps it and hands one member's cookie to others."""
    if "Set-Cookie" not in response.headers:
        return response
    cache_control = response.cache_control
    cache_control.public = False
    cache_control.max_age = None
    cache_control.s_maxage = None
    cache_control.private = True
    cache_control.no_store = True
    response.vary.add("Cookie")
    return response


class PrivateCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, applying keep_cookies_private() once the session cookie is
    written: Flask saves the session after every after_request function, so none of them sees it."""

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Write (or refresh, or delete) the session cookie, then make a cookie-setting response private."""
        super().save_session(app, session, response)
        keep_cookies_private(response)


def handle_rate_limited(error: RateLimitExceeded):
    """A 429 on the friendly error page, or the page a limit's on_breach made (the log-in form of
    a locked account); the limiter adds Retry-After to the response afterwards."""
    from eventmgr.web.errors import render_error

    if error.response is not None:
        return error.response
    return render_error(429, RATE_LIMITED_MESSAGE)


def refuse_nul_bytes() -> None:
    """Answer 400 when the query string or a form holds a NUL byte: no field needs one, and
    PostgreSQL cannot store or even compare text containing it (it would be a 500)."""
    values = [*request.args.keys(), *(v for _, vs in request.args.lists() for v in vs)]
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += [*request.form.keys(), *(v for _, vs in request.form.lists() for v in vs)]
    if any("\x00" in value for value in values):
        abort(400, "The request contained a character that is not allowed (NUL).")


def accepts_files(view: View) -> View:
    """Mark a view as one that takes uploaded files; every other view refuses file parts."""
    view.accepts_files = True  # type: ignore[attr-defined]
    return view


def refuse_unexpected_files() -> None:
    """Answer 400 when a request carries a file part and its view is not marked `accepts_files`.

    No route takes uploads today, but Flask-WTF hands file parts to the form as field data, so a
    file sent under a text field's name would reach validators and services expecting a string.
    """
    if request.mimetype == "multipart/form-data" and request.files:
        view = current_app.view_functions.get(request.endpoint or "")
        if not getattr(view, "accepts_files", False):
            abort(400, FILE_REFUSED_MESSAGE)


def init_app(app: Flask) -> None:
    """Register the header hook, the NUL-byte and file-part checks, private cookie responses and
    the rate-limit page."""
    app.before_request(refuse_nul_bytes)
    app.before_request(refuse_unexpected_files)
    app.after_request(add_security_headers)
    app.session_interface = PrivateCookieSessionInterface()
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
