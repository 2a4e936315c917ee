"""Forms for signing up, logging in, the account page and the admin's user list."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, ValidationError

from eventmgr.accounts import passwords
from eventmgr.accounts.models import Role
from eventmgr.accounts.service import (
    BIO_MAX_LENGTH,
    DISPLAY_NAME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    ORGANISATION_MAX_LENGTH,
)
from eventmgr.web.forms import SingleLine

PASSWORD_HINT = (
    f"{passwords.MIN_PASSWORD_LENGTH} to {passwords.MAX_PASSWORD_LENGTH} characters. "
    "Spaces and any letters or symbols are fine; a few unrelated words make a good password."
)


def strip(value: str | None) -> str | None:
    """Trim surrounding whitespace from text input (never used on passwords)."""
    return value.strip() if isinstance(value, str) else value


class NewPasswordLength:
    """A new password's length rule, from passwords.password_problem.

    Unlike wtforms' Length it adds no `maxlength` attribute: a browser would silently cut a longer
    pasted password, and the person would never know what their password had become.
    """

    def __call__(self, form: FlaskForm, field: Field) -> None:
        problem = passwords.password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


def email_field(label: str = "Email address") -> EmailField:
    """An email input: required, trimmed, syntax-checked (no DNS lookups), at most 254 characters."""
    return EmailField(
        label,
        validators=[
            DataRequired("Enter your email address."),
            Length(max=EMAIL_MAX_LENGTH, message=f"Use at most {EMAIL_MAX_LENGTH} characters."),
            Email(
                "Enter a valid email address, like name@example.org.", check_deliverability=False
            ),
        ],
        filters=[strip],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "off"},
    )


def display_name_field() -> StringField:
    """The name shown beside someone's comments and registrations."""
    return StringField(
        "Display name",
        validators=[
            DataRequired("Enter your display name."),
            Length(
                max=DISPLAY_NAME_MAX_LENGTH,
                message=f"Use at most {DISPLAY_NAME_MAX_LENGTH} characters.",
            ),
            SingleLine(),
        ],
        filters=[strip],
        render_kw={"autocomplete": "name"},
    )


def organisation_field() -> StringField:
    """The optional organisation someone works for or belongs to."""
    return StringField(
        "Organisation",
        validators=[
            Length(
                max=ORGANISATION_MAX_LENGTH,
                message=f"Use at most {ORGANISATION_MAX_LENGTH} characters.",
            ),
            SingleLine(),
        ],
        filters=[strip],
        render_kw={"autocomplete": "organization"},
    )


def new_password_fields(label: str, name: str) -> tuple[PasswordField, PasswordField]:
    """A new password (to be the form's field `name`) and its confirmation, which must match it."""
    password = PasswordField(
        label,
        description=PASSWORD_HINT,
        validators=[InputRequired("Choose a password."), NewPasswordLength()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[
            InputRequired("Type the password again."),
            EqualTo(name, message="The two passwords do not match."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class SignupForm(FlaskForm):
    """A new member's details."""

    email = email_field()
    display_name = display_name_field()
    organisation = organisation_field()
    password, confirm_password = new_password_fields("Password", "password")
    next = HiddenField()


class LoginForm(FlaskForm):
    """Email and password; deliberately no length rules on the password beyond being present."""

    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address.")],
        filters=[strip],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "off"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password.")],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me logged in on this device")
    next = HiddenField()


class ProfileForm(FlaskForm):
    """What others see of a member, and which emails they get."""

    display_name = display_name_field()
    organisation = organisation_field()
    bio = TextAreaField(
        "About you",
        validators=[
            Length(max=BIO_MAX_LENGTH, message=f"Use at most {BIO_MAX_LENGTH:,} characters.")
        ],
        filters=[strip],
        render_kw={"rows": 5},
    )
    notify_replies = BooleanField("Email me when someone replies to my comments")
    notify_event_updates = BooleanField("Email me when a meeting I registered for changes")


class PasswordForm(FlaskForm):
    """Changing one's password: the current one, then the new one twice."""

    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password, confirm_password = new_password_fields("New password", "new_password")


class RoleForm(FlaskForm):
    """An admin's choice of role for one user."""

    role = SelectField(
        "Role",
        choices=[SelectChoice(role.value, role.value.capitalize()) for role in Role],
    )


class PasswordResetRequestForm(FlaskForm):
    """The address to send a password reset link to."""

    email = email_field()


class SignInLinkRequestForm(FlaskForm):
    """The address to send a one-time sign-in link to."""

    email = email_field()


class SignInLinkForm(FlaskForm):
    """The button that spends a sign-in link (a POST, so mail scanners opening it spend nothing)."""


class PasswordResetForm(FlaskForm):
    """A new password, chosen from a reset link."""

    password, confirm_password = new_password_fields("New password", "password")


class ResendConfirmationForm(FlaskForm):
    """The button that sends the email address confirmation link again (CSRF-protected POST)."""


class SignOutSessionForm(FlaskForm):
    """The buttons that sign one of the member's devices out, or all the others (CSRF-protected POST)."""
