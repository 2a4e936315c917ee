"""`flask users create` and `flask users list`."""

from __future__ import annotations

from eventmgr.accounts import passwords

PASSWORD = "a long enough password"


def test_create_with_options(runner, fetch_user, app):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Root@Example.org",
            "--role",
            "admin",
            "--name",
            "Root",
            "--organisation",
            "NetIKX",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin root@example.org (Root)." in result.output
    user = fetch_user("root@example.org")
    assert (user.role, user.display_name, user.organisation) == ("admin", "Root", "NetIKX")
    assert user.password_hash.startswith("$argon2id$")
    with app.app_context():
        assert passwords.verify_password(user.password_hash, PASSWORD)


def test_create_prompts_for_password_twice_without_echo(runner, fetch_user):
    result = runner.invoke(args=["users", "create", "ann@example.org"], input=f"{PASSWORD}\n" * 2)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Repeat for confirmation" in result.output
    user = fetch_user("ann@example.org")
    assert (user.role, user.display_name) == ("member", "ann")


def test_create_asks_again_for_a_too_short_password(runner, fetch_user):
    result = runner.invoke(
        args=["users", "create", "ann@example.org"], input=f"short\n{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "at least 12 characters" in result.output
    assert fetch_user("ann@example.org") is not None


def test_create_refuses_invalid_values(runner, fetch_user):
    result = runner.invoke(args=["users", "create", "not-an-email", "--password", PASSWORD])
    assert result.exit_code == 1
    assert "valid email address" in result.output
    result = runner.invoke(args=["users", "create", "ann@example.org", "--password", "short"])
    assert result.exit_code == 1
    assert fetch_user("ann@example.org") is None


def test_create_promotes_an_existing_user(runner, make_user, fetch_user):
    make_user(email="ann@example.org")
    result = runner.invoke(args=["users", "create", "ANN@example.org", "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert "Changed ann@example.org from member to admin." in result.output
    assert fetch_user("ann@example.org").role == "admin"


def test_create_without_role_leaves_existing_user_alone(runner, make_user, fetch_user):
    make_user(email="ann@example.org", role="organiser")
    result = runner.invoke(args=["users", "create", "ann@example.org"])
    assert result.exit_code == 0
    assert "already exists as organiser; nothing changed" in result.output
    assert fetch_user("ann@example.org").role == "organiser"


def test_create_refuses_to_demote_the_last_admin(runner, make_user, fetch_user):
    make_user(email="root@example.org", role="admin")
    result = runner.invoke(args=["users", "create", "root@example.org", "--role", "member"])
    assert result.exit_code == 1
    assert "only admin" in result.output
    assert fetch_user("root@example.org").role == "admin"


def test_list_shows_users_and_filters_by_role(runner, make_user):
    make_user(email="ann@example.org", role="admin")
    make_user(email="max@example.org")
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["ann@example.org", "admin"]
    assert lines[1].split()[:2] == ["max@example.org", "member"]
    only_admins = runner.invoke(args=["users", "list", "--role", "admin"]).output
    assert "max@example.org" not in only_admins


def test_list_with_no_users(runner):
    assert runner.invoke(args=["users", "list"]).output == "No users.\n"
