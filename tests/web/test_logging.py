"""Logged database errors never carry the values PostgreSQL quotes in their DETAIL lines."""

from __future__ import annotations

import logging
import sys

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from eventmgr.accounts.models import User
from eventmgr.extensions import db
from eventmgr.web.logs import REDACTED, RedactDatabaseDetails, redact_database_details
from tests.conftest import is_postgres

LEAKY_EMAIL = "leaky.person@example.org"


def logged_texts(records: list[logging.LogRecord]) -> list[str]:
    """Everything a handler could write for each record: the message, the cached traceback and the
    record formatted afresh (which formats the exception again if the record still holds one)."""
    texts = []
    for record in records:
        texts += [record.getMessage(), record.exc_text or "", logging.Formatter().format(record)]
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    return texts


def duplicate_email() -> None:
    """A second account with a taken address: a unique violation naming the email on PostgreSQL."""
    db.session.add(User(email=LEAKY_EMAIL, display_name="Twin", password_hash="x"))
    db.session.flush()


def missing_name() -> None:
    """A row without its display name: a not-null violation quoting the whole row on PostgreSQL."""
    db.session.execute(
        insert(User).values(email="other." + LEAKY_EMAIL, display_name=None, password_hash="x")
    )


@pytest.mark.parametrize("fault", [duplicate_email, missing_name], ids=["unique", "not-null"])
def test_a_database_error_in_a_request_is_logged_without_the_values(
    make_app, make_user, caplog, fault
):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    make_user(email=LEAKY_EMAIL)

    @app.post("/_test/fault")
    def fail():
        fault()
        return "unreachable"

    with caplog.at_level(logging.DEBUG):
        response = app.test_client().post("/_test/fault")
    assert response.status_code == 500
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    # Flask's own exception log and the 500 handler's, each with the traceback.
    assert len(errors) == 2
    assert all("IntegrityError" in (record.exc_text or "") for record in errors)
    texts = logged_texts(caplog.records)
    assert not [text for text in texts if "leaky.person" in text]
    assert "leaky.person" not in caplog.text
    if is_postgres():
        # The log still says what happened: the error, its constraint, which part was redacted.
        if fault is duplicate_email:
            assert "UniqueViolation" in caplog.text
            assert f"DETAIL:  Key (email)=({REDACTED}) already exists." in caplog.text
        else:
            assert "NotNullViolation" in caplog.text
            assert f"DETAIL:  Failing row contains ({REDACTED})." in caplog.text


@pytest.mark.skipif(not is_postgres(), reason="PostgreSQL's DETAIL line")
def test_the_unredacted_error_does_name_the_value(make_app, make_user):
    """The check above is not empty: without the filter the email would be there to find."""
    app = make_app()
    make_user(email=LEAKY_EMAIL)
    with app.app_context(), pytest.raises(IntegrityError) as raised:
        db.session.execute(
            text("INSERT INTO users (email, display_name, password_hash) VALUES (:e, 'T', 'x')"),
            {"e": LEAKY_EMAIL},
        )
    assert LEAKY_EMAIL in str(raised.value)
    assert LEAKY_EMAIL not in redact_database_details(str(raised.value))


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        (
            "DETAIL:  Key (lower(email::text))=(ann@example.org) already exists.",
            f"DETAIL:  Key (lower(email::text))=({REDACTED}) already exists.",
        ),
        (
            "DETAIL:  Key (email)=(a) already exists.) already exists.",
            f"DETAIL:  Key (email)=({REDACTED}) already exists.",
        ),
        (
            'DETAIL:  Key (user_id)=(42) is not present in table "users".',
            f'DETAIL:  Key (user_id)=({REDACTED}) is not present in table "users".',
        ),
        (
            'DETAIL:  Key (id)=(42) is still referenced from table "registrations".',
            f'DETAIL:  Key (id)=({REDACTED}) is still referenced from table "registrations".',
        ),
        (
            "DETAIL:  Key (room, during)=(1, [a,b)) conflicts with existing key (room, during)=(1, c).",
            f"DETAIL:  Key (room, during)=({REDACTED})",
        ),
        (
            "DETAIL:  Failing row contains (7, ann@example.org, null).",
            f"DETAIL:  Failing row contains ({REDACTED}).",
        ),
        (
            # A value over several lines, such as a comment's Markdown body, is redacted whole.
            "DETAIL:  Failing row contains (7, First line.\n\nSecond, ann@example.org\n> quoted).",
            f"DETAIL:  Failing row contains ({REDACTED}).",
        ),
        (
            "DETAIL:  Key (body)=(one\ntwo ann@example.org) already exists.",
            f"DETAIL:  Key (body)=({REDACTED}) already exists.",
        ),
        ("UNIQUE constraint failed: users.email", "UNIQUE constraint failed: users.email"),
    ],
)
def test_details_are_redacted(detail, expected):
    message = f'duplicate key value violates unique constraint "x"\n{detail}\n[SQL: INSERT ...]'
    assert redact_database_details(message) == (
        f'duplicate key value violates unique constraint "x"\n{expected}\n[SQL: INSERT ...]'
    )


def test_each_detail_of_a_chained_traceback_is_redacted():
    traceback = (
        'psycopg.errors.CheckViolation: new row violates check constraint "x"\n'
        "DETAIL:  Failing row contains (1, a\nb@example.org).\n\n"
        "The above exception was the direct cause of the following exception:\n\n"
        "sqlalchemy.exc.IntegrityError: (psycopg.errors.CheckViolation) new row violates\n"
        "DETAIL:  Failing row contains (1, a\nb@example.org).\n"
        "[SQL: INSERT INTO comments ...]\n"
        "(Background on this error at: https://sqlalche.me/e/20/gkpj)"
    )
    redacted = redact_database_details(traceback)
    assert "example.org" not in redacted
    assert redacted.count(f"Failing row contains ({REDACTED}).") == 2
    assert "The above exception was the direct cause" in redacted
    assert "[SQL: INSERT INTO comments ...]" in redacted and "(Background on this error" in redacted


def make_record(message: str, *args: object, error: BaseException | None = None):
    """A log record as logger.error(message, *args, exc_info=error) makes it."""
    exc_info = (type(error), error, error.__traceback__) if error else None
    return logging.LogRecord("eventmgr", logging.ERROR, __file__, 1, message, args, exc_info)


def raised(message: str) -> BaseException:
    """An exception with `message`, raised so that it has a traceback."""
    try:
        raise RuntimeError(message)
    except RuntimeError:
        return sys.exc_info()[1]


def test_the_filter_rewrites_messages_and_tracebacks_but_keeps_the_rest():
    error = raised("boom\nDETAIL:  Key (email)=(ann@example.org) already exists.")
    record = make_record("Outbox unavailable: %s", error, error=error)
    assert RedactDatabaseDetails().filter(record) is True
    assert record.getMessage() == (
        f"Outbox unavailable: boom\nDETAIL:  Key (email)=({REDACTED}) already exists."
    )
    assert record.exc_info is None
    assert "RuntimeError: boom" in record.exc_text and "ann@example.org" not in record.exc_text
    assert "ann@example.org" not in logging.Formatter().format(record)
    assert "Traceback (most recent call last)" in logging.Formatter().format(record)

    plain = raised("nothing personal")
    untouched = make_record("Sent %d emails", 3, error=plain)
    assert RedactDatabaseDetails().filter(untouched) is True
    assert untouched.args == (3,) and untouched.exc_info[1] is plain and untouched.exc_text is None


def test_the_app_logger_carries_the_filter(app, caplog):
    with caplog.at_level(logging.INFO):
        app.logger.info("Conflict: %s", "Key (email)=(ann@example.org) already exists.")
    assert caplog.records[-1].getMessage() == f"Conflict: Key (email)=({REDACTED}) already exists."
    assert "ann@example.org" not in caplog.text
