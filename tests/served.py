"""The app served as in production, in a subprocess, for tests that need real HTTP.

gunicorn with several worker processes serves the concurrency, shared rate-limit and fault tests;
`flask run` serves the browser tests and `make screenshots`. Each server runs on a free loopback
port, on a database its caller migrated with `flask db upgrade` (see `flask_command`).
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: How long a server may take to answer /healthz: generous, because the workers import the app
#: while the rest of the suite may be loading the machine.
STARTUP_SECONDS = 120


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str, instance_path: Path, **extra: str) -> dict[str, str]:
    """Environment for the app in a subprocess: testing mode, cheap hashing, this database.

    The test apps hash as cheaply, so a password hash written by one is never rehashed by the other.
    """
    return {
        **os.environ,
        "APP_ENV": "testing",
        "SECRET_KEY": "served-secret-key-not-for-production",
        "DATABASE_URL": database_url,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "ARGON2_PARALLELISM": "1",
        "INSTANCE_PATH": str(instance_path),
        "FLASK_APP": "app",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def flask_command(env: Mapping[str, str], *arguments: str) -> None:
    """Run `flask <arguments>` in the project; raises CalledProcessError with its output."""
    subprocess.run([sys.executable, "-m", "flask", *arguments], cwd=PROJECT_ROOT, env=env,
                   check=True, capture_output=True)  # fmt: skip


@dataclass(frozen=True)
class Served:
    """A running server: where it answers and what it logged."""

    url: str
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


def wait_until_healthy(url: str, process: subprocess.Popen, log_path: Path) -> None:
    """Return once `url`/healthz answers 200; raise RuntimeError with the log if it never does."""
    deadline = time.monotonic() + STARTUP_SECONDS
    last_problem = ""
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError as error:
            last_problem = repr(error)
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(
                f"the server did not start ({last_problem}):\n{log_path.read_text()}"
            )
        # A process starting up gives nothing to wait on but the clock.
        time.sleep(0.1)


@contextmanager
def _serve(arguments: Sequence[str], port: int, env: Mapping[str, str], log_path: Path
           ) -> Iterator[Served]:  # fmt: skip
    """Run `python -m <arguments>` until the block ends, once it answers /healthz on `port`."""
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", *arguments], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, process, log_path)
            yield Served(url=url, port=port, log_path=log_path)
        finally:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def gunicorn(env: Mapping[str, str], log_path: Path, *, workers: int, threads: int = 1,
             app: str = "app:app", options: Sequence[str] = ()) -> Iterator[Served]:  # fmt: skip
    """Serve `app` (a WSGI module:name) with gunicorn's worker processes, as in production."""
    port = free_port()
    arguments = ["gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                 "--threads", str(threads), "--backlog", "512", "--timeout", "60", *options]  # fmt: skip
    with _serve(arguments, port, env, log_path) as served:
        yield served


@contextmanager
def flask_run(env: Mapping[str, str], log_path: Path) -> Iterator[Served]:
    """Serve the app with `flask run` (one process, threaded), as `make run` does."""
    port = free_port()
    arguments = ["flask", "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"]
    with _serve(arguments, port, env, log_path) as served:
        yield served


def request(port: int, method: str, path: str, *, cookies: SimpleCookie,
            form: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
            timeout: float = 60) -> tuple[int, str, str]:  # fmt: skip
    """One request to the server on `port` with a browser's `cookies`, which it updates from the
    answer (redirects are not followed). Returns the status, the Location header and the body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = {"Cookie": "; ".join(f"{key}={morsel.value}" for key, morsel in cookies.items())}
    sent.update(headers or {})
    body = None
    if form is not None:
        body = urlencode(form)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            cookies.load(cookie)
        return response.status, response.getheader("Location", ""), response.read().decode()
    finally:
        connection.close()
