"""Health check, friendly error pages, security headers."""

from __future__ import annotations

import pytest

from eventmgr.extensions import db


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_database_is_unreachable(make_app, tmp_path):
    # A SQLite path inside a missing directory cannot be opened.
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def test_404_is_a_friendly_page_in_the_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page
    assert '<main id="main"' in page
    assert "Skip to main content" in page


def test_405_keeps_the_allow_header(client):
    response = client.get("/account/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "Method not allowed" in response.get_data(as_text=True)


def test_400_for_a_missing_csrf_token_explains_what_to_do(csrf_client):
    response = csrf_client.post("/account/logout")
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)


def test_403_page(app, client):
    @app.get("/_test/forbidden")
    def forbidden():
        from flask import abort

        abort(403)

    response = client.get("/_test/forbidden")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_500_rolls_back_and_shows_friendly_page(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("database went away")

    response = app.test_client().get("/_test/boom")
    # (A database OperationalError is a 503 now: tests/security/test_faults.py.)
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    assert "database went away" not in page
    with app.app_context():
        assert db.session.is_active


def test_json_clients_get_json_errors(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "Page not found"


@pytest.mark.parametrize("path", ["/", "/healthz", "/no/such/page"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'self' covers it
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_static_css_is_served(client):
    response = client.get("/static/site.css")
    assert response.status_code == 200
    assert "prefers-color-scheme: dark" in response.get_data(as_text=True)
