"""Faults: failures in the middle of a request, an unreachable or restarted database, huge bodies,
and what the log keeps of them.

The PostgreSQL parts (restart, killed backends, a stalling proxy) serve the app with gunicorn in a
subprocess on a database of their own; they run when TEST_DATABASE_URL is PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from eventmgr.accounts.models import User
from eventmgr.extensions import db
from tests.conftest import DEFAULT_PASSWORD, drop_postgres_database, fresh_database_url, is_postgres
from tests.security.conftest import table_rows
from tests.served import flask_command, gunicorn, server_environment

SECRET_PASSWORD = "hunter2-Sekrit-Passw0rd!"


# In-process faults -------------------------------------------------------------------------------


def test_an_exception_after_a_write_rolls_the_whole_request_back(make_app, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.post("/_test/write-then-fail")
    def write_then_fail():
        db.session.add(User(email="half@example.org", display_name="Half", password_hash="x"))
        db.session.flush()
        raise RuntimeError("boom after the first write")

    with app.app_context():
        before = table_rows()
    with caplog.at_level(logging.ERROR):
        response = app.test_client().post(
            "/_test/write-then-fail", data={"password": SECRET_PASSWORD, "token": "tok-123-secret"}
        )
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "boom after the first write" not in page
    error_id = re.search(r'class="error-id">([0-9a-f]+)<', page).group(1)
    assert any(error_id in record.getMessage() for record in caplog.records)
    assert SECRET_PASSWORD not in caplog.text and "tok-123-secret" not in caplog.text
    with app.app_context():
        assert table_rows() == before


def test_sql_parameters_never_reach_the_log(make_app, make_user, caplog):
    """A database error during a POST names no values: the engine hides SQL parameters."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    make_user(email="taken@example.org")

    @app.post("/_test/duplicate")
    def duplicate():
        db.session.add(User(email="taken@example.org", display_name=SECRET_PASSWORD,
                            password_hash="x"))  # fmt: skip
        db.session.flush()
        return "unreachable"

    with caplog.at_level(logging.DEBUG):
        response = app.test_client().post("/_test/duplicate", data={"x": SECRET_PASSWORD})
    assert response.status_code == 500
    # (PostgreSQL's own DETAIL line still names a duplicate key's value: here the email.)
    assert SECRET_PASSWORD not in caplog.text


def test_failed_login_and_signup_never_log_the_password(client, make_user, caplog):
    make_user(email="known@example.org")
    with caplog.at_level(logging.DEBUG):
        client.post(
            "/account/login", data={"email": "known@example.org", "password": SECRET_PASSWORD}
        )
        client.post(
            "/account/login", data={"email": "nobody@example.org", "password": SECRET_PASSWORD}
        )
        client.post("/account/signup", data={"email": "new@example.org", "display_name": "New",
                                             "password": SECRET_PASSWORD,
                                             "confirm_password": SECRET_PASSWORD})  # fmt: skip
    assert SECRET_PASSWORD not in caplog.text


def test_a_body_over_max_content_length_gets_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/account/login", data={"email": "a" * 4096})
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)


def test_max_content_length_defaults_to_one_megabyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_an_unreachable_database_gives_a_503_page_that_needs_no_database(make_app, make_user):
    user = make_user()
    # Nothing listens on port 1: every connection attempt fails at once.
    app = make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "connect_args": {"connect_timeout": 2}},
        PROPAGATE_EXCEPTIONS=False,
    )
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()  # the layout would load this user from the database
    for path in ("/", "/events/", "/my/events"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "temporarily unavailable" in response.get_data(as_text=True)
        assert response.headers["Retry-After"]
    assert client.get("/healthz").status_code == 503


def test_engine_timeouts_are_configured_for_postgresql():
    from eventmgr.config import load_config

    config = load_config({"APP_ENV": "testing", "DATABASE_URL": "postgresql://u@h/d",
                          "DATABASE_STATEMENT_TIMEOUT_MS": "1234"})  # fmt: skip
    options = config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert options["connect_args"] == {"connect_timeout": 5, "options": "-c statement_timeout=1234"}
    sqlite = load_config({"APP_ENV": "testing", "DATABASE_URL": "sqlite:///x.db"})
    assert "connect_args" not in sqlite["SQLALCHEMY_ENGINE_OPTIONS"]


# PostgreSQL under the served app ----------------------------------------------------------------

needs_postgres = pytest.mark.skipif(
    not is_postgres(),
    reason="restarts, killed backends and a stalling proxy need PostgreSQL (TEST_DATABASE_URL); "
    "the PostgreSQL run in CI executes them",
)
CSRF_VALUE = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


class Proxy:
    """A TCP proxy between the app and PostgreSQL that passes, stalls or resets connections."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.mode == "reset":
                client.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                client.close()
                continue
            with self.lock:
                self.open.append(client)
            if self.mode == "stall":
                continue  # accepted, never answered: the app's connect_timeout must fire
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self.lock:
                self.open.append(upstream)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self, mode: str) -> None:
        """Switch mode and drop every open connection (as a dying network would)."""
        self.mode = mode
        with self.lock:
            for sock in self.open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
            self.open.clear()

    def close(self) -> None:
        self.cut("reset")
        self.listener.close()


class App:
    """gunicorn serving the app on a PostgreSQL database of its own (optionally via a proxy)."""

    def __init__(self, base_url: str, database_url: str, log_path: Path) -> None:
        self.base_url = base_url
        self.database_url = database_url
        self.log_path = log_path

    def request(self, method: str, path: str, data: dict | None = None, cookie: str = ""):
        """(status, body, set-cookie) without following redirects."""
        from urllib.parse import urlencode

        body = urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, method=method)  # noqa: S310
        if cookie:
            request.add_header("Cookie", cookie)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=20) as response:
                return (
                    response.status,
                    response.read().decode(),
                    response.headers.get("Set-Cookie", ""),
                )
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers.get("Set-Cookie", "")

    def signup_form(self) -> tuple[int, str, str]:
        """GET the signup form: (status, its CSRF token, the session cookie that token needs)."""
        status, page, set_cookie = self.request("GET", "/account/signup")
        if status != 200:
            return status, "", ""
        match = CSRF_VALUE.search(page)
        return status, match.group(1) or match.group(2), set_cookie.split(";")[0]

    def post_signup(self, token: str, cookie: str, email: str) -> int:
        """POST the signup form for `email` with a token from signup_form(); returns the status."""
        status, _, _ = self.request("POST", "/account/signup", {
            "email": email, "display_name": email.split("@")[0], "password": DEFAULT_PASSWORD,
            "confirm_password": DEFAULT_PASSWORD, "csrf_token": token}, cookie=cookie)  # fmt: skip
        return status

    def sign_up(self, email: str) -> int:
        """Sign a new member up through the real form; returns the POST's status (or the GET's,
        if the form could not be fetched)."""
        status, token, cookie = self.signup_form()
        if status != 200:
            return status
        return self.post_signup(token, cookie, email)

    def emails(self) -> set[str]:
        engine = create_engine(self.direct_url)
        with engine.connect() as connection:
            found = set(connection.scalars(select(User.email)))
        engine.dispose()
        return found

    def log(self) -> str:
        return self.log_path.read_text()


def wait_for(condition, seconds: float) -> float:
    """Poll `condition` until true; returns the seconds it took; fails after `seconds`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "no recovery in time"
        time.sleep(0.2)
    return time.monotonic() - started


def healthy(app: App) -> bool:
    try:
        return app.request("GET", "/healthz")[0] == 200 and app.request("GET", "/")[0] == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[App, Proxy]]:
    """Migrate a fresh database, then serve it with gunicorn through a proxy."""
    if not is_postgres():
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    from sqlalchemy.engine import make_url

    tmp_path = tmp_path_factory.mktemp("faults")
    direct_url = fresh_database_url(tmp_path, "faults")
    url = make_url(direct_url)
    proxy = Proxy(url.port or 5432)
    proxied_url = url.set(port=proxy.port).render_as_string(hide_password=False)
    env = server_environment(
        direct_url,
        tmp_path / "instance",
        DATABASE_CONNECT_TIMEOUT="2",
        DATABASE_STATEMENT_TIMEOUT_MS="5000",
    )
    flask_command(env, "db", "upgrade")
    try:
        with gunicorn({**env, "DATABASE_URL": proxied_url}, tmp_path / "gunicorn.log",
                      workers=2, threads=4) as server:  # fmt: skip
            app = App(server.url, proxied_url, server.log_path)
            app.direct_url = direct_url
            wait_for(lambda: healthy(app), 30)
            yield app, proxy
    finally:
        proxy.close()
        drop_postgres_database(direct_url)


def assert_no_500s(app: App, statuses: list[int]) -> None:
    assert set(statuses) <= {302, 503}, app.log()[-6000:]
    assert "Traceback" not in app.log(), app.log()[-4000:]


@needs_postgres
def test_restarting_postgresql_loses_nothing_and_the_app_recovers_by_itself(served):
    app, _ = served
    before = [f"before-restart-{n}@example.org" for n in range(5)]
    assert [app.sign_up(email) for email in before] == [302] * 5
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"],
                   check=True, capture_output=True)  # fmt: skip
    wait_for(lambda: subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0, 60)
    # pool_pre_ping replaces the pooled connections the restart killed: the first requests work.
    assert app.request("GET", "/")[0] == 200
    assert app.sign_up("after-restart@example.org") == 302
    assert set(before) | {"after-restart@example.org"} <= app.emails()
    assert "Traceback" not in app.log(), app.log()[-4000:]


def _load(app: App, prefix: str, stop: threading.Event, results: list[tuple[str, int]]) -> None:
    number = 0
    while not stop.is_set():
        email = f"{prefix}-{threading.get_ident()}-{number}@example.org"
        try:
            results.append((email, app.sign_up(email)))
        except OSError:
            results.append((email, -1))
        number += 1


def _run_load(app: App, prefix: str, fault, seconds: float = 4.0) -> list[tuple[str, int]]:
    stop, results = threading.Event(), []
    threads = [threading.Thread(target=_load, args=(app, prefix, stop, results)) for _ in range(4)]
    for thread in threads:
        thread.start()
    fault()
    time.sleep(seconds)  # the load runs while the fault lasts
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    return results


@needs_postgres
def test_killed_backends_give_clean_503s_and_no_half_saved_signups(served):
    app, _ = served
    from sqlalchemy.engine import make_url

    name = make_url(app.direct_url).database

    def kill_backends() -> None:
        admin = create_engine(make_url(app.direct_url).set(database="postgres"))
        with admin.connect() as connection:
            for _ in range(3):
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})  # fmt: skip
                time.sleep(0.5)
        admin.dispose()

    results = _run_load(app, "killed", kill_backends)
    statuses = [status for _, status in results]
    assert_no_500s(app, statuses)
    stored = app.emails()
    # Every signup the app confirmed is stored.
    assert {email for email, status in results if status == 302} <= stored
    print(f"\n{statuses.count(302)} signups, {statuses.count(503)} answered 503")
    assert wait_for(lambda: healthy(app), 10) < 10


@needs_postgres
@pytest.mark.parametrize("mode", ["reset", "stall"])
def test_a_stalled_or_resetting_database_gives_503s_then_recovers(served, mode):
    app, proxy = served
    # The form is fetched while the database works, so the POST during the cut really tries to
    # write (a GET answered 503 would never reach the write).
    status, token, cookie = app.signup_form()
    assert status == 200
    proxy.cut(mode)
    started = time.monotonic()
    status, page, _ = app.request("GET", "/events/")
    assert status == 503 and "temporarily unavailable" in page
    assert time.monotonic() - started < 10  # connect_timeout, not a hung worker
    assert app.post_signup(token, cookie, f"during-{mode}@example.org") == 503
    proxy.cut("pass")
    assert wait_for(lambda: healthy(app), 10) < 10
    assert f"during-{mode}@example.org" not in app.emails()
    assert "Traceback" not in app.log(), app.log()[-4000:]
