"""code tables: code_set (what was loaded, from where), code_concept (ICD-10-CM, CVX, LOINC vital
signs, the formulary) and code_token (the word index searches range over)

Schema only: the rows are loaded by `portal codes load` (which `make run`/`make migrate` call after
`portal db upgrade`, and the demo seed for the small sets), so a migration never imports the
ICD-10-CM package or holds a lock for seconds, and a new code release needs no migration.

Revision ID: 0008
Revises: 0007
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('code_concept',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('code_set', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('system', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('code_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('display', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('selectable', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_set', 'code')
    )
    with op.batch_alter_table('code_concept', schema=None) as batch_op:
        batch_op.create_index('ix_code_concept_set_code_key', ['code_set', 'code_key'], unique=False)
        batch_op.create_index('ix_code_concept_set_rank', ['code_set', 'rank'], unique=False)

    op.create_table('code_set',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('system', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('concepts', sa.Integer(), nullable=False),
    sa.Column('loaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('code_token',
    sa.Column('code_set', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('concept_id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('code_set', 'token', 'rank')
    )


def downgrade() -> None:
    op.drop_table('code_token')
    op.drop_table('code_set')
    with op.batch_alter_table('code_concept', schema=None) as batch_op:
        batch_op.drop_index('ix_code_concept_set_rank')
        batch_op.drop_index('ix_code_concept_set_code_key')

    op.drop_table('code_concept')
