"""Many members at once through gunicorn with several worker processes: never overbooked.

The app runs as in production: `flask db upgrade` on a fresh database of this run's kind (an SQLite
file, or a PostgreSQL database named after TEST_DATABASE_URL's with `_concurrency` appended), then
gunicorn with several workers, each with several threads. Every member logs in through the real
login form; then all of them press their button at the same moment (a barrier releases the threads).
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
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

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
THREADS_PER_WORKER = 4
STARTUP_SECONDS = 30
#: Seconds between two counts of the confirmed seats while requests run.
SAMPLE_INTERVAL = 0.005
CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]+)"')
WAITLIST_FLASH = re.compile(r"on the waiting list at number (\d+)\.")


# The server --------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """gunicorn serving the app, and an app object on the same database for arranging and checking."""

    host: str
    port: int
    app: Flask
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


def wait_until_healthy(url: str, process: subprocess.Popen, log_path: Path) -> None:
    """Return once /healthz answers 200; raise with the server's log if it never does."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("gunicorn did not start:\n" + log_path.read_text()) from None
            # A process starting up gives nothing to wait on but the clock.
            time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Migrate a fresh database with `flask db upgrade`, then serve it with gunicorn."""
    tmp_path = tmp_path_factory.mktemp("concurrency")
    database_url = fresh_database_url(tmp_path, "concurrency")
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "SECRET_KEY": "concurrency-secret-key-not-for-production",
        "DATABASE_URL": database_url,
        # The same cheap hashing as the test app, so logging in never rewrites a password hash.
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "ARGON2_PARALLELISM": "1",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "FLASK_APP": "app",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=PROJECT_ROOT, env=env,
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:app",
             "--bind", f"127.0.0.1:{port}",
             "--workers", str(WORKERS),
             "--threads", str(THREADS_PER_WORKER),
             "--backlog", "512",
             "--timeout", "60"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until_healthy(f"http://127.0.0.1:{port}", process, log_path)
            app = create_app(base_config(database_url))
            yield Server(host="127.0.0.1", port=port, app=app, log_path=log_path)
            with app.app_context():
                db.engine.dispose()
        finally:
            process.terminate()
            process.wait(timeout=20)
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
        connection = http.client.HTTPConnection(self.server.host, self.server.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v.value}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for cookie in response.headers.get_all("Set-Cookie") or []:
                self.cookies.load(cookie)
            return response.status, response.getheader("Location", ""), response.read().decode()
        finally:
            connection.close()

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


def assert_server_logged_no_errors(server: Server) -> None:
    log = server.log()
    assert "Traceback" not in log, log[-5000:]
    assert "[ERROR]" not in log, log[-5000:]


# The tests ---------------------------------------------------------------------------------------


def test_a_hundred_members_registering_at_once_fill_twenty_seats_in_order(server):
    event_id, slug = create_meeting(server, "rush-for-twenty-seats", capacity=20)
    members = create_members(server, 100, "rush")
    watcher = SeatWatcher(server.app.config["SQLALCHEMY_DATABASE_URI"], event_id)

    def register(email: str) -> Callable[[threading.Barrier], tuple[int, str]]:
        def run(barrier: threading.Barrier) -> tuple[int, str]:
            visitor = Visitor(server)
            visitor.log_in(email)
            token = visitor.csrf_token(f"/events/{slug}")
            barrier.wait(timeout=60)
            return visitor.press(f"/events/{slug}/register", token)

        return run

    watcher.start()
    results, seconds = all_at_once([register(email) for _, email in members])
    samples = watcher.stop()
    print(f"\n100 registrations through {WORKERS} workers in {seconds:.2f} s")

    assert [status for status, _ in results] == [302] * 100  # and so no 5xx
    outcome = read_outcome(server, event_id)
    confirmed, waitlisted = outcome.with_status("confirmed"), outcome.with_status("waitlisted")
    assert (len(confirmed), len(waitlisted), len(outcome.rows)) == (20, 80, 100)
    assert len({user_id for user_id, *_ in outcome.rows}) == 100
    # The first twenty the database accepted have the seats; the rest wait in that order.
    assert max(row[2] for row in confirmed) < min(row[2] for row in waitlisted)
    assert [outcome.positions[row[0]] for row in waitlisted] == list(range(1, 81))
    # Queue numbers were drawn one at a time, under the lock, in the order of acceptance.
    assert [row[2] for row in outcome.rows] == list(range(1, 101))
    registered_times = [row[3] for row in outcome.rows]
    assert registered_times == sorted(registered_times)
    # Each member was told their own outcome: a seat, or their place in the queue.
    messages = {
        user_id: message for (user_id, _), (_, message) in zip(members, results, strict=True)
    }
    for user_id, status, *_ in outcome.rows:
        if status == "confirmed":
            assert messages[user_id].startswith("You are registered for"), messages[user_id]
        else:
            match = WAITLIST_FLASH.search(messages[user_id])
            assert match and int(match.group(1)) == outcome.positions[user_id], messages[user_id]
    assert samples and max(samples) <= 20
    assert_server_logged_no_errors(server)
    assert seconds < 30


def test_members_leaving_while_others_register_never_overbook(server):
    event_id, slug = create_meeting(server, "leaving-and-arriving", capacity=20)
    seated = create_members(server, 20, "seated")
    waiting = create_members(server, 5, "waiting")
    arriving = create_members(server, 30, "arriving")
    with server.app.app_context():
        event = db.session.get(Event, event_id)
        for user_id, _ in seated + waiting:
            service.register_member(event, db.session.get(User, user_id))
        db.session.commit()
    before = read_outcome(server, event_id)
    assert (len(before.with_status("confirmed")), len(before.with_status("waitlisted"))) == (20, 5)

    def press(email: str, action: str) -> Callable[[threading.Barrier], tuple[int, str]]:
        def run(barrier: threading.Barrier) -> tuple[int, str]:
            visitor = Visitor(server)
            visitor.log_in(email)
            token = visitor.csrf_token(f"/events/{slug}")
            barrier.wait(timeout=60)
            return visitor.press(f"/events/{slug}/{action}", token)

        return run

    leavers = seated[::2]  # ten of the twenty seated members
    tasks = [press(email, "unregister") for _, email in leavers]
    tasks += [press(email, "register") for _, email in arriving]
    watcher = SeatWatcher(server.app.config["SQLALCHEMY_DATABASE_URI"], event_id)
    watcher.start()
    results, seconds = all_at_once(tasks)
    samples = watcher.stop()
    print(f"\n10 leaving and 30 arriving through {WORKERS} workers in {seconds:.2f} s")

    assert [status for status, _ in results] == [302] * 40  # and so no 5xx
    for _, message in results[:10]:
        assert message.startswith("Your registration for"), message
    outcome = read_outcome(server, event_id)
    confirmed = outcome.with_status("confirmed")
    waitlisted = outcome.with_status("waitlisted")
    cancelled = outcome.with_status("cancelled")
    assert (len(confirmed), len(waitlisted), len(cancelled)) == (20, 25, 10)
    assert {row[0] for row in cancelled} == {user_id for user_id, _ in leavers}
    # Promotions in queue order: everyone still waiting arrived after everyone with a seat.
    assert max(row[2] for row in confirmed) < min(row[2] for row in waitlisted)
    assert {user_id for user_id, _ in waiting} <= {row[0] for row in confirmed}
    assert [outcome.positions[row[0]] for row in waitlisted] == list(range(1, 26))
    assert len({user_id for user_id, *_ in outcome.rows}) == len(outcome.rows) == 55
    assert samples and max(samples) <= 20
    assert_server_logged_no_errors(server)
    assert seconds < 30
