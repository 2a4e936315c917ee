"""account security: email address confirmation

Revision ID: c4f6a8b0d2e3
Revises: b3e5f7a9c1d2
Create Date: 2026-11-27 11:12:40.644576

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4f6a8b0d2e3"
down_revision = "b3e5f7a9c1d2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Members who joined before confirmation existed keep posting: count them as confirmed
    # from when they joined, rather than locking them out of discussions overnight.
    op.execute("UPDATE users SET email_confirmed_at = created_at WHERE email_confirmed_at IS NULL")


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_confirmed_at")
