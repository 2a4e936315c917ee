"""Browser tests: the real app in a subprocess on a free loopback port, driven by Debian's Chromium.

The server uses its own database of the kind this run tests (an SQLite file, or a PostgreSQL database
named after TEST_DATABASE_URL's with `_e2e` appended), migrated with `flask db upgrade` as in production.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from eventmgr import create_app
from eventmgr.extensions import db
from tests.conftest import DEFAULT_PASSWORD, base_config, fresh_database_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_SCRIPT = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e carries the `e2e` marker (`pytest -m e2e` runs them alone)."""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """The running app: its address and its database (for arranging data directly)."""

    url: str
    database_url: str

    def app(self):
        """An app object on the server's database, for creating users and meetings in tests."""
        return create_app(base_config(self.database_url))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Migrate a fresh database and serve the app with `flask run` until the session ends."""
    tmp_path = tmp_path_factory.mktemp("e2e")
    database_url = fresh_database_url(tmp_path, "e2e")
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "SECRET_KEY": "e2e-secret-key-not-for-production",
        "DATABASE_URL": database_url,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "ARGON2_PARALLELISM": "1",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "FLASK_APP": "app",
        "PYTHONUNBUFFERED": "1",
    }
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [*flask, "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(
                    "the app did not start:\n" + (tmp_path / "server.log").read_text()
                ) from None
            time.sleep(0.1)
    yield LiveServer(url=url, database_url=database_url)
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium; never a browser downloaded by Playwright."""
    browser = playwright_instance.chromium.launch(
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
        ],
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) at desktop size."""
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def create_user(live_server: LiveServer) -> Callable[..., dict[str, Any]]:
    """Create an account directly in the server's database; returns its email and password."""
    from eventmgr.accounts import service

    counter = iter(range(1, 10_000))

    def build(role: str = "member", **fields: Any) -> dict[str, Any]:
        number = next(counter)
        stamp = f"{time.time_ns()}-{number}"
        details = {
            "email": f"e2e-{role}-{stamp}@example.org",
            "display_name": fields.pop("display_name", f"{role.title()} {number}"),
            "organisation": "NetIKX",
            "password": DEFAULT_PASSWORD,
            "role": role,
            **fields,
        }
        app = live_server.app()
        with app.app_context():
            service.create_user(**details)
            db.session.commit()
            db.engine.dispose()
        return details

    return build


def log_in(page: Page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto("/account/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def run_axe(page: Page) -> list[dict[str, Any]]:
    """Inject axe-core into the page and return its serious and critical violations."""
    # Evaluated through the DevTools protocol: the page's CSP forbids inline <script> tags.
    page.evaluate(AXE_SCRIPT.read_text())
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
