"""Settings come from the environment, and production refuses to run with an unsafe secret."""

from __future__ import annotations

import pytest

from eventmgr import create_app
from eventmgr.config import (
    DEVELOPMENT_SECRET_KEY,
    ConfigurationError,
    load_config,
    normalise_database_url,
)


def test_production_is_the_default_and_requires_a_secret_key():
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        load_config({})


@pytest.mark.parametrize("secret", [DEVELOPMENT_SECRET_KEY, "short"])
def test_production_refuses_default_or_short_secret(secret):
    with pytest.raises(ConfigurationError, match="development default or shorter"):
        load_config({"APP_ENV": "production", "SECRET_KEY": secret})


def test_create_app_refuses_to_start_in_production_without_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigurationError):
        create_app()


def test_production_with_a_real_secret_has_secure_cookies():
    config = load_config({"APP_ENV": "production", "SECRET_KEY": "x" * 64})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True


def test_development_defaults_to_sqlite_in_instance_folder():
    config = load_config({"APP_ENV": "development"})
    assert config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///eventmgr.sqlite3"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_unknown_app_env_is_refused():
    with pytest.raises(ConfigurationError, match="APP_ENV"):
        load_config({"APP_ENV": "staging"})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.sqlite3", "sqlite:///x.sqlite3"),
    ],
)
def test_database_url_forms_are_normalised(given, expected):
    assert normalise_database_url(given) == expected


def test_environment_variables_reach_the_app(monkeypatch):
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("APP_TIMEZONE", "Europe/Dublin")
    monkeypatch.setenv("BASE_URL", "https://events.example.org/")
    app = create_app()
    assert app.config["APP_TIMEZONE"] == "Europe/Dublin"
    assert app.config["BASE_URL"] == "https://events.example.org"
