"""Settings, read from environment variables in this one place (documented in README.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

#: The secret used when none is configured; fine on a laptop, refused in production.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105


class ConfigurationError(RuntimeError):
    """The environment does not describe a configuration the app can safely run with."""


def normalise_database_url(url: str) -> str:
    """Accept the `postgres://` and `postgresql://` forms hosts hand out and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask configuration from environment variables; raises ConfigurationError."""
    environ = os.environ if environ is None else environ
    app_env = environ.get("APP_ENV", "production").strip().lower()
    if app_env not in {"production", "development", "testing"}:
        raise ConfigurationError(
            f"APP_ENV must be production, development or testing, not {app_env!r}."
        )
    production = app_env == "production"
    secret_key = environ.get("SECRET_KEY", "")
    if not secret_key:
        if production:
            raise ConfigurationError(
                "SECRET_KEY is not set. Set it to a long random value in production "
                "(python -c 'import secrets; print(secrets.token_hex(32))'), "
                "or set APP_ENV=development on your own machine."
            )
        secret_key = DEVELOPMENT_SECRET_KEY
    elif production and (secret_key == DEVELOPMENT_SECRET_KEY or len(secret_key) < 16):
        raise ConfigurationError(
            "SECRET_KEY is the development default or shorter than 16 characters; "
            "production needs a long random value."
        )

    base_url = environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            environ.get("DATABASE_URL", "sqlite:///eventmgr.sqlite3")
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "APP_TIMEZONE": environ.get("APP_TIMEZONE", "Europe/London"),
        "BASE_URL": base_url,
        "SITE_NAME": environ.get("SITE_NAME", "eventmgr"),
        "EVENTS_PER_PAGE": int(environ.get("EVENTS_PER_PAGE", "10")),
        # Cookies: secure in production (served over HTTPS behind the proxy), never readable by JS.
        "SESSION_COOKIE_SECURE": _env_bool(environ, "SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_bool(environ, "SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": int(environ.get("REMEMBER_COOKIE_DAYS", "30")) * 86400,
        # Argon2id cost; RFC 9106's second recommended option. Tests lower it to stay fast.
        "ARGON2_TIME_COST": int(environ.get("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(environ.get("ARGON2_MEMORY_COST", str(64 * 1024))),
        "ARGON2_PARALLELISM": int(environ.get("ARGON2_PARALLELISM", "4")),
        "WTF_CSRF_TIME_LIMIT": None,
        # Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
        "PROXY_FIX_COUNT": int(environ.get("PROXY_FIX_COUNT", "0")),
        **mail_config(environ, production=production, base_url=base_url),
    }


def mail_config(environ: Mapping[str, str], *, production: bool, base_url: str) -> dict[str, Any]:
    """MAIL_* settings for the outbox worker; raises ConfigurationError for contradictions."""
    server = environ.get("MAIL_SERVER", "").strip()
    # Without a server, development prints emails to the log; production must send them.
    backend = environ.get("MAIL_BACKEND", "").strip().lower() or (
        "smtp" if server or production else "log"
    )
    if backend not in {"smtp", "log"}:
        raise ConfigurationError(f"MAIL_BACKEND must be smtp or log, not {backend!r}.")
    use_ssl = _env_bool(environ, "MAIL_USE_SSL", False)
    use_tls = _env_bool(environ, "MAIL_USE_TLS", _env_bool(environ, "MAIL_USE_STARTTLS", False))
    if use_ssl and use_tls:
        raise ConfigurationError(
            "Set MAIL_USE_SSL (implicit TLS, usually port 465) or MAIL_USE_TLS (STARTTLS, "
            "usually port 587), not both."
        )
    default_port = "465" if use_ssl else "587" if use_tls else "25"
    host = urlsplit(base_url).hostname or "localhost"
    site_name = environ.get("SITE_NAME", "eventmgr")
    return {
        "MAIL_BACKEND": backend,
        "MAIL_SERVER": server or "localhost",
        "MAIL_PORT": int(environ.get("MAIL_PORT", "") or default_port),
        "MAIL_USE_TLS": use_tls,
        "MAIL_USE_SSL": use_ssl,
        "MAIL_USERNAME": environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": environ.get("MAIL_DEFAULT_SENDER", "")
        or f"{site_name} <noreply@{host}>",
        "MAIL_TIMEOUT": float(environ.get("MAIL_TIMEOUT", "") or "30"),
        # Retries: doubling from 5 minutes, 8 attempts in all, spans about ten and a half hours.
        "MAIL_MAX_ATTEMPTS": int(environ.get("MAIL_MAX_ATTEMPTS", "") or "8"),
        "MAIL_RETRY_BASE_SECONDS": int(environ.get("MAIL_RETRY_BASE_SECONDS", "") or "300"),
        "MAIL_RETRY_MAX_SECONDS": int(environ.get("MAIL_RETRY_MAX_SECONDS", "") or "21600"),
        "MAIL_SEND_INTERVAL": float(environ.get("MAIL_SEND_INTERVAL", "") or "10"),
    }
