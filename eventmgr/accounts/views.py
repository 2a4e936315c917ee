"""Placeholder until the accounts views land."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account")


@bp.route("/signup")
def signup():
    return "signup"


@bp.route("/login")
def login():
    return "login"


@bp.post("/logout")
def logout():
    return "logout"


@bp.route("/")
def account():
    return "account"


@bp.route("/users")
def users():
    return "users"
