"""Helpers shared by the accounts tests: reading users back, logging in through the form, HTML."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from eventmgr.accounts import service
from eventmgr.accounts.models import User
from eventmgr.extensions import db as _db
from tests.conftest import DEFAULT_PASSWORD


@pytest.fixture
def fetch_user(app: Flask) -> Callable[[str], User | None]:
    """Read a user afresh from the database, detached with its columns loaded."""

    def fetch(email: str) -> User | None:
        with app.app_context():
            user = service.get_user_by_email(email)
            if user is not None:
                _db.session.expunge(user)
            return user

    return fetch


@pytest.fixture
def update_user(app: Flask) -> Callable[..., None]:
    """Change columns of a user directly in the database: update_user(user, active=False)."""

    def update(user: User, **columns: Any) -> None:
        with app.app_context():
            stored = _db.session.get(User, user.id)
            for name, value in columns.items():
                setattr(stored, name, value)
            _db.session.commit()

    return update


@pytest.fixture
def log_in(client: FlaskClient) -> Callable[..., Any]:
    """Log in through the login form; returns the response."""

    def post(
        email: str, password: str = DEFAULT_PASSWORD, *, target: FlaskClient | None = None, **extra
    ) -> Any:
        data = {"email": email, "password": password, **extra}
        return (target or client).post("/account/login", data=data)

    return post


def user_count(app: Flask) -> int:
    """How many users there are."""
    with app.app_context():
        return _db.session.query(User).count()


def page(response: Any) -> BeautifulSoup:
    """The response's HTML, parsed."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def field_error(response: Any, field_id: str) -> str | None:
    """The error text shown beside a field, or None when it has none."""
    element = page(response).find(id=f"{field_id}-error")
    return element.get_text(" ", strip=True) if element else None


def input_value(response: Any, field_id: str) -> str | None:
    """The value an input was re-rendered with."""
    element = page(response).find(id=field_id)
    if element is None:
        return None
    if element.name == "textarea":
        # HTML drops one newline straight after <textarea>, which WTForms adds for that reason.
        return element.get_text().removeprefix("\r\n").removeprefix("\n")
    return element.get("value")


def flashes(response: Any) -> list[str]:
    """The flash messages on a page."""
    return [flash.get_text(strip=True) for flash in page(response).select(".flash")]


def csrf_token_from(client: FlaskClient, url: str) -> str:
    """The CSRF token in the first form of the page at `url`."""
    token = page(client.get(url)).find("input", attrs={"name": "csrf_token"})
    assert token is not None
    return token["value"]
