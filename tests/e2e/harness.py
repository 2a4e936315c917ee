"""Debian's Chromium for the browser tests (tests/e2e/conftest.py) and `make screenshots`
(scripts/screenshots.py); both serve the app with `tests.served.flask_run`, so they see it exactly as
it is served: migrated with `flask db upgrade`, behind its real CSP.
"""

from __future__ import annotations

import os

from playwright.sync_api import Browser, Playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


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
