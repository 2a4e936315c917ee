"""Placeholder until the events views land."""

from flask import Blueprint

bp = Blueprint("events", __name__)


@bp.route("/")
def home():
    return "home"


@bp.route("/events/")
def upcoming():
    return "upcoming"


@bp.route("/events/past")
def past():
    return "past"


@bp.route("/events/new")
def create():
    return "new"
