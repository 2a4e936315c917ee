"""Two posts from one guest at the same moment: the write-up's lock lets exactly one through.

Each post runs in a thread of its own with its own app context, so its own session and database
connection, on this run's real database (an SQLite file, or PostgreSQL with TEST_DATABASE_URL).
Both start together at a barrier; then the first takes the lock, stores its comment and keeps its
transaction open until the second has started to take the lock (on PostgreSQL, until the database
shows the second waiting for it). Only then does the first commit. Without the lock the second
would pass its flood check while the first is uncommitted, and both comments would be stored:
`test_without_the_lock_both_posts_get_through` shows the race is real, so the lock is what wins it.

Posts from one guest to two different write-ups do not meet at the write-up's lock. On PostgreSQL
the guest's advisory locks (discussions' lock_guest_sender) make the second wait before its flood
check; the tests at the end race them, and show that without those locks both get through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select, text

from eventmgr.discussions import service as discussions_service
from eventmgr.discussions.models import Comment
from eventmgr.extensions import db as _db
from eventmgr.writeups import service
from eventmgr.writeups.models import WriteUp
from tests.conftest import is_postgres

#: Generous bounds on each wait, so a broken test fails instead of hanging; never reached otherwise.
TIMEOUT = 30
#: (address, email) of the first and the second post.
SENDERS = {
    "same email from two addresses": (("10.0.0.1", "gina@example.org"), ("10.0.0.2", "GINA@example.org")),
    "same address with two emails": (("10.0.0.1", "gina@example.org"), ("10.0.0.1", "hal@example.org")),
}  # fmt: skip


class Race:
    """The two posts and the signals that order them."""

    def __init__(self, app: Flask, writeup_id: int, token: str) -> None:
        self.app = app
        self.writeup_id = writeup_id
        self.token = token
        self.barrier = threading.Barrier(2)
        #: The first post holds the lock (if any) and has stored its comment, uncommitted.
        self.first_stored = threading.Event()
        #: The second post is sending its lock statement, or (with no lock) passed its flood check.
        self.second_arrived = threading.Event()
        #: The second post's flood check is done (with the lock, only after the first commits).
        self.second_checked = threading.Event()
        self.second: threading.Thread | None = None

    def target(self) -> tuple[int, str]:
        """The write-up this thread's post goes to, and its form token."""
        return self.writeup_id, self.token

    def post(self, sender: tuple[str, str]) -> Comment:
        """A guest comment from `sender` through the service, in this thread's session."""
        ip, email = sender
        writeup_id, token = self.target()
        return service.add_guest_reply(
            _db.session.get(WriteUp, writeup_id),
            name="Gina Guest",
            email=email,
            body=f"From {ip} as {email}.",
            ip=ip,
            honeypot="",
            token=token,
        )

    def run_first(self, sender: tuple[str, str]) -> str:
        """Post, then hold the transaction open until the second post has arrived; commit."""
        with self.app.app_context():
            self.barrier.wait(timeout=TIMEOUT)
            self.post(sender)
            self.first_stored.set()
            assert self.second_arrived.wait(timeout=TIMEOUT), "the second post never arrived"
            if is_postgres():
                self.wait_until_second_waits()
            _db.session.commit()
            return "accepted"

    def run_second(self, sender: tuple[str, str]) -> str:
        """Post once the first one's comment is stored; commit, or return the refusal."""
        with self.app.app_context():
            self.barrier.wait(timeout=TIMEOUT)
            assert self.first_stored.wait(timeout=TIMEOUT), "the first post never stored"
            try:
                self.post(sender)
            except discussions_service.DiscussionError as error:
                _db.session.rollback()
                return str(error)
            finally:
                self.second_arrived.set()
            _db.session.commit()
            return "accepted"

    def wait_until_second_waits(self) -> None:
        """Return once PostgreSQL shows a session of this database waiting for a lock (the second
        post, on the write-up's row or on the guest's advisory lock), or once the second post's
        flood check is done (no lock)."""
        engine = create_engine(self.app.config["SQLALCHEMY_DATABASE_URI"])
        query = text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        try:
            with engine.connect() as connection:
                for _ in range(TIMEOUT * 100):
                    if connection.scalar(query):
                        return
                    connection.rollback()
                    # Polls what the database reports: nothing else tells that a session waits.
                    if self.second_checked.wait(0.01):
                        return
            raise AssertionError("the second post neither waited for the lock nor went ahead")
        finally:
            engine.dispose()

    def run(self, first: tuple[str, str], second: tuple[str, str]) -> list[str]:
        """Both posts at once; their outcomes, first post first."""
        results: dict[str, Any] = {}

        def runner(name: str, task: Callable[[], str]) -> Callable[[], None]:
            def run() -> None:
                try:
                    results[name] = task()
                except BaseException as error:  # reported by the test, not lost in the thread
                    results[name] = error
                    self.barrier.abort()
                    for signal in (self.first_stored, self.second_arrived, self.second_checked):
                        signal.set()

            return run

        threads = [
            threading.Thread(target=runner("first", lambda: self.run_first(first))),
            threading.Thread(target=runner("second", lambda: self.run_second(second))),
        ]
        self.second = threads[1]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=2 * TIMEOUT)
        for outcome in results.values():
            if isinstance(outcome, BaseException):
                raise outcome
        return [results["first"], results["second"]]


class RaceAcrossWriteUps(Race):
    """The same two posts, the second to another write-up: the write-up's lock does not order them."""

    def __init__(self, app: Flask, targets: list[tuple[int, str]]) -> None:
        super().__init__(app, *targets[0])
        self.second_target = targets[1]

    def target(self) -> tuple[int, str]:
        """The first write-up for the first post, the other one for the second."""
        return self.second_target if threading.current_thread() is self.second else super().target()


@contextmanager
def racing(app: Flask, race: Race, writeup_ids: list[int], in_app) -> Iterator[Race]:
    """Start the write-ups' threads (so neither post creates one) and signal the second post's
    arrival while the race runs."""

    def start_threads() -> None:
        for writeup_id in writeup_ids:
            discussions_service.get_or_create_thread(
                service.topic(_db.session.get(WriteUp, writeup_id))
            )
        _db.session.commit()

    in_app(start_threads)

    def arrived(connection, cursor, statement, parameters, context, executemany) -> None:
        """The second post is about to send its lock statement."""
        if threading.current_thread() is race.second and statement.startswith("UPDATE writeups"):
            race.second_arrived.set()

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", arrived)
    try:
        yield race
    finally:
        event.remove(engine, "before_cursor_execute", arrived)


@pytest.fixture
def race(app: Flask, writeup: dict[str, Any], token: Callable[..., str], in_app) -> Iterator[Race]:
    """A published write-up whose thread exists (so neither post creates it), and the race."""
    with racing(app, Race(app, writeup["id"], token()), [writeup["id"]], in_app) as race:
        yield race


@pytest.fixture
def race_across_writeups(
    app: Flask, writeup: dict[str, Any], make_writeup, token: Callable[..., str], in_app
) -> Iterator[Race]:
    """Two published write-ups whose threads exist, and a race with one post to each."""
    other = make_writeup(slug="another-report", title="Another report")["id"]
    targets = [(writeup["id"], token()), (other, token(writeup_id=other))]
    with racing(app, RaceAcrossWriteUps(app, targets), [writeup["id"], other], in_app) as race:
        yield race


@pytest.fixture
def flood_checks_signal(monkeypatch: pytest.MonkeyPatch, race: Race) -> None:
    """The second post says it has arrived once its flood check is done, lock or no lock."""
    signal_flood_checks(monkeypatch, race)


@pytest.fixture
def flood_checks_signal_across(monkeypatch: pytest.MonkeyPatch, race_across_writeups: Race) -> None:
    """As flood_checks_signal, in the race across two write-ups."""
    signal_flood_checks(monkeypatch, race_across_writeups)


def signal_flood_checks(monkeypatch: pytest.MonkeyPatch, race: Race) -> None:
    """Make the second post of `race` say it has arrived once its flood check is done."""
    check_flood = discussions_service.check_flood

    def checked(**arguments: Any) -> None:
        try:
            check_flood(**arguments)
        finally:
            if threading.current_thread() is race.second:
                race.second_checked.set()
                race.second_arrived.set()

    monkeypatch.setattr(discussions_service, "check_flood", checked)


def stored_senders(in_app: Callable[..., Any]) -> list[tuple[str | None, str | None]]:
    """The address and email of every stored comment."""
    return in_app(
        lambda: [
            tuple(row)
            for row in _db.session.execute(
                select(Comment.author_ip, Comment.guest_email).order_by(Comment.id)
            )
        ]
    )


@pytest.mark.parametrize(("first", "second"), SENDERS.values(), ids=SENDERS.keys())
def test_simultaneous_posts_from_one_guest_let_exactly_one_through(
    race, flood_checks_signal, in_app, first, second
):
    assert race.run(first, second) == ["accepted", discussions_service.FLOOD_MESSAGE]
    assert stored_senders(in_app) == [first]


@pytest.mark.parametrize(("first", "second"), SENDERS.values(), ids=SENDERS.keys())
def test_without_the_lock_both_posts_get_through(
    race, flood_checks_signal, in_app, monkeypatch, first, second
):
    """The race the lock prevents: with _lock_writeup doing nothing, the second post's flood check
    runs while the first post's comment is uncommitted, so it sees nothing and both are stored.
    (On PostgreSQL the guest's advisory locks would also make it wait, so they go too.)"""
    monkeypatch.setattr(service, "_lock_writeup", lambda writeup: None)
    monkeypatch.setattr(discussions_service, "lock_guest_sender", lambda **sender: None)
    assert race.run(first, second) == ["accepted", "accepted"]
    count = in_app(lambda: _db.session.scalar(select(func.count()).select_from(Comment)))
    assert count == 2


needs_postgres = pytest.mark.skipif(
    not is_postgres(),
    reason="SQLite's write lock is database-wide, so posts to two write-ups already take turns",
)


@needs_postgres
@pytest.mark.parametrize(("first", "second"), SENDERS.values(), ids=SENDERS.keys())
def test_simultaneous_posts_from_one_guest_to_two_write_ups_let_exactly_one_through(
    race_across_writeups, flood_checks_signal_across, in_app, first, second
):
    """The write-ups' locks do not meet; the guest's advisory locks make the second post wait."""
    assert race_across_writeups.run(first, second) == [
        "accepted",
        discussions_service.FLOOD_MESSAGE,
    ]
    assert stored_senders(in_app) == [first]


@needs_postgres
@pytest.mark.parametrize(("first", "second"), SENDERS.values(), ids=SENDERS.keys())
def test_without_the_guest_lock_both_posts_to_two_write_ups_get_through(
    race_across_writeups, flood_checks_signal_across, in_app, monkeypatch, first, second
):
    """The race the advisory locks prevent: with lock_guest_sender doing nothing, the write-up
    locks alone let the second post's flood check run while the first comment is uncommitted."""
    monkeypatch.setattr(discussions_service, "lock_guest_sender", lambda **sender: None)
    assert race_across_writeups.run(first, second) == ["accepted", "accepted"]
    assert len(stored_senders(in_app)) == 2
