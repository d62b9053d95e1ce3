"""patient_merge (issue 17): an admin merges a duplicate patient record into the one kept and can
undo it exactly. The duplicate stays, marked (patient.merged_into_id, patient.merged_at); the merge
record keeps the rows moved and the raw values of rows set aside, so unmerge restores both records.

Revision ID: 0028_patient_merge
Revises: 0027_permissions_training
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0028_patient_merge'
down_revision: Union[str, None] = '0027_permissions_training'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('patient_merge',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('surviving_id', sa.Uuid(), nullable=False),
    sa.Column('merged_id', sa.Uuid(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('merged_by', sa.Uuid(), nullable=False),
    sa.Column('merged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('previous_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.Column('kept', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('unmerged_by', sa.Uuid(), nullable=True),
    sa.Column('unmerged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patient_merge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_merge_merged_id'), ['merged_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_merge_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_merge_surviving_id'), ['surviving_id'], unique=False)
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('merged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_patient_merged_into_id'), ['merged_into_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_merged_into_id'))
        batch_op.drop_column('merged_at')
        batch_op.drop_column('merged_into_id')
    with op.batch_alter_table('patient_merge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_merge_surviving_id'))
        batch_op.drop_index(batch_op.f('ix_patient_merge_status'))
        batch_op.drop_index(batch_op.f('ix_patient_merge_merged_id'))
    op.drop_table('patient_merge')
