"""The keyboard alone is enough; focus is always visible; form errors are announced and tied to fields."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.conftest import DEFAULT_PASSWORD

#: More Tab presses than any page needs to reach its main content.
MAX_TABS = 25


def tab_until(page: Page, target: Locator) -> int:
    """Press Tab until `target` has focus; returns how many presses that took."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"{target} never received focus in {MAX_TABS} presses of Tab")


def outline_of(locator: Locator) -> dict[str, str]:
    """The focused element's computed outline."""
    return locator.evaluate(
        "element => { const style = getComputedStyle(element);"
        " return {style: style.outlineStyle, width: style.outlineWidth, colour: style.outlineColor}; }"
    )


def test_first_tab_focuses_the_skip_link_and_enter_moves_to_main(page: Page):
    page.goto("/")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    # The next Tab continues inside main, not back at the top of the page.
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


def test_log_in_with_the_keyboard_alone(page: Page, create_user):
    member = create_user(display_name="Keyboard Kate")
    page.goto("/")
    log_in_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")
    tab_until(page, log_in_link)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")

    tab_until(page, page.get_by_label("Email address"))
    page.keyboard.type(member["email"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(DEFAULT_PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Keep me logged in")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_label("Keep me logged in")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Log in")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Welcome back, Keyboard Kate")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_focus_is_visible_on_links_buttons_and_fields(page: Page):
    page.goto("/account/login")
    for target in (
        page.get_by_role("link", name="Skip to main content"),
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Meetings", exact=True
        ),
        page.get_by_label("Email address"),
        page.get_by_label("Keep me logged in"),
        page.get_by_role("button", name="Log in"),
        page.get_by_role("link", name="Create an account"),
    ):
        tab_until(page, target)
        outline = outline_of(target)
        assert outline["style"] == "solid", (target, outline)
        assert float(outline["width"].removesuffix("px")) >= 2, (target, outline)


def test_invalid_form_announces_its_errors_and_ties_them_to_fields(page: Page):
    page.goto("/account/signup")
    page.get_by_label("Email address").fill("not an email")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create account").click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Please correct the highlighted fields")

    email = page.get_by_label("Email address")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("Enter a valid email address"))
    expect(email).to_have_value("not an email")
    name = page.get_by_label("Display name")
    expect(name).to_have_accessible_description(re.compile("Enter your display name"))
    expect(page.get_by_label("Organisation")).to_have_attribute("aria-invalid", "false")

    # Each error in the summary links to its field.
    summary.get_by_role("link", name=re.compile("^Display name")).click()
    expect(name).to_be_focused()
    page.keyboard.type("Ada Lovelace")
    expect(name).to_have_value("Ada Lovelace")


def test_every_field_of_the_meeting_form_has_a_visible_label(page: Page, create_user):
    from tests.e2e.conftest import log_in

    log_in(page, create_user(role="organiser")["email"])
    page.goto("/events/new")
    fields = page.locator("main").locator(
        "input:not([type=hidden]):not([type=submit]), select, textarea"
    )
    expect(fields.first).to_be_visible()
    for index in range(fields.count()):
        field = fields.nth(index)
        label = page.locator(f"label[for='{field.get_attribute('id')}']")
        expect(label).to_be_visible()
        expect(label).not_to_have_text("")
