"""jobs get a dedupe/cancel key (a rescheduled reminder replaces the waiting one)

Revision ID: 0006
Revises: 0005
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('job') as batch:
        batch.add_column(sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch.create_index(batch.f('ix_job_key'), ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job') as batch:
        batch.drop_index(batch.f('ix_job_key'))
        batch.drop_column('key')
