"""Settings, read from environment variables in this one place (documented in README.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

#: The secret used when none is configured; fine on a laptop, refused in production.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105  # nosec B105: development default, refused in production


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
    idle_minutes = int(environ.get("SESSION_IDLE_MINUTES", "") or "120")
    absolute_hours = int(environ.get("SESSION_ABSOLUTE_HOURS", "") or "720")
    remember_seconds = int(environ.get("REMEMBER_COOKIE_DAYS", "") or "30") * 86400
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            environ.get("DATABASE_URL", "sqlite:///eventmgr.sqlite3")
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(environ),
        # Request bodies above this many bytes are refused with 413 before a view reads them.
        "MAX_CONTENT_LENGTH": int(environ.get("MAX_CONTENT_LENGTH", "") or str(1024 * 1024)),
        "APP_TIMEZONE": environ.get("APP_TIMEZONE", "Europe/London"),
        "BASE_URL": base_url,
        "SITE_NAME": environ.get("SITE_NAME", "eventmgr"),
        "EVENTS_PER_PAGE": int(environ.get("EVENTS_PER_PAGE", "10")),
        "WRITEUPS_PER_PAGE": int(environ.get("WRITEUPS_PER_PAGE", "10")),
        # Guests' reply forms sent back sooner than this are refused as bots (0 in testing mode).
        "WRITEUP_MIN_FILL_SECONDS": float(
            environ.get("WRITEUP_MIN_FILL_SECONDS", "0" if app_env == "testing" else "3")
        ),
        # Cookies: secure in production (served over HTTPS behind the proxy), never readable by JS.
        "SESSION_COOKIE_SECURE": _env_bool(environ, "SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_bool(environ, "SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # "Keep me logged in" never outlives the absolute session limit.
        "REMEMBER_COOKIE_DURATION": min(remember_seconds, absolute_hours * 3600),
        # Sessions: permanent cookies refreshed on every request, so they lapse after this much
        # idleness; the stored device session (accounts.models.UserSession) is the authority for
        # both limits: its last_seen_at for idleness, its created_at for the absolute limit (see
        # accounts.service).
        "SESSION_IDLE_MINUTES": idle_minutes,
        "SESSION_ABSOLUTE_HOURS": absolute_hours,
        "PERMANENT_SESSION_LIFETIME": idle_minutes * 60,
        "SESSION_REFRESH_EACH_REQUEST": True,
        # Signed links in emails: password reset (single use) and email address confirmation.
        "PASSWORD_RESET_MAX_AGE": int(environ.get("PASSWORD_RESET_MAX_AGE", "") or "3600"),
        "EMAIL_CONFIRMATION_MAX_AGE": int(
            environ.get("EMAIL_CONFIRMATION_MAX_AGE", "") or str(7 * 86400)
        ),
        # One-time sign-in links ("Email me a sign-in link"), which work while a log-in lock holds.
        "SIGN_IN_LINK_MAX_AGE": int(environ.get("SIGN_IN_LINK_MAX_AGE", "") or "900"),
        # Comments a member (or an organiser) may post per minute, counted in the database so the
        # limit holds across workers; 0 switches it off (the default under APP_ENV=testing only).
        "COMMENTS_PER_MINUTE": int(
            environ.get("COMMENTS_PER_MINUTE", "") or ("0" if app_env == "testing" else "5")
        ),
        "COMMENTS_PER_MINUTE_MODERATOR": int(
            environ.get("COMMENTS_PER_MINUTE_MODERATOR", "")
            or ("0" if app_env == "testing" else "30")
        ),
        # Reply emails to one member: at most one per this many minutes, listing every reply since.
        "REPLY_EMAIL_WINDOW_MINUTES": int(environ.get("REPLY_EMAIL_WINDOW_MINUTES", "") or "10"),
        **ratelimit_config(environ, app_env=app_env),
        # Argon2id cost; RFC 9106's second recommended option. Tests lower it to stay fast.
        "ARGON2_TIME_COST": int(environ.get("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(environ.get("ARGON2_MEMORY_COST", str(64 * 1024))),
        "ARGON2_PARALLELISM": int(environ.get("ARGON2_PARALLELISM", "4")),
        "WTF_CSRF_TIME_LIMIT": None,
        # Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
        "PROXY_FIX_COUNT": int(environ.get("PROXY_FIX_COUNT", "0")),
        **mail_config(environ, production=production, base_url=base_url),
    }


def ratelimit_config(environ: Mapping[str, str], *, app_env: str) -> dict[str, Any]:
    """RATELIMIT_* settings for Flask-Limiter (extensions.limiter) and the log-in limits."""
    return {
        # Off by default only under APP_ENV=testing, so test servers can log many members in.
        "RATELIMIT_ENABLED": _env_bool(environ, "RATELIMIT_ENABLED", app_env != "testing"),
        # memory:// counts per process; several gunicorn workers need a shared redis:// store.
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI", "") or "memory://",
        "RATELIMIT_KEY_PREFIX": environ.get("RATELIMIT_KEY_PREFIX", "") or "eventmgr",
        # A moving window: no double burst at a window's edge.
        "RATELIMIT_STRATEGY": environ.get("RATELIMIT_STRATEGY", "") or "moving-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Log-in attempts per client address (as Discourse), failures per account (OWASP ASVS 2.2.1).
        "RATELIMIT_LOGIN_PER_IP": environ.get("RATELIMIT_LOGIN_PER_IP", "") or "6 per minute",
        "RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT": environ.get(
            "RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT", ""
        )
        or "100 per hour",
        # Sign-ups per client address; emails per recipient address (however many clients ask):
        # confirmation links (sign-up and "send it again" share the count) and sign-in links.
        "RATELIMIT_SIGNUP_PER_IP": environ.get("RATELIMIT_SIGNUP_PER_IP", "") or "10 per hour",
        "RATELIMIT_CONFIRMATION_PER_RECIPIENT": environ.get(
            "RATELIMIT_CONFIRMATION_PER_RECIPIENT", ""
        )
        or "3 per hour",
        "RATELIMIT_SIGN_IN_LINK_PER_RECIPIENT": environ.get(
            "RATELIMIT_SIGN_IN_LINK_PER_RECIPIENT", ""
        )
        or "5 per hour",
    }


def engine_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """SQLAlchemy engine options: reconnect after a database restart, and on PostgreSQL give up
    connecting after DATABASE_CONNECT_TIMEOUT seconds and on statements after
    DATABASE_STATEMENT_TIMEOUT_MS milliseconds (0: no limit), so a stalled database answers 503."""
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        # SQL parameters (emails, hashes, comment text) stay out of error messages and logs.
        "hide_parameters": True,
    }
    url = normalise_database_url(environ.get("DATABASE_URL", ""))
    if url.startswith("postgresql"):
        statement_ms = int(environ.get("DATABASE_STATEMENT_TIMEOUT_MS", "") or "30000")
        options["connect_args"] = {
            "connect_timeout": int(environ.get("DATABASE_CONNECT_TIMEOUT", "") or "5"),
            "options": f"-c statement_timeout={statement_ms}",
        }
    return options


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
