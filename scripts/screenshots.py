"""Screenshots of the main pages at phone and desktop sizes, for docs/screenshots/ (`make screenshots`).

The app runs as the browser tests run it (tests/served.py): `flask run` on a free loopback port,
here on a throwaway SQLite database holding the demo data from `flask demo load`. Organiser pages are
taken logged in as the demo organiser. Needs only the Python packages from requirements-dev.txt and
Debian's Chromium.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from eventmgr.demo import DEMO_ACCOUNTS  # noqa: E402
from tests.e2e.harness import DESKTOP, PHONE, launch_chromium  # noqa: E402
from tests.served import flask_command, flask_run, server_environment  # noqa: E402

MEETING = "/events/2015-09-23-connecting-knowledge-communities"
#: (file name, path, tall?) for visitors who are not logged in. A tall shot runs on below the screen
#: (up to two screens' height) to show more of a long page.
PUBLIC_PAGES = [
    ("home", "/", False),
    ("meetings", "/events/", False),
    ("past-meetings", "/events/past", False),
    ("meeting", MEETING, True),
    ("login", "/account/login", False),
    ("signup", "/account/signup", False),
]
#: Pages taken logged in as the demo organiser.
ORGANISER_PAGES = [
    ("account", "/account/", False),
    ("new-meeting", "/events/new", False),
    ("speakers", f"{MEETING}/speakers", False),
    ("questions", f"{MEETING}/questions", False),
]
SIZES = {"phone": PHONE, "desktop": DESKTOP}
#: Extra shots in the dark colour scheme: (file name, path, size).
DARK_PAGES = [("meeting-phone-dark", MEETING, "phone"), ("home-desktop-dark", "/", "desktop")]


def log_in_as_organiser(page: Page) -> None:
    """Log in through the form with the demo organiser's account."""
    organiser = next(spec for spec in DEMO_ACCOUNTS if spec["role"] == "organiser")
    page.goto("/account/login")
    page.get_by_label("Email address").fill(organiser["email"])
    page.get_by_label("Password", exact=True).fill(organiser["password"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def screenshot(page: Page, path: str, target: Path, *, tall: bool) -> Path:
    """Open `path` and save what the screen shows (or up to two screens of a tall page)."""
    response = page.goto(path)
    if response is None or response.status != 200:
        raise RuntimeError(f"{path} answered {response and response.status}")
    viewport = page.viewport_size or DESKTOP
    options: dict = {"animations": "disabled", "caret": "hide"}
    if tall:
        height = min(page.evaluate("document.documentElement.scrollHeight"), 2 * viewport["height"])
        options.update(
            full_page=True, clip={"x": 0, "y": 0, "width": viewport["width"], "height": height}
        )
    page.screenshot(path=target, **options)
    return target


def capture(browser: Browser, url: str, output: Path) -> list[Path]:
    """Take every page at every size; returns the files written."""
    written = []
    for size_name, viewport in SIZES.items():
        for pages, organiser in ((PUBLIC_PAGES, False), (ORGANISER_PAGES, True)):
            context = browser.new_context(
                base_url=url, viewport=viewport, locale="en-GB", color_scheme="light"
            )
            page = context.new_page()
            if organiser:
                log_in_as_organiser(page)
            for name, path, tall in pages:
                written.append(
                    screenshot(page, path, output / f"{name}-{size_name}.png", tall=tall)
                )
            context.close()
    for name, path, size_name in DARK_PAGES:
        context = browser.new_context(
            base_url=url, viewport=SIZES[size_name], locale="en-GB", color_scheme="dark"
        )
        written.append(screenshot(context.new_page(), path, output / f"{name}.png", tall=False))
        context.close()
    return written


def main() -> None:
    """Serve the demo data, take the screenshots, stop the server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    arguments = parser.parse_args()
    arguments.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="eventmgr-screenshots-") as directory:
        workspace = Path(directory)
        env = server_environment(
            f"sqlite:///{workspace / 'demo.sqlite3'}",
            workspace / "instance",
            BASE_URL="https://events.example.org",
        )
        flask_command(env, "db", "upgrade")
        flask_command(env, "demo", "load")
        with flask_run(env, workspace / "server.log") as served, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                written = capture(browser, served.url, arguments.output)
            finally:
                browser.close()
    for path in written:
        print(f"{path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
