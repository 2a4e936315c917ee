"""Security headers on every response, error pages included, and the cookie attributes."""

from __future__ import annotations

import pytest

from eventmgr.config import load_config
from tests.conftest import DEFAULT_PASSWORD

HSTS = "max-age=31536000; includeSubDomains"


def csp_directives(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    policy = response.headers["Content-Security-Policy"]
    parts = (part.strip().split(" ", 1) for part in policy.split(";"))
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def boom_app(make_app):
    """An app with a view that fails, showing the 500 page rather than raising in the test."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("an unexpected failure")

    return app


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/account/login", 200), ("/no/such/page", 404), ("/_test/boom", 500),
     ("/account/users", 302),
     ("/account/logout", 405)],
)  # fmt: skip
def test_every_response_has_the_security_headers(make_app, path, status):
    response = boom_app(make_app).test_client().get(path)
    assert response.status_code == status
    directives = csp_directives(response)
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # Plain HTTP: browsers ignore HSTS there, and sending it would be misleading.
    assert "Strict-Transport-Security" not in response.headers


def test_rate_limited_page_has_the_security_headers(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_PER_IP="1 per minute").test_client()
    client.post("/account/login", data={"email": "a@example.org", "password": "x"})
    response = client.post("/account/login", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 429
    assert csp_directives(response)["base-uri"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/no/such/page"])
def test_hsts_is_sent_over_https(client, path):
    response = client.get(path, base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == HSTS


def test_hsts_follows_the_trusted_proxy(make_app):
    client = make_app(PROXY_FIX_COUNT=1).test_client()
    behind_tls = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert behind_tls.headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_an_untrusted_forwarded_proto_gets_no_hsts(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def set_cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_session_and_remember_cookies_are_httponly_and_samesite_lax(client, make_user):
    make_user(email="ann@example.org")
    response = client.post(
        "/account/login",
        data={"email": "ann@example.org", "password": DEFAULT_PASSWORD, "remember": "y"},
    )
    cookies = set_cookies(response)
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name]
        assert "SameSite=Lax" in cookies[name]
        # Not in testing (plain HTTP); see the production test below.
        assert "Secure" not in cookies[name]


def test_cookies_are_secure_in_production(make_app, make_user):
    production = load_config({"APP_ENV": "production", "SECRET_KEY": "x" * 32})
    for name in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        assert production[f"{name}_SECURE"] is True
        assert production[f"{name}_HTTPONLY"] is True
        assert production[f"{name}_SAMESITE"] == "Lax"
    client = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True).test_client()
    make_user(email="ann@example.org")
    response = client.post(
        "/account/login",
        data={"email": "ann@example.org", "password": DEFAULT_PASSWORD, "remember": "y"},
        base_url="https://localhost",
    )
    cookies = set_cookies(response)
    for name in ("session", "remember_token"):
        assert "; Secure" in cookies[name]
        assert "HttpOnly" in cookies[name]


def test_development_cookies_work_over_plain_http():
    development = load_config({"APP_ENV": "development"})
    assert development["SESSION_COOKIE_SECURE"] is False
    assert development["SESSION_COOKIE_HTTPONLY"] is True
