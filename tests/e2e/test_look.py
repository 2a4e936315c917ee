"""How pages look: nothing from other sites, nothing wider than a phone, a meeting page on paper."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE

PAGES = ["/", "/events/", "/events/past", "/account/login", "/account/signup", "/no/such/page"]


@pytest.fixture(scope="module")
def meeting(create_event):
    """A published meeting with an online link as well as a venue."""
    return create_event(online_url="https://stream.example.org/cafe")


def test_pages_load_nothing_from_other_sites_and_fit_a_phone(new_context, live_server, meeting):
    page = new_context(viewport=PHONE).new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for path in [*PAGES, meeting["url"]]:
        page.goto(path)
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{path} is {wide}px wider than the phone"
    origin = urlsplit(live_server.url).netloc
    assert requested and {urlsplit(url).netloc for url in requested} == {origin}
    assert any(url.endswith("/static/site.css") for url in requested)


def test_a_meeting_page_prints_as_a_programme(new_context, meeting):
    page = new_context(color_scheme="dark").new_page()
    page.goto(meeting["url"])
    chrome = [page.get_by_role("banner"), page.get_by_role("contentinfo")]
    for element in chrome:
        expect(element.first).to_be_visible()
    page.emulate_media(media="print")
    for element in chrome:
        expect(element.first).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Programme")).to_be_visible()
    expect(page.get_by_role("region", name="Key questions")).to_be_visible()
    # Black on white, even for a reader whose screen is dark.
    colours = page.evaluate(
        "[getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor]"
    )
    assert colours == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]
    online = page.get_by_role("link", name="Join online")
    after = online.evaluate("link => getComputedStyle(link, '::after').content")
    assert "https://stream.example.org/cafe" in after
