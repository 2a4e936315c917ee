"""limits: one-time sign-in links, and reply emails gathered per member

users.sign_in_nonce is the random value every outstanding sign-in link of a user carries; using a
link clears it, so each link works once. outbox_messages.group_key names the email that gathers
several events for one recipient (the replies to a member's comments in one window), and
group_items lists what it holds (the replies' comment ids). All three are nullable: existing rows
need nothing.

Revision ID: e4c6e8a0b2d4
Revises: e2a4c6e8f0b2
Create Date: 2026-12-01 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4c6e8a0b2d4'
down_revision = 'e2a4c6e8f0b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sign_in_nonce', sa.String(length=32), nullable=True))

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('group_items', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_messages_group_key'), ['group_key'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_group_key'))
        batch_op.drop_column('group_items')
        batch_op.drop_column('group_key')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('sign_in_nonce')
