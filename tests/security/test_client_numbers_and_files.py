"""Numbers and files a client controls: ids past the database's integer range in every `<int:...>`
route, impossible ?page= values on every paginated page, non-ASCII digits in hidden id fields, and
file parts sent in place of text fields. Each is a 404 or a 400 with a clear message, never a 500,
and a refused request saves nothing.
"""

from __future__ import annotations

import io

import pytest
from flask import request

from eventmgr.web import security
from eventmgr.web.numbers import MAX_ID, IdConverter, parse_id
from tests.security.conftest import login_clients, table_rows
from tests.security.routes import PLACEHOLDER, fill, routes

#: Past PostgreSQL's `integer` (2**31), past a 64-bit integer (SQLite), Arabic-Indic digits, zero.
IMPOSSIBLE_IDS = ["2147483648", "9223372036854775808", "١٢٣", "0", "99999999999999999999999"]


def int_routes(app) -> list[tuple[str, frozenset[str]]]:
    """Every rule with an `<int:...>` variable."""
    return [(rule, methods) for rule, methods in routes(app) if "<int:" in rule]


def with_id(rule: str, params: dict, value: str) -> str:
    """`rule` filled from the world, with every `<int:...>` variable set to `value`."""
    ints = {
        match["name"]: value for match in PLACEHOLDER.finditer(rule) if match["converter"] == "int"
    }
    return fill(rule, {**params, **ints})


def test_the_app_has_int_routes_to_check(app):
    # Guards the parametrised tests below against silently checking nothing.
    assert len(int_routes(app)) >= 20


@pytest.mark.parametrize("value", IMPOSSIBLE_IDS)
def test_an_impossible_id_in_any_int_route_is_404(app, make_world, value):
    world = make_world()
    clients = login_clients(app, world)
    before = rows_now(app)
    for rule, methods in int_routes(app):
        url = with_id(rule, world.params, value)
        for actor in ("anonymous", "admin"):
            for method in sorted(methods):
                response = clients[actor].open(url, method=method, data={"body": "x"})
                assert response.status_code == 404, f"{actor} {method} {url}"
    assert rows_now(app) == before


def test_the_largest_id_is_routed_and_simply_not_found(app, make_world):
    world = make_world()
    client = login_clients(app, world)["admin"]
    assert client.get(f"/comments/{MAX_ID}").status_code == 404
    assert client.get(f"/comments/{world.params['comment_id']}").status_code in (200, 302)


def test_urls_built_for_ids_are_plain_digits(app):
    with app.test_request_context():
        converter = IdConverter(app.url_map)
        assert converter.to_url(42) == "42"
        assert converter.to_python("0042") == 42


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (" 12 ", 12), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ("0", None),
     ("١٢٣", None), ("１２", None), ("1_000", None), ("-3", None), ("", None), (None, None),
     ("12a", None), ("²", None)],
)  # fmt: skip
def test_parse_id_takes_ascii_digits_in_range_only(value, expected):
    assert parse_id(value) == expected


PAGINATED = ["/events/", "/events/past", "/writeups/", "/moderation/", "/account/users"]


def paginated_pages(world) -> list[str]:
    """Every page that reads ?page=, as the admin sees it."""
    p = world.params
    thread = f"/events/{p['slug']}/questions/{p['question_id']}"
    return [*PAGINATED, thread, f"/writeups/{p['writeup_slug']}"]


#: Past PostgreSQL's integer and bigint, past MAX_PAGE, zero and negative.
IMPOSSIBLE_PAGES = ["2147483648", "9223372036854775808", "99999999999999999999", "0", "-1",
                    "10001", "-9223372036854775809"]  # fmt: skip


def test_an_impossible_page_is_404_and_a_non_number_the_first_page(app, make_world):
    world = make_world()
    client = login_clients(app, world)["admin"]
    for path in paginated_pages(world):
        for page in IMPOSSIBLE_PAGES:
            response = client.get(path, query_string={"page": page})
            assert response.status_code == 404, f"{path}?page={page}"
        for page in ("abc", "١٢", "1.5", " "):
            response = client.get(path, query_string={"page": page})
            assert response.status_code == 200, f"{path}?page={page!r}"


def test_an_impossible_page_after_a_role_change_returns_to_the_list(app, make_world):
    world = make_world()
    client = login_clients(app, world)["admin"]
    response = client.post(f"/account/users/{world.params['user_id']}/role?page=99999999999999999999",
                           data={f"user-{world.params['user_id']}-role": "member"})  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/users"


@pytest.mark.parametrize("digits", ["١", "۱", "१", "１"])
def test_a_parent_id_in_other_scripts_digits_is_refused(app, make_world, digits):
    world = make_world()
    p = world.params
    client = login_clients(app, world)["attendee"]
    thread = f"/events/{p['slug']}/questions/{p['question_id']}"
    parent = str(p["comment_id"]).translate(str.maketrans("0123456789", digits_of(digits)))
    before = rows_now(app)
    response = client.post(thread, data={"body": "A reply in disguise", "parent": parent})
    assert response.status_code == 400
    assert rows_now(app) == before


def digits_of(one: str) -> str:
    """The ten digits of the script whose digit one is `one`."""
    zero = chr(ord(one) - 1)
    return "".join(chr(ord(zero) + number) for number in range(10))


@pytest.mark.parametrize("value", ["2147483648", "9223372036854775808"])
def test_a_parent_id_past_the_integer_range_is_refused(app, make_world, value):
    world = make_world()
    p = world.params
    client = login_clients(app, world)["attendee"]
    before = rows_now(app)
    for url in (f"/events/{p['slug']}/questions/{p['question_id']}",
                f"/writeups/{p['writeup_slug']}"):  # fmt: skip
        response = client.post(url, data={"body": "A reply to nowhere", "parent": value})
        assert response.status_code == 400, url
    assert rows_now(app) == before


def rows_now(app) -> dict[str, list[tuple]]:
    """Each table's sorted rows, read in a fresh app context."""
    with app.app_context():
        return table_rows()


def test_a_file_in_place_of_any_text_field_is_a_clear_400(app, make_world):
    world = make_world()
    p = world.params
    clients = login_clients(app, world)
    posts = {
        "attendee": [(f"/events/{p['slug']}/questions/{p['question_id']}", ["body", "parent"]),
                     (f"/comments/{p['comment_id']}/edit", ["body"]),
                     ("/account/", ["profile-display_name", "profile-bio"])],
        "organiser": [(f"/events/{p['slug']}/speakers", ["name", "bio"]),
                      ("/writeups/new", ["title", "body"])],
        "anonymous": [("/account/login", ["email", "password"]),
                      (f"/writeups/{p['writeup_slug']}", ["name", "email", "body"])],
    }  # fmt: skip
    before = rows_now(app)
    for actor, forms in posts.items():
        for url, fields in forms:
            for field in fields:
                data = {"body": "text", field: (io.BytesIO(b"GIF89a\x00\xff"), "x.gif")}
                response = clients[actor].post(url, data=data, content_type="multipart/form-data")
                assert response.status_code == 400, f"{actor} {url} {field}"
                assert "does not take files" in response.get_data(as_text=True)
    assert rows_now(app) == before


def test_multipart_text_fields_still_work(app, make_world):
    world = make_world()
    p = world.params
    client = login_clients(app, world)["attendee"]
    response = client.post(f"/events/{p['slug']}/questions/{p['question_id']}",
                           data={"body": "Sent as multipart"}, content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302


def test_a_view_marked_as_taking_files_gets_them(make_app):
    app = make_app()

    @app.post("/_test/upload")
    @security.accepts_files
    def upload():
        return "received " + ",".join(request.files)

    response = app.test_client().post(
        "/_test/upload", data={"file": (io.BytesIO(b"x"), "x.txt")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.get_data(as_text=True) == "received file"
