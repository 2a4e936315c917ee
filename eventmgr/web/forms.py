"""Form pieces every domain uses: input filters and the field-less form behind POST buttons."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from eventmgr.web.text import SINGLE_LINE_MESSAGE, refused_character


def clean_line(value: Any) -> Any:
    """Trim a single-line input and drop NUL characters, which PostgreSQL cannot store."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def clean_text(value: Any) -> Any:
    """Drop NUL characters and trailing blank space from multi-line input; keep leading indents
    (Markdown needs them)."""
    return value.replace("\x00", "").rstrip() if isinstance(value, str) else value


class SingleLine:
    """Validator for every single-line field (names, titles, venue, subjects…): refuses line breaks
    and control or format characters, with a message beside the field (see eventmgr.web.text,
    whose rule the domain services apply too). Multi-line fields (bodies, bios) do not use it."""

    def __init__(self, message: str = SINGLE_LINE_MESSAGE) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, str) and refused_character(field.data) is not None:
            raise ValidationError(self.message)


class EmptyForm(FlaskForm):
    """No fields: gives POST-only buttons (publish, register, hide, unsubscribe…) CSRF protection."""
