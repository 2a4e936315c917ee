"""The admins' user list at /account/users and its role forms."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import flashes, page


def role_data(user, role):
    return {f"user-{user.id}-role": role}


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/account/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


@pytest.mark.parametrize("role", ["member", "organiser"])
def test_non_admins_are_refused(make_user, login_as, client, role):
    login_as(make_user(role=role))
    assert client.get("/account/users").status_code == 403


@pytest.mark.parametrize("role", ["member", "organiser"])
def test_non_admins_cannot_change_roles(make_user, login_as, client, fetch_user, role):
    target = make_user(email="max@example.org")
    login_as(make_user(role=role))
    response = client.post(f"/account/users/{target.id}/role", data=role_data(target, "admin"))
    assert response.status_code == 403
    assert fetch_user("max@example.org").role == "member"


def test_admin_sees_every_user_with_a_role_form(make_user, login_as, client):
    admin = make_user(role="admin", email="root@example.org")
    member = make_user(email="max@example.org", display_name="Max", organisation="ISKO UK")
    login_as(admin)
    response = client.get("/account/users")
    assert response.status_code == 200
    html = page(response)
    assert [h1.get_text() for h1 in html.find_all("h1")] == ["Users"]
    rows = html.select("tbody tr")
    assert len(rows) == 2
    assert "max@example.org" in rows[0].get_text()  # newest first
    assert "ISKO UK" in rows[0].get_text()
    select = html.find(id=f"user-{member.id}-role")
    assert select.find("option", selected=True)["value"] == "member"
    assert html.find("label", attrs={"for": f"user-{member.id}-role"}) is not None


def test_admin_changes_a_role(make_user, login_as, client, fetch_user):
    admin = make_user(role="admin")
    member = make_user(email="max@example.org", display_name="Max")
    login_as(admin)
    response = client.post(
        f"/account/users/{member.id}/role?page=2", data=role_data(member, "organiser")
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/users?page=2"
    assert fetch_user("max@example.org").role == "organiser"
    assert "Max (max@example.org) is now an organiser." in flashes(client.get("/account/users"))


def test_last_admin_cannot_be_demoted(make_user, login_as, client, fetch_user):
    admin = make_user(role="admin", email="root@example.org")
    login_as(admin)
    response = client.post(f"/account/users/{admin.id}/role", data=role_data(admin, "member"))
    assert response.status_code == 302
    assert fetch_user("root@example.org").role == "admin"
    assert any("only admin" in message for message in flashes(client.get("/account/users")))


def test_admin_who_steps_down_goes_to_their_account_page(make_user, login_as, client, fetch_user):
    admin = make_user(role="admin", email="root@example.org")
    make_user(role="admin")
    login_as(admin)
    response = client.post(f"/account/users/{admin.id}/role", data=role_data(admin, "member"))
    assert response.headers["Location"] == "/account/"
    assert fetch_user("root@example.org").role == "member"
    assert client.get("/account/users").status_code == 403


def test_unknown_role_is_refused(make_user, login_as, client, fetch_user):
    admin = make_user(role="admin")
    member = make_user(email="max@example.org")
    login_as(admin)
    client.post(f"/account/users/{member.id}/role", data=role_data(member, "owner"))
    assert fetch_user("max@example.org").role == "member"
    assert "Choose one of the roles listed." in flashes(client.get("/account/users"))


def test_unknown_user_is_404(make_user, login_as, client):
    login_as(make_user(role="admin"))
    response = client.post("/account/users/999999/role", data={"user-999999-role": "admin"})
    assert response.status_code == 404


def test_list_is_paginated(make_user, login_as, client):
    admin = make_user(role="admin")
    for _ in range(29):
        make_user()
    login_as(admin)
    first = page(client.get("/account/users"))
    second = page(client.get("/account/users?page=2"))
    assert len(first.select("tbody tr")) == 25
    assert len(second.select("tbody tr")) == 5
    assert first.select_one(".pagination a[rel=next]")["href"] == "/account/users?page=2"


def queries_for_user_list(count_queries, client) -> int:
    """How many SQL statements one request for the user list runs."""
    with count_queries() as statements:
        response = client.get("/account/users")
    assert response.status_code == 200
    return len(statements)


def test_query_count_does_not_grow_with_users(count_queries, make_user, login_as, client):
    login_as(make_user(role="admin"))
    for _ in range(2):
        make_user()
    with_three = queries_for_user_list(count_queries, client)
    for _ in range(27):
        make_user()
    with_thirty = queries_for_user_list(count_queries, client)
    assert len(page(client.get("/account/users")).select("tbody tr")) == 25
    assert with_three == with_thirty
    assert with_three <= 3  # the current user, the count, the page of users
