"""Sessions per device in Chromium: a member signed in on a laptop and a phone sees both on the
account page, signs the phone out from the laptop, and the phone is then logged out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, describe_violations, log_in, run_axe

LAPTOP_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_member_signs_out_their_phone_from_the_laptop(new_context, create_user):
    member = create_user()
    laptop = new_context(user_agent=LAPTOP_AGENT).new_page()
    phone = new_context(user_agent=PHONE_AGENT, viewport=PHONE).new_page()
    log_in(laptop, member["email"])
    log_in(phone, member["email"])

    laptop.goto("/account/")
    sessions = laptop.get_by_role("region", name="Where you’re signed in")
    devices = sessions.get_by_role("listitem")
    expect(devices).to_have_count(2)
    this_device = devices.filter(has_text="This device")
    expect(this_device).to_contain_text("Firefox on Linux")
    expect(this_device.get_by_role("button")).to_have_count(0)
    expect(devices.filter(has_text="Safari on iOS")).to_contain_text("last active")
    for scheme in ("light", "dark"):
        laptop.emulate_media(color_scheme=scheme)
        violations = run_axe(laptop)
        assert not violations, f"{scheme}:\n{describe_violations(violations)}"

    sessions.get_by_role(
        "button", name=re.compile(r"^Sign out the session on Safari on iOS")
    ).click()
    expect(laptop.get_by_role("status")).to_contain_text("Signed out the session on Safari on iOS.")
    expect(laptop).to_have_url(re.compile(r"/account/$"))
    remaining = laptop.get_by_role("region", name="Where you’re signed in").get_by_role("listitem")
    expect(remaining).to_have_count(1)
    expect(remaining).to_contain_text("This device")

    phone.goto("/account/")
    expect(phone).to_have_url(re.compile(r"/account/login"))
    expect(phone.get_by_role("button", name="Log in")).to_be_visible()
    # The laptop is still signed in.
    laptop.reload()
    expect(laptop.get_by_role("heading", level=1)).to_have_text("Your account")
