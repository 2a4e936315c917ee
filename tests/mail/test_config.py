"""MAIL_* settings: the log backend on a laptop, SMTP in production, contradictions refused."""

from __future__ import annotations

import pytest

from eventmgr.config import ConfigurationError, load_config

PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "x" * 32}


def test_development_without_a_server_prints_emails_to_the_log():
    config = load_config({"APP_ENV": "development"})
    assert config["MAIL_BACKEND"] == "log"
    assert config["MAIL_MAX_ATTEMPTS"] == 8
    assert config["MAIL_DEFAULT_SENDER"] == "eventmgr <noreply@127.0.0.1>"


def test_development_with_a_server_sends():
    config = load_config({"APP_ENV": "development", "MAIL_SERVER": "mail.example.org"})
    assert config["MAIL_BACKEND"] == "smtp"
    assert config["MAIL_SERVER"] == "mail.example.org"
    assert config["MAIL_PORT"] == 25


def test_production_sends_over_smtp_with_the_sites_sender():
    config = load_config({**PRODUCTION, "BASE_URL": "https://events.example.org/"})
    assert config["MAIL_BACKEND"] == "smtp"
    assert config["MAIL_DEFAULT_SENDER"] == "eventmgr <noreply@events.example.org>"


@pytest.mark.parametrize(
    ("environ", "port"),
    [({"MAIL_USE_TLS": "1"}, 587), ({"MAIL_USE_STARTTLS": "true"}, 587), ({"MAIL_USE_SSL": "yes"}, 465),
     ({"MAIL_USE_SSL": "1", "MAIL_PORT": "2465"}, 2465)],
)  # fmt: skip
def test_port_follows_the_kind_of_tls(environ, port):
    assert load_config({**PRODUCTION, **environ})["MAIL_PORT"] == port


def test_ssl_and_starttls_together_are_refused():
    with pytest.raises(ConfigurationError, match="not both"):
        load_config({**PRODUCTION, "MAIL_USE_SSL": "1", "MAIL_USE_TLS": "1"})


def test_unknown_backend_is_refused():
    with pytest.raises(ConfigurationError, match="MAIL_BACKEND"):
        load_config({**PRODUCTION, "MAIL_BACKEND": "carrier-pigeon"})


def test_every_setting_is_read_from_the_environment():
    config = load_config(
        {
            **PRODUCTION,
            "MAIL_BACKEND": "log",
            "MAIL_USERNAME": "bot",
            "MAIL_PASSWORD": "secret",
            "MAIL_DEFAULT_SENDER": "Meetings <m@example.org>",
            "MAIL_TIMEOUT": "5",
            "MAIL_MAX_ATTEMPTS": "3",
            "MAIL_RETRY_BASE_SECONDS": "10",
            "MAIL_RETRY_MAX_SECONDS": "100",
            "MAIL_SEND_INTERVAL": "2.5",
        }
    )
    assert config["MAIL_BACKEND"] == "log"
    assert (config["MAIL_USERNAME"], config["MAIL_PASSWORD"]) == ("bot", "secret")
    assert config["MAIL_DEFAULT_SENDER"] == "Meetings <m@example.org>"
    assert config["MAIL_TIMEOUT"] == 5.0 and config["MAIL_MAX_ATTEMPTS"] == 3
    assert (config["MAIL_RETRY_BASE_SECONDS"], config["MAIL_RETRY_MAX_SECONDS"]) == (10, 100)
    assert config["MAIL_SEND_INTERVAL"] == 2.5
