"""Forms of the mail domain."""

from __future__ import annotations

from flask_wtf import FlaskForm


class UnsubscribeForm(FlaskForm):
    """No fields: the confirmation page's button, protected by a CSRF token."""
