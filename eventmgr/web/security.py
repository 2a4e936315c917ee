"""Security headers on every response, error pages included, and the rate-limit refusal page."""

from __future__ import annotations

from flask import Flask, Response, abort, request
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


def init_app(app: Flask) -> None:
    """Register the header hook, the NUL-byte check and the rate-limit page."""
    app.before_request(refuse_nul_bytes)
    app.after_request(add_security_headers)
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
