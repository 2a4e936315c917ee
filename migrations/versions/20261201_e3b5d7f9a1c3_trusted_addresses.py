"""trusted addresses: one stored form for email addresses; guests confirm theirs

Every users.email and comments.guest_email is rewritten in the one stored form
(eventmgr.web.addresses.normalise_email: NFC, lower-cased, the domain in IDNA A-labels). If two
accounts would end up with one address, the upgrade stops and names them, changing nothing: an
admin decides which account keeps the address (`flask users deactivate`, then change the other's
address by hand) rather than the migration merging or dropping anyone's account.

comments.guest_key holds each guest comment's mailbox key (eventmgr.web.addresses.mailbox_key),
which the flood limit and the approval history compare instead of the address as typed. The new
table guest_addresses records, per mailbox, the confirmation link sent and whether it was followed.
Guests approved before this revision have confirmed nothing, so their next comment waits for a
moderator and brings them a link.

Revision ID: e3b5d7f9a1c3
Revises: e4c6e8a0b2d4
Create Date: 2026-12-01 19:40:00

"""

import sqlalchemy as sa
from alembic import op

from eventmgr.web.addresses import mailbox_key, normalise_email

# revision identifiers, used by Alembic.
revision = "e3b5d7f9a1c3"
down_revision = "e4c6e8a0b2d4"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer()), sa.column("email", sa.String()))
comments = sa.table(
    "comments",
    sa.column("id", sa.Integer()),
    sa.column("guest_email", sa.String()),
    sa.column("guest_key", sa.String()),
)


def _normalise_users(connection) -> None:
    """Rewrite every users.email in the stored form; raise, changing nothing, on a collision."""
    rows = connection.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)).all()
    owners: dict[str, list[int]] = {}
    for user_id, email in rows:
        owners.setdefault(normalise_email(email), []).append(user_id)
    clashes = {email: ids for email, ids in owners.items() if len(ids) > 1}
    if clashes:
        listed = "; ".join(
            f"{email}: users {', '.join(map(str, ids))}" for email, ids in sorted(clashes.items())
        )
        raise RuntimeError(
            "Cannot store email addresses in one form: these accounts share a mailbox, and "
            f"merging them is a person's decision, not the migration's. {listed}. Give each "
            "account its own address (or delete the unwanted one), then upgrade again."
        )
    for user_id, email in rows:
        if normalise_email(email) != email:
            connection.execute(
                users.update().where(users.c.id == user_id).values(email=normalise_email(email))
            )


def upgrade():
    connection = op.get_bind()
    # First, before any schema change: SQLite's DDL is not transactional, so a refusal after it
    # would leave a half-upgraded database behind.
    _normalise_users(connection)
    op.create_table(
        "guest_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmation_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_addresses")),
        sa.UniqueConstraint("key", name=op.f("uq_guest_addresses_key")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guest_key", sa.String(length=254), nullable=True))
        batch_op.drop_index(batch_op.f("ix_comments_guest_email_created_at"))
        batch_op.create_index(
            batch_op.f("ix_comments_guest_key_created_at"), ["guest_key", "created_at"], unique=False
        )

    guests = connection.execute(
        sa.select(comments.c.id, comments.c.guest_email).where(comments.c.guest_email.is_not(None))
    ).all()
    for comment_id, email in guests:
        connection.execute(
            comments.update()
            .where(comments.c.id == comment_id)
            .values(guest_email=normalise_email(email), guest_key=mailbox_key(email))
        )


def downgrade():
    # Addresses stay in the stored form: it is one the earlier code reads as well (lower-case).
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_guest_key_created_at"))
        batch_op.create_index(
            batch_op.f("ix_comments_guest_email_created_at"),
            ["guest_email", "created_at"],
            unique=False,
        )
        batch_op.drop_column("guest_key")
    op.drop_table("guest_addresses")
