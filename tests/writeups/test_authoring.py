"""Organisers draft, preview, publish, unpublish and edit write-ups; drafts stay private."""

from __future__ import annotations

from tests.discussions.helpers import field_error, flashes, soup, text, textarea

FORM = {
    "title": "Connecting knowledge communities",
    "slug": "ckc-report",
    "body": "# Who came\n\nMany **networks**.",
}


def test_draft_is_saved_and_visible_to_organisers_only(
    client, organiser, member, login_as, writeup_row
):
    login_as(organiser)
    response = client.post("/writeups/new", data={**FORM, "action": "save"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/writeups/ckc-report")
    row = writeup_row("ckc-report")
    assert row["status"] == "draft" and row["published_at"] is None
    assert row["body_html"].startswith("<h3>Who came</h3>")
    page = client.get("/writeups/ckc-report")
    assert page.status_code == 200 and "Draft." in text(page)
    assert "ckc-report" in client.get("/writeups/").get_data(as_text=True)

    login_as(member)
    assert client.get("/writeups/ckc-report").status_code == 404
    assert "ckc-report" not in client.get("/writeups/").get_data(as_text=True)
    client.post("/account/logout")
    assert client.get("/writeups/ckc-report").status_code == 404


def test_preview_shows_the_rendered_html_above_the_form_and_saves_nothing(
    client, organiser, login_as, counts
):
    login_as(organiser)
    response = client.post("/writeups/new", data={**FORM, "action": "preview"})
    assert response.status_code == 200
    page = soup(response)
    preview = page.select_one(".writeup-preview")
    assert preview.find("h3", string="Who came") is not None
    assert preview.find("strong", string="networks") is not None
    # The preview comes before the form, which keeps what was typed.
    assert preview.find_next("form") is not None
    assert textarea(response) == FORM["body"]
    assert counts()["writeups"] == 0


def test_publish_unpublish_and_edit_show_updated(client, organiser, login_as, writeup_row):
    login_as(organiser)
    client.post("/writeups/new", data={**FORM, "action": "save"})
    assert client.post("/writeups/ckc-report/publish").status_code == 302
    row = writeup_row("ckc-report")
    assert row["status"] == "published" and row["published_at"] is not None
    assert row["edited_at"] is None
    first_published = row["published_at"]

    response = client.post(
        "/writeups/ckc-report/edit", data={**FORM, "body": "Changed.", "action": "save"}
    )
    assert response.status_code == 302
    row = writeup_row("ckc-report")
    assert row["edited_at"] is not None and row["body"] == "Changed."
    page = soup(client.get("/writeups/ckc-report"))
    assert "updated" in page.select_one(".writeup__updated").get_text()

    client.post("/writeups/ckc-report/unpublish")
    assert writeup_row("ckc-report")["status"] == "draft"
    client.post("/account/logout")
    assert client.get("/writeups/ckc-report").status_code == 404
    login_as(organiser)
    client.post("/writeups/ckc-report/publish")
    assert writeup_row("ckc-report")["published_at"] == first_published


def test_members_cannot_write_or_publish(client, member, login_as, make_writeup, writeup_row):
    draft = make_writeup(status="draft")
    assert client.get("/writeups/new").status_code == 302
    login_as(member)
    assert client.get("/writeups/new").status_code == 403
    assert client.post("/writeups/new", data={**FORM, "action": "save"}).status_code == 403
    assert client.post(f"{draft['url']}/publish").status_code == 403
    assert writeup_row(draft["slug"])["status"] == "draft"


def test_bad_input_is_refused_with_a_clear_error_and_nothing_saved(
    client, organiser, login_as, make_writeup, counts
):
    make_writeup(slug="taken")
    login_as(organiser)
    before = counts()
    cases = [
        ({"slug": "taken"}, "slug", "already uses this address"),
        ({"title": ""}, "title", "title"),
        ({"title": "x" * 201}, "title", "200"),
        ({"body": "   "}, "body", "Write the report"),
        ({"slug": "Not A Slug!"}, "slug", "lower-case"),
    ]
    for change, field, message in cases:
        response = client.post("/writeups/new", data={**FORM, **change, "action": "publish"})
        assert response.status_code == 400, change
        assert message in field_error(response, field), (change, field_error(response, field))
    assert counts() == before


def test_a_meeting_has_one_write_up(client, organiser, login_as, meeting, counts):
    login_as(organiser)
    client.post(f"/writeups/new?event={meeting.slug}", data={**FORM, "action": "save"})
    assert counts()["writeups"] == 1
    response = client.get(f"/writeups/new?event={meeting.slug}")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/writeups/ckc-report/edit"
    )
    assert any(
        "already has a write-up" in flash
        for flash in flashes(client.get("/writeups/ckc-report/edit"))
    )
