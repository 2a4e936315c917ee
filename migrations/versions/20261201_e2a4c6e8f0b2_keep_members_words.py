"""keep members' words: retired questions, no cascade deletes of comments or reports

Key questions gain retired_at: a question members discussed is retired (off the programme, its
discussion read-only) instead of deleted. The foreign keys that deleted comments along with their
question, meeting, write-up, thread or parent comment, and reports along with their comment or
reporter, no longer cascade: the owners' keys become RESTRICT, a comment's parent and root keys
the default NO ACTION, so the database refuses any delete that would take members' words with it.

Revision ID: e2a4c6e8f0b2
Revises: d5e7f9a1b3c4
Create Date: 2026-12-01 19:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a4c6e8f0b2'
down_revision = 'd5e7f9a1b3c4'
branch_labels = None
depends_on = None

#: (table, column, referred table, ondelete after this revision, ondelete before it)
KEYS = (
    ('threads', 'question_id', 'questions', 'RESTRICT', 'CASCADE'),
    ('threads', 'event_id', 'events', 'RESTRICT', 'CASCADE'),
    ('threads', 'writeup_id', 'writeups', 'RESTRICT', 'CASCADE'),
    ('comments', 'thread_id', 'threads', 'RESTRICT', 'CASCADE'),
    ('comments', 'parent_id', 'comments', None, 'CASCADE'),
    ('comments', 'root_id', 'comments', None, 'CASCADE'),
    ('comment_reports', 'comment_id', 'comments', 'RESTRICT', 'CASCADE'),
    ('comment_reports', 'reporter_id', 'users', 'RESTRICT', 'CASCADE'),
)


def _replace_keys(*, after: bool) -> None:
    """Drop each foreign key and create it again with the other ON DELETE rule."""
    for table in dict.fromkeys(key[0] for key in KEYS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for _table, column, referred, new, old in (key for key in KEYS if key[0] == table):
                name = op.f(f'fk_{table}_{column}_{referred}')
                batch_op.drop_constraint(name, type_='foreignkey')
                batch_op.create_foreign_key(
                    name, referred, [column], ['id'], ondelete=new if after else old
                )


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
    _replace_keys(after=True)


def downgrade():
    _replace_keys(after=False)
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('retired_at')
