"""Form pieces every domain uses: input filters and the field-less form behind POST buttons."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm


def clean_line(value: Any) -> Any:
    """Trim a single-line input and drop NUL characters, which PostgreSQL cannot store."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def clean_text(value: Any) -> Any:
    """Drop NUL characters and trailing blank space from multi-line input; keep leading indents
    (Markdown needs them)."""
    return value.replace("\x00", "").rstrip() if isinstance(value, str) else value


class EmptyForm(FlaskForm):
    """No fields: gives POST-only buttons (publish, register, hide, unsubscribe…) CSRF protection."""
