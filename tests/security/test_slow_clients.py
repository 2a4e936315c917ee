"""Slow clients against gunicorn as deploy/gunicorn.conf.py configures it: a client that stops half
way through its request loses its connection at the read deadline, and the worker it held serves
the next request. (Trickling clients, and the figures with and without the deadline, are in
`make bench-slow-clients`.)"""

from __future__ import annotations

import http.client
import socket
import time

import pytest

from tests.served import PROJECT_ROOT, flask_command, gunicorn, server_environment

CONFIG = str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py")
READ_TIMEOUT = 1.5
WORKERS = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn with the shipped config, two workers, a 1.5-second read deadline."""
    tmp_path = tmp_path_factory.mktemp("slow-clients")
    env = server_environment(f"sqlite:///{tmp_path / 'slow.sqlite3'}", tmp_path / "instance",
                             REQUEST_READ_TIMEOUT=str(READ_TIMEOUT))  # fmt: skip
    flask_command(env, "db", "upgrade")
    with gunicorn(env, tmp_path / "gunicorn.log", workers=WORKERS,
                  options=["--config", CONFIG]) as served:  # fmt: skip
        yield served


def stalled_client(port: int) -> socket.socket:
    """A connection that sent half a request and then nothing more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
    return sock


def test_stalled_clients_lose_their_connection_and_free_every_worker(server):
    started = time.monotonic()
    stalled = [stalled_client(server.port) for _ in range(WORKERS)]
    try:
        # Every worker now holds a stalled client; this request waits for one to be freed.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 200
        latency = time.monotonic() - started
        for sock in stalled:
            assert sock.recv(1024) == b""  # closed by the server, not by our 20-second timeout
        closed_after = time.monotonic() - started
    finally:
        for sock in stalled:
            sock.close()
    assert latency < READ_TIMEOUT + 5, latency
    assert closed_after < READ_TIMEOUT + 5, closed_after
    assert "no complete request within 1.5 seconds" in server.log()


def test_a_normal_request_is_not_cut_by_the_deadline(server):
    # A body sent at once is read at once, and a response longer than one packet is all sent.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    connection.request("POST", "/account/login", body="email=a%40example.org&password=x",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    response = connection.getresponse()
    body = response.read()
    assert response.status in (200, 400) and b"</html>" in body
