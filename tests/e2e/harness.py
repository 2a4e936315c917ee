"""Running the real app for a browser: `flask run` on a free loopback port, and Debian's Chromium.

Shared by the browser tests (tests/e2e/conftest.py) and `make screenshots` (scripts/screenshots.py),
so both see the app exactly as it is served: migrated with `flask db upgrade`, behind its real CSP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Playwright

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
#: How long the server may take to answer /healthz before the run gives up.
STARTUP_SECONDS = 30


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str, instance_path: Path, **extra: str) -> dict[str, str]:
    """Environment for `flask` subprocesses: testing mode, cheap hashing, this database."""
    return {
        **os.environ,
        "APP_ENV": "testing",
        "SECRET_KEY": "e2e-secret-key-not-for-production",
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


def wait_until_healthy(url: str, server: subprocess.Popen, log_path: Path) -> None:
    """Return once `url`/healthz answers 200; raises RuntimeError with the log if it never does."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("the app did not start:\n" + log_path.read_text()) from None
            # Polling a process that is starting up: there is nothing to wait on but the clock.
            time.sleep(0.1)


@contextmanager
def serve(env: Mapping[str, str], log_path: Path) -> Iterator[str]:
    """Serve the app with `flask run` on a free port for the block; yields its base URL."""
    port = free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port),
             "--no-reload"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, server, log_path)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian Chromium; never a browser downloaded by Playwright."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--font-render-hinting=none",
        ],
    )
