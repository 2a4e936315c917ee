"""One place that imports every domain's models, so metadata (and Alembic) sees every table."""

from __future__ import annotations


def import_all_models() -> None:
    """Import each domain's models module; their classes register on the shared metadata."""
    import eventmgr.accounts.models
    import eventmgr.discussions.models
    import eventmgr.events.models
    import eventmgr.mail.models
    import eventmgr.registrations.models
    import eventmgr.writeups.models  # noqa: F401
