"""`flask users ...`: create users, change their role, list them, deactivate them, prune sessions."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from eventmgr.accounts import passwords, service
from eventmgr.accounts.models import Role, User
from eventmgr.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")

ROLE_CHOICE = click.Choice([role.value for role in Role], case_sensitive=False)


def _checked_new_password(value: str) -> str:
    """click's value_proc: refuse a password of the wrong length so the prompt asks again."""
    problem = passwords.password_problem(value)
    if problem:
        raise click.BadParameter(problem)
    return value


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=ROLE_CHOICE,
    default=None,
    help="member (default for new users), organiser or admin. For an existing user: the new role.",
)
@click.option("--name", "display_name", help="Display name; defaults to the part before the @.")
@click.option("--organisation", default="", help="Organisation (optional).")
@click.option(
    "--password",
    default=None,
    help="New users only; for scripts. Without it the password is asked for, hidden, twice.",
)
def create_command(
    email: str, role: str | None, display_name: str | None, organisation: str,
    password: str | None,
) -> None:  # fmt: skip
    """Create a user, or change the role of the user who already has EMAIL."""
    existing = service.get_user_by_email(email)
    if existing is not None:
        _change_role(existing, role)
        return
    if password is None:
        password = click.prompt(
            "Password",
            hide_input=True,
            confirmation_prompt=True,
            value_proc=_checked_new_password,
        )
    try:
        user = service.create_user(
            email=email,
            display_name=display_name or email.split("@", 1)[0],
            organisation=organisation,
            password=password,
            role=role or Role.MEMBER,
        )
    except service.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} ({user.display_name}).")


def _change_role(user: User, role: str | None) -> None:
    """The `create` command's answer for an email that already has an account."""
    if role is None:
        click.echo(f"{user.email} already exists as {user.role}; nothing changed (pass --role).")
        return
    previous = user.role
    if previous == role:
        click.echo(f"{user.email} is already {role}; nothing changed.")
        return
    try:
        service.set_role(user, role)
    except service.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Changed {user.email} from {previous} to {role}.")


@users_cli.command("list")
@click.option("--role", type=ROLE_CHOICE, default=None, help="Only users with this role.")
def list_command(role: str | None) -> None:
    """List users: email, role, display name; oldest first."""
    query = select(User).order_by(User.created_at, User.id)
    if role:
        query = query.where(User.role == role)
    users = db.session.scalars(query).all()
    if not users:
        click.echo("No users.")
        return
    width = max(len(user.email) for user in users)
    for user in users:
        status = "" if user.active else "  (inactive)"
        click.echo(f"{user.email:<{width}}  {user.role:<9}  {user.display_name}{status}")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Stop the user with EMAIL logging in and sign them out on every device."""
    user = service.get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user has the address {email}.")
    try:
        service.deactivate_user(user)
    except service.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Deactivated {user.email}; they are signed out everywhere.")


@users_cli.command("prune-sessions")
def prune_sessions_command() -> None:
    """Delete device sessions past their idle or absolute lifetime (run it daily, e.g. from cron)."""
    pruned = service.prune_expired_sessions()
    db.session.commit()
    click.echo(f"Deleted {pruned} expired session{'' if pruned == 1 else 's'}.")
