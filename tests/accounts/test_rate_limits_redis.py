"""The log-in and email limits shared through Redis by several gunicorn workers.

Three workers share one Redis store (RATELIMIT_STORAGE_URI), under a key prefix unique to this run
whose keys are deleted afterwards. The server trusts one proxy (PROXY_FIX_COUNT=1), so each request
names its client address in X-Forwarded-For: the failures for one account come from 100 different
addresses, which keeps the per-address limit (6 a minute, unchanged) out of the way and shows that
the per-account limit does not depend on the address; likewise the per-recipient limits on
confirmation and sign-in links hold for parallel requests from many addresses. Skipped when no Redis answers on
127.0.0.1:6379 (override with TEST_REDIS_URL).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import (
    DEFAULT_PASSWORD,
    drop_postgres_database,
    fresh_database_url,
    is_postgres,
)
from tests.served import flask_command, gunicorn, request, server_environment

redis = pytest.importorskip("redis")

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKERS = 3
CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Server:
    """gunicorn serving the app on `port`; its access log names the worker pid of each request."""

    port: int
    key_prefix: str
    access_log: Path
    database_url: str

    def request(self, method: str, path: str, *, client_ip: str, cookies: SimpleCookie,
                form: dict[str, str] | None = None) -> tuple[int, str]:  # fmt: skip
        """One request from `client_ip` (as the trusted proxy reports it); returns status and body."""
        status, _, body = request(self.port, method, path, cookies=cookies, form=form,
                                  headers={"X-Forwarded-For": client_ip}, timeout=30)  # fmt: skip
        return status, body

    def worker_pids_for(self, path: str) -> set[str]:
        """The worker processes that answered POSTs to `path`."""
        return {
            line.split()[0]
            for line in self.access_log.read_text().splitlines()
            if f"POST {path} " in line
        }


@pytest.fixture(scope="module")
def redis_client() -> Iterator[object]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, redis_client) -> Iterator[Server]:
    """A fresh database, then gunicorn with three workers sharing the Redis store."""
    tmp_path = tmp_path_factory.mktemp("ratelimits")
    database_url = fresh_database_url(tmp_path, "ratelimits")
    key_prefix = f"eventmgr-test-{uuid.uuid4().hex}"
    env = server_environment(
        database_url,
        tmp_path / "instance",
        RATELIMIT_ENABLED="1",
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=key_prefix,
        PROXY_FIX_COUNT="1",
    )
    flask_command(env, "db", "upgrade")
    access_log = tmp_path / "access.log"
    options = ["--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s %(r)s"]
    try:
        with gunicorn(env, tmp_path / "gunicorn.log", workers=WORKERS, options=options) as served:
            yield Server(port=served.port, key_prefix=key_prefix, access_log=access_log,
                         database_url=database_url)  # fmt: skip
    finally:
        keys = list(redis_client.scan_iter(match=f"*{key_prefix}*"))
        if keys:
            redis_client.delete(*keys)
    if is_postgres():
        drop_postgres_database(database_url)


def login_form(server: Server, cookies: SimpleCookie, client_ip: str) -> str:
    """Open the login page (starting a session) and return its CSRF token."""
    status, html = server.request("GET", "/account/login", client_ip=client_ip, cookies=cookies)
    assert status == 200
    return CSRF_FIELD.search(html).group(1)


def test_the_101st_failure_for_an_account_is_refused_by_whichever_worker_gets_it(
    server, redis_client
):
    cookies = SimpleCookie()
    token = login_form(server, cookies, "198.51.100.1")
    form = {"email": "target@example.org", "password": "wrong password", "csrf_token": token}

    def fail(number: int) -> int:
        ip = f"10.1.{number // 250}.{number % 250 + 1}"
        return server.request("POST", "/account/login", client_ip=ip, cookies=cookies, form=form)[0]

    # Concurrent, so the kernel spreads the connections over the workers.
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(fail, range(100)))
    assert statuses == [200] * 100
    assert fail(100) == 429
    assert fail(101) == 429
    assert len(server.worker_pids_for("/account/login")) >= 2
    assert list(redis_client.scan_iter(match=f"*{server.key_prefix}*"))


def test_the_seventh_attempt_a_minute_from_one_address_is_refused(server):
    cookies = SimpleCookie()
    token = login_form(server, cookies, "198.51.100.2")
    form = {"email": "someone@example.org", "password": "wrong password", "csrf_token": token}
    statuses = [
        server.request("POST", "/account/login", client_ip="203.0.113.7", cookies=cookies,
                       form=form)[0]
        for _ in range(7)
    ]  # fmt: skip
    assert statuses == [200] * 6 + [429]
    other = server.request("POST", "/account/login", client_ip="203.0.113.8", cookies=cookies,
                           form=form)  # fmt: skip
    assert other[0] == 200


def emails_to(server: Server, address: str, kind: str) -> int:
    """How many emails of `kind` the server's outbox holds for `address`."""
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT count(*) FROM outbox_messages WHERE to_address = :to AND kind = :kind"
                ),
                {"to": address, "kind": kind},
            ).scalar_one()
    finally:
        engine.dispose()


def fire(server: Server, path: str, *, cookies: SimpleCookie, form: dict[str, str],
         count: int, subnet: str) -> list[int]:  # fmt: skip
    """POST `form` to `path` `count` times at once, each from its own client address."""

    def send(number: int) -> int:
        ip = f"{subnet}.{number // 250}.{number % 250 + 1}"
        return server.request("POST", path, client_ip=ip, cookies=cookies, form=form)[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(send, range(count)))


def sign_up(server: Server, cookies: SimpleCookie, email: str, client_ip: str) -> None:
    """Create an account through the sign-up form (which queues its confirmation email)."""
    status, html = server.request("GET", "/account/signup", client_ip=client_ip, cookies=cookies)
    form = {"email": email, "display_name": "Flooded", "csrf_token": CSRF_FIELD.search(html)[1],
            "password": DEFAULT_PASSWORD, "confirm_password": DEFAULT_PASSWORD}  # fmt: skip
    status, _ = server.request("POST", "/account/signup", client_ip=client_ip, cookies=cookies,
                               form=form)  # fmt: skip
    assert status == 302


def test_confirmation_emails_to_one_address_are_limited_across_workers_and_addresses(server):
    # One member signs up (the first confirmation email), then asks 30 times at once, from 30
    # addresses, for the link again: the recipient's limit (3 an hour) lets exactly two through.
    cookies = SimpleCookie()
    sign_up(server, cookies, "Flooded@example.org ", "198.51.100.3")
    status, html = server.request("GET", "/account/", client_ip="198.51.100.3", cookies=cookies)
    form = {"csrf_token": CSRF_FIELD.search(html).group(1)}
    statuses = fire(server, "/account/confirm/resend", cookies=cookies, form=form, count=30,
                    subnet="10.2")  # fmt: skip
    assert sorted(statuses) == [302] * 2 + [429] * 28
    assert emails_to(server, "flooded@example.org", "email_confirmation") == 3
    assert len(server.worker_pids_for("/account/confirm/resend")) >= 2


def test_sign_in_links_to_one_address_are_limited_across_workers_and_addresses(server):
    sign_up(server, SimpleCookie(), "linked@example.org", "198.51.100.5")
    cookies = SimpleCookie()
    status, html = server.request("GET", "/account/login/link", client_ip="198.51.100.4",
                                  cookies=cookies)  # fmt: skip
    form = {"email": "Linked@example.org", "csrf_token": CSRF_FIELD.search(html).group(1)}
    statuses = fire(server, "/account/login/link", cookies=cookies, form=form, count=30,
                    subnet="10.3")  # fmt: skip
    assert sorted(statuses) == [302] * 5 + [429] * 25
    assert emails_to(server, "linked@example.org", "sign_in_link") == 5
    assert len(server.worker_pids_for("/account/login/link")) >= 2


SIGN_IN_PATH = re.compile(r"https?://[^/\s]+(/account/login/link/\S+)")


def test_a_sign_in_link_used_from_eight_browsers_at_once_signs_in_one(server):
    sign_up(server, SimpleCookie(), "once@example.org", "198.51.100.6")
    cookies = SimpleCookie()
    status, html = server.request("GET", "/account/login/link", client_ip="198.51.100.7",
                                  cookies=cookies)  # fmt: skip
    form = {"email": "once@example.org", "csrf_token": CSRF_FIELD.search(html)[1]}
    assert server.request("POST", "/account/login/link", client_ip="198.51.100.7",
                          cookies=cookies, form=form)[0] == 302  # fmt: skip
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            body = connection.execute(text(
                "SELECT text_body FROM outbox_messages WHERE to_address = 'once@example.org'"
                " AND kind = 'sign_in_link'"
            )).scalar_one()  # fmt: skip
            count_sessions = text(
                "SELECT count(*) FROM user_sessions JOIN users ON users.id = user_sessions.user_id"
                " WHERE users.email = 'once@example.org'"
            )
            sessions_before = connection.execute(count_sessions).scalar_one()
        path = SIGN_IN_PATH.search(body)[1]
        browsers = []
        for number in range(8):
            jar = SimpleCookie()
            status, html = server.request("GET", path, client_ip=f"10.4.0.{number + 1}",
                                          cookies=jar)  # fmt: skip
            assert status == 200
            browsers.append((jar, {"csrf_token": CSRF_FIELD.search(html)[1]}))

        def use(number: int) -> str:
            jar, token = browsers[number]
            return request(server.port, "POST", path, cookies=jar, form=token, timeout=30,
                           headers={"X-Forwarded-For": f"10.4.0.{number + 1}"})[1]  # fmt: skip

        with ThreadPoolExecutor(max_workers=8) as pool:
            locations = list(pool.map(use, range(8)))
        assert sorted(locations) == ["/"] + ["/account/login/link"] * 7
        with engine.connect() as connection:
            assert connection.execute(count_sessions).scalar_one() == sessions_before + 1
    finally:
        engine.dispose()
