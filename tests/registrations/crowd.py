"""A crowd of members pressing the same button at once, through gunicorn with several workers.

The app runs as in production (tests/served.py): `flask db upgrade` on a fresh database of this run's
kind, then gunicorn with several workers, each with several threads. Every member logs in through the
real login form; then all of them press their button at the same moment (a barrier releases the
threads). Each scenario is split in two, `run_*` and `check_*`, so that the same checks can be shown
to fail against an app whose registration lock is switched off (test_concurrency_without_lock.py).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import create_engine, func, select

from eventmgr import create_app
from eventmgr.accounts import service as accounts_service
from eventmgr.accounts.models import User
from eventmgr.events.models import Event
from eventmgr.extensions import db
from eventmgr.registrations import service
from eventmgr.registrations.models import Registration
from tests.conftest import (
    DEFAULT_PASSWORD,
    base_config,
    drop_postgres_database,
    fresh_database_url,
    is_postgres,
)
from tests.served import flask_command, gunicorn, request, server_environment

WORKERS = 4
THREADS_PER_WORKER = 4
#: Seconds between two counts of the confirmed seats while requests run.
SAMPLE_INTERVAL = 0.005
CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]+)"')
WAITLIST_FLASH = re.compile(r"on the waiting list at number (\d+)\.")


# The server --------------------------------------------------------------------------------------


@dataclass
class Server:
    """gunicorn serving the app, and an app object on the same database for arranging and checking."""

    host: str
    port: int
    app: Flask
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


@contextmanager
def serving(tmp_path: Path, name: str, wsgi_app: str = "app:app", **settings: str
            ) -> Iterator[Server]:  # fmt: skip
    """Migrate a fresh database named after `name`, then serve `wsgi_app` on it with gunicorn,
    with extra environment `settings` (e.g. COMMENTS_PER_MINUTE="3")."""
    database_url = fresh_database_url(tmp_path, name)
    env = server_environment(database_url, tmp_path / "instance", **settings)
    flask_command(env, "db", "upgrade")
    try:
        with gunicorn(env, tmp_path / "gunicorn.log", workers=WORKERS,
                      threads=THREADS_PER_WORKER, app=wsgi_app) as served:  # fmt: skip
            app = create_app(base_config(database_url))
            yield Server(host="127.0.0.1", port=served.port, app=app, log_path=served.log_path)
            with app.app_context():
                db.engine.dispose()
    finally:
        if is_postgres():
            drop_postgres_database(database_url)


# A member's browser ------------------------------------------------------------------------------


@dataclass
class Visitor:
    """One person's browser: their own cookies, one HTTP/1.1 connection per request."""

    server: Server
    cookies: SimpleCookie = field(default_factory=SimpleCookie)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """Send a request with this visitor's cookies; returns status, Location and body."""
        return request(self.server.port, method, path, cookies=self.cookies, form=form)

    def csrf_token(self, path: str) -> str:
        """The CSRF token of the forms on page `path`."""
        status, _, html = self.request("GET", path)
        assert status == 200, (path, status)
        field = CSRF_FIELD.search(html)
        assert field, f"no form on {path}"
        return VALUE.search(field.group(0)).group(1)

    def log_in(self, email: str) -> None:
        """Log in through the login form, as a person would."""
        token = self.csrf_token("/account/login")
        status, location, _ = self.request(
            "POST",
            "/account/login",
            {"email": email, "password": DEFAULT_PASSWORD, "csrf_token": token},
        )
        assert status == 302, f"login failed for {email}: {status}"

    def press(self, path: str, token: str) -> tuple[int, str]:
        """POST a button's form; returns the status and the flash message on the page it leads to."""
        status, location, _ = self.request("POST", path, {"csrf_token": token})
        if status != 302:
            return status, ""
        _, _, html = self.request("GET", urlsplit(location).path)
        flash = re.search(r'<p class="flash flash--\w+">([^<]*)</p>', html)
        return status, flash.group(1) if flash else ""


# Arranging and checking --------------------------------------------------------------------------


def create_members(server: Server, count: int, prefix: str) -> list[tuple[int, str]]:
    """New members in the server's database: (id, email) each."""
    with server.app.app_context():
        users = [
            accounts_service.create_user(
                email=f"{prefix}-{number}@example.org",
                display_name=f"{prefix.title()} {number}",
                password=DEFAULT_PASSWORD,
            )
            for number in range(count)
        ]
        db.session.commit()
        return [(user.id, user.email) for user in users]


def create_meeting(server: Server, slug: str, capacity: int) -> tuple[int, str]:
    """A published meeting a week ahead with `capacity` seats: (id, slug)."""
    starts_at = datetime.now(UTC) + timedelta(days=7)
    with server.app.app_context():
        event = Event(
            slug=slug,
            title=slug.replace("-", " ").title(),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            capacity=capacity,
            status="published",
            published_at=datetime.now(UTC),
        )
        db.session.add(event)
        db.session.commit()
        return event.id, event.slug


@dataclass(frozen=True)
class Outcome:
    """A meeting's registrations as stored, in queue order."""

    rows: list[tuple[int, str, int, datetime]]  # user id, status, queue number, registered at
    positions: dict[int, int]  # user id → waiting list position, for those waiting

    def with_status(self, status: str) -> list[tuple[int, str, int, datetime]]:
        return [row for row in self.rows if row[1] == status]


def read_outcome(server: Server, event_id: int) -> Outcome:
    """Every registration of the meeting, and each waiting member's position as the app computes it."""
    with server.app.app_context():
        registrations = db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event_id)
            .order_by(Registration.queue_number)
        ).all()
        rows = [(r.user_id, r.status, r.queue_number, r.registered_at) for r in registrations]
        positions = {
            r.user_id: service.waitlist_position(r) for r in registrations if r.is_waitlisted
        }
        return Outcome(rows=rows, positions=positions)


def all_at_once(tasks: list[Callable[[threading.Barrier], Any]]) -> tuple[list[Any], float]:
    """Run each task in its own thread; each waits at the barrier before its decisive request.
    Returns the results and the seconds from the barrier's release to the last result."""
    barrier = threading.Barrier(len(tasks) + 1)

    def guarded(task: Callable[[threading.Barrier], Any]) -> Any:
        try:
            return task(barrier)
        except BaseException:
            barrier.abort()  # release everyone at once rather than wait for the timeout
            raise

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(guarded, task) for task in tasks]
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            errors = [f.exception() for f in futures if f.exception() is not None]
            raise next(
                (e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0]
            ) from None
        started = time.monotonic()
        results = [future.result(timeout=60) for future in futures]
    return results, time.monotonic() - started


class SeatWatcher(threading.Thread):
    """Counts a meeting's confirmed seats over and over, on its own connection, until stopped."""

    def __init__(self, database_url: str, event_id: int) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(database_url)
        self.event_id = event_id
        self.samples: list[int] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        statement = (
            select(func.count())
            .select_from(Registration)
            .where(Registration.event_id == self.event_id, Registration.status == "confirmed")
        )
        with self.engine.connect() as connection:
            while True:
                self.samples.append(connection.scalar(statement))
                connection.rollback()  # a fresh snapshot for the next sample
                # A sampling interval, not a synchronisation: it only leaves the CPUs to the server.
                if self.stopped.wait(SAMPLE_INTERVAL):
                    return

    def stop(self) -> list[int]:
        self.stopped.set()
        self.join(timeout=10)
        self.engine.dispose()
        return self.samples


# The scenarios -----------------------------------------------------------------------------------

#: The rush: this many members press "Register" at once for a meeting with RUSH_SEATS seats.
RUSH_CROWD = 100
RUSH_SEATS = 20


@dataclass
class Crowd:
    """What happened when a crowd pressed at once: each press's answer, and what was stored."""

    #: Member (id, email) groups by role in the scenario, e.g. "arriving", "leavers".
    groups: dict[str, list[tuple[int, str]]]
    #: (member id, status, flash message) for each press, in the order the presses were listed.
    presses: list[tuple[int, int, str]]
    outcome: Outcome
    #: Counts of the confirmed seats taken while the requests ran.
    samples: list[int]
    seconds: float
    server_log: str

    def messages(self) -> dict[int, str]:
        return {user_id: message for user_id, _, message in self.presses}


def press_at_once(
    server: Server, event_id: int, slug: str, presses: list[tuple[tuple[int, str], str]]
) -> Crowd:
    """Each ((id, email), action) logs in and opens the meeting; then all press `action` at once."""

    def press(email: str, action: str) -> Callable[[threading.Barrier], tuple[int, str]]:
        def run(barrier: threading.Barrier) -> tuple[int, str]:
            visitor = Visitor(server)
            visitor.log_in(email)
            token = visitor.csrf_token(f"/events/{slug}")
            barrier.wait(timeout=60)
            return visitor.press(f"/events/{slug}/{action}", token)

        return run

    watcher = SeatWatcher(server.app.config["SQLALCHEMY_DATABASE_URI"], event_id)
    watcher.start()
    results, seconds = all_at_once([press(email, action) for (_, email), action in presses])
    samples = watcher.stop()
    return Crowd(
        groups={},
        presses=[
            (user_id, status, message)
            for ((user_id, _), _), (status, message) in zip(presses, results, strict=True)
        ],
        outcome=read_outcome(server, event_id),
        samples=samples,
        seconds=seconds,
        server_log=server.log(),
    )


def assert_no_errors(crowd: Crowd) -> None:
    """Every press was answered with a redirect (so no 5xx), and the server logged no error."""
    assert [status for _, status, _ in crowd.presses] == [302] * len(crowd.presses)
    assert "Traceback" not in crowd.server_log, crowd.server_log[-5000:]
    assert "[ERROR]" not in crowd.server_log, crowd.server_log[-5000:]


def run_rush(server: Server, slug: str) -> Crowd:
    """RUSH_CROWD members register at the same moment for a meeting with RUSH_SEATS seats."""
    event_id, slug = create_meeting(server, slug, capacity=RUSH_SEATS)
    members = create_members(server, RUSH_CROWD, slug)
    crowd = press_at_once(server, event_id, slug, [(member, "register") for member in members])
    crowd.groups["members"] = members
    return crowd


def check_rush(crowd: Crowd) -> None:
    """Never more than RUSH_SEATS seats taken, at any moment; the first RUSH_SEATS the database
    accepted have them; the rest wait in acceptance order; everyone was told their own outcome."""
    waiting = RUSH_CROWD - RUSH_SEATS
    outcome = crowd.outcome
    assert crowd.samples and max(crowd.samples) <= RUSH_SEATS, max(crowd.samples)
    confirmed, waitlisted = outcome.with_status("confirmed"), outcome.with_status("waitlisted")
    assert (len(confirmed), len(waitlisted), len(outcome.rows)) == (RUSH_SEATS, waiting, RUSH_CROWD)
    assert_no_errors(crowd)
    assert len({user_id for user_id, *_ in outcome.rows}) == RUSH_CROWD
    assert max(row[2] for row in confirmed) < min(row[2] for row in waitlisted)
    assert [outcome.positions[row[0]] for row in waitlisted] == list(range(1, waiting + 1))
    # Queue numbers were drawn one at a time, under the lock, in the order of acceptance.
    assert [row[2] for row in outcome.rows] == list(range(1, RUSH_CROWD + 1))
    registered_times = [row[3] for row in outcome.rows]
    assert registered_times == sorted(registered_times)
    messages = crowd.messages()
    for user_id, status, *_ in outcome.rows:
        if status == "confirmed":
            assert messages[user_id].startswith("You are registered for"), messages[user_id]
        else:
            match = WAITLIST_FLASH.search(messages[user_id])
            assert match and int(match.group(1)) == outcome.positions[user_id], messages[user_id]


def run_churn(server: Server, slug: str) -> Crowd:
    """A full 20-seat meeting with 5 waiting: 10 seated members leave while 30 more register."""
    event_id, slug = create_meeting(server, slug, capacity=20)
    seated = create_members(server, 20, f"{slug}-seated")
    waiting = create_members(server, 5, f"{slug}-waiting")
    arriving = create_members(server, 30, f"{slug}-arriving")
    with server.app.app_context():
        event = db.session.get(Event, event_id)
        for user_id, _ in seated + waiting:
            service.register_member(event, db.session.get(User, user_id))
        db.session.commit()
    before = read_outcome(server, event_id)
    assert (len(before.with_status("confirmed")), len(before.with_status("waitlisted"))) == (20, 5)
    leavers = seated[::2]
    presses = [(member, "unregister") for member in leavers]
    presses += [(member, "register") for member in arriving]
    crowd = press_at_once(server, event_id, slug, presses)
    crowd.groups.update(waiting=waiting, leavers=leavers)
    return crowd


def check_churn(crowd: Crowd) -> None:
    """Never above capacity; freed seats go to the waiting list in queue order; nobody lost."""
    outcome = crowd.outcome
    assert crowd.samples and max(crowd.samples) <= 20, max(crowd.samples)
    confirmed = outcome.with_status("confirmed")
    waitlisted = outcome.with_status("waitlisted")
    cancelled = outcome.with_status("cancelled")
    assert (len(confirmed), len(waitlisted), len(cancelled)) == (20, 25, 10)
    assert_no_errors(crowd)
    leavers = {user_id for user_id, _ in crowd.groups["leavers"]}
    for user_id, message in crowd.messages().items():
        if user_id in leavers:
            assert message.startswith("Your registration for"), message
    assert {row[0] for row in cancelled} == leavers
    # Promotions in queue order: everyone still waiting arrived after everyone with a seat.
    assert max(row[2] for row in confirmed) < min(row[2] for row in waitlisted)
    assert {user_id for user_id, _ in crowd.groups["waiting"]} <= {row[0] for row in confirmed}
    assert [outcome.positions[row[0]] for row in waitlisted] == list(range(1, 26))
    assert len({user_id for user_id, *_ in outcome.rows}) == len(outcome.rows) == 55
