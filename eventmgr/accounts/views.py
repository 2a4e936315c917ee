"""Account pages: sign up, log in and out, the member's own account, and the admin's user list."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME
from flask_wtf import FlaskForm

from eventmgr.accounts import service
from eventmgr.accounts.forms import LoginForm, PasswordForm, ProfileForm, RoleForm, SignupForm
from eventmgr.accounts.models import User
from eventmgr.extensions import db
from eventmgr.web.redirects import safe_next_url

bp = Blueprint("accounts", __name__, url_prefix="/account")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to log in, and answer 403 to anyone who is not an admin."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _next_url(target: str | None) -> str:
    """Where to go after a form: `target` if it stays on this site, else the home page."""
    return safe_next_url(target) or url_for("events.home")


def _start_session(user: User, *, remember: bool) -> None:
    """Log `user` in on a fresh session, keeping nothing from the old one (no session fixation)."""
    session.clear()
    login_user(user, remember=remember)


def _show_error(form: FlaskForm, error: service.AccountError) -> None:
    """Put the service's message beside the field it names, or flash it when it names none."""
    if error.field and error.field in form:
        form[error.field].errors.append(str(error))
    else:
        flash(str(error), "error")


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> ResponseReturnValue:
    """Create an account and log straight into it."""
    if current_user.is_authenticated:
        return redirect(_next_url(request.args.get("next")))
    form = SignupForm()
    if not form.is_submitted():
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        try:
            user = service.create_user(
                email=form.email.data,
                display_name=form.display_name.data,
                organisation=form.organisation.data,
                password=form.password.data,
            )
        except service.AccountError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            _start_session(user, remember=False)
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            return redirect(_next_url(form.next.data))
    return render_template("accounts/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Log in with email and password, then go back to the local `next` page if one was given."""
    if current_user.is_authenticated:
        return redirect(_next_url(request.args.get("next")))
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(service.LOGIN_FAILED_MESSAGE)
        else:
            db.session.commit()  # keeps a hash that authenticate() upgraded to the current cost
            _start_session(user, remember=form.remember.data)
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect(_next_url(form.next.data))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session; POST only (and CSRF-checked) so no other site can log anyone out."""
    # Clear first: logout_user() then marks a remember-me cookie for deletion in the new session.
    session.clear()
    logout_user()
    flash("You have logged out.", "info")
    return redirect(url_for("events.home"))


def _render_account(profile_form: ProfileForm, password_form: PasswordForm) -> str:
    return render_template(
        "accounts/account.html", profile_form=profile_form, password_form=password_form
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def account() -> ResponseReturnValue:
    """The member's own profile and notification settings (and the password form)."""
    user = current_user._get_current_object()
    profile_form = ProfileForm(obj=user, prefix="profile")
    if profile_form.validate_on_submit():
        try:
            service.update_profile(
                user,
                display_name=profile_form.display_name.data,
                organisation=profile_form.organisation.data,
                bio=profile_form.bio.data,
                notify_replies=profile_form.notify_replies.data,
                notify_event_updates=profile_form.notify_event_updates.data,
            )
        except service.AccountError as error:
            _show_error(profile_form, error)
        else:
            db.session.commit()
            flash("Your profile has been saved.", "success")
            return redirect(url_for("accounts.account"))
    return _render_account(profile_form, PasswordForm(formdata=None, prefix="password"))


@bp.post("/password")
@login_required
def change_password() -> ResponseReturnValue:
    """Change the password, signing out every other session while keeping this one."""
    user = current_user._get_current_object()
    password_form = PasswordForm(prefix="password")
    if password_form.validate_on_submit():
        try:
            service.change_password(
                user,
                current_password=password_form.current_password.data,
                new_password=password_form.new_password.data,
            )
        except service.AccountError as error:
            _show_error(password_form, error)
        else:
            db.session.commit()
            # The session token changed, so this session's id is stale: store the new one, and
            # reissue a remember-me cookie if this browser had one.
            cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
            login_user(user, remember=cookie_name in request.cookies)
            flash("Your password has been changed. Other devices have been logged out.", "success")
            return redirect(url_for("accounts.account"))
    profile_form = ProfileForm(formdata=None, obj=user, prefix="profile")
    return _render_account(profile_form, password_form)


def _role_form_prefix(user: User) -> str:
    """Each row's role form gets its own prefix, so field ids stay unique on the page."""
    return f"user-{user.id}"


@bp.get("/users")
@admin_required
def users() -> ResponseReturnValue:
    """Every user, newest first, each with a form to change their role (admins only)."""
    page = service.list_users(page=request.args.get("page", 1, type=int))
    role_forms = {
        user.id: RoleForm(formdata=None, prefix=_role_form_prefix(user), role=user.role)
        for user in page.items
    }
    return render_template("accounts/users.html", page=page, role_forms=role_forms)


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int) -> ResponseReturnValue:
    """Give a user another role; refuses to demote the last admin."""
    # Access is checked before loading (unlike the house order) so that non-admins cannot probe
    # which user ids exist: the check does not depend on the user.
    user = db.get_or_404(User, user_id)
    form = RoleForm(prefix=_role_form_prefix(user))
    if not form.validate_on_submit():
        flash("Choose one of the roles listed.", "error")
    else:
        try:
            service.set_role(user, form.role.data)
        except service.AccountError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            article = "an" if user.role[0] in "aeiou" else "a"
            flash(f"{user.display_name} ({user.email}) is now {article} {user.role}.", "success")
    if not current_user.is_admin:
        # An admin who just gave up the role can no longer see the user list.
        return redirect(url_for("accounts.account"))
    return redirect(url_for("accounts.users", page=request.args.get("page", type=int)))
