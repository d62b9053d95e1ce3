"""identity link review: links to records with clinical data wait for a second person

Revision ID: 0004
Revises: 0003
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('identity_link_proposal',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('pending_patient_id', sa.Uuid(), nullable=False),
    sa.Column('target_patient_id', sa.Uuid(), nullable=False),
    sa.Column('proposed_by', sa.Uuid(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['pending_patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('identity_link_proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_link_proposal_pending_patient_id'), ['pending_patient_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_identity_link_proposal_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_link_proposal_target_patient_id'), ['target_patient_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('identity_link_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_link_proposal_target_patient_id'))
        batch_op.drop_index(batch_op.f('ix_identity_link_proposal_status'))
        batch_op.drop_index(batch_op.f('ix_identity_link_proposal_pending_patient_id'))

    op.drop_table('identity_link_proposal')
