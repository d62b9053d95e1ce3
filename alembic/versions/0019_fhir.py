"""fhir_export: Bulk Data $export requests and their encrypted NDJSON files (issue 16 part A).

Revision ID: 0019_fhir
Revises: 0018_observation_timeline
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0019_fhir'
down_revision: Union[str, None] = '0018_observation_timeline'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('fhir_export',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('types', sa.Text(), nullable=False),
    sa.Column('request_url', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('progress', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('files', sa.Text(), nullable=True),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fhir_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fhir_export_requested_by'), ['requested_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_fhir_export_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fhir_export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fhir_export_status'))
        batch_op.drop_index(batch_op.f('ix_fhir_export_requested_by'))

    op.drop_table('fhir_export')
