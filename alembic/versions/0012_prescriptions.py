"""prescriptions (issue 12): prescription (a signed prescription from the formulary: drug, the order
as signed, the check's findings and the override reason — all AES-GCM ciphertext (Text) — status,
dates, the prescription it renewed, its medication-list entry, and the SHA-256 of its verification
code, unique), prescription_renewal (a patient's request and the doctor's answer) and
prescriber_profile (a doctor's licence number, printed on prescriptions).

Revision ID: 0012_prescriptions
Revises: 0011
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0012_prescriptions'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _base():
    return [sa.Column('id', sa.Uuid(), nullable=False),
            sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)]


def upgrade() -> None:
    op.create_table('prescription', *_base(),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('prescriber_id', sa.Uuid(), nullable=False),
    sa.Column('prescriber_name', sa.Text(), nullable=False),
    sa.Column('drug', sa.Text(), nullable=False),
    sa.Column('drug_name', sa.Text(), nullable=False),
    sa.Column('drug_class', sa.Text(), nullable=True),
    sa.Column('rxnorm', sa.Text(), nullable=True),
    sa.Column('sig', sa.Text(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('stop_reason', sa.Text(), nullable=True),
    sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_by', sa.Uuid(), nullable=True),
    sa.Column('renews_id', sa.Uuid(), nullable=True),
    sa.Column('medication_id', sa.Uuid(), nullable=True),
    sa.Column('verify_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('verify_code', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('prescription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescription_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prescription_prescriber_id'), ['prescriber_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prescription_renews_id'), ['renews_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prescription_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_prescription_verify_hash'), ['verify_hash'], unique=True)

    op.create_table('prescription_renewal', *_base(),
    sa.Column('prescription_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('new_prescription_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescription.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('prescription_renewal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescription_renewal_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prescription_renewal_prescription_id'), ['prescription_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prescription_renewal_status'), ['status'], unique=False)

    op.create_table('prescriber_profile', *_base(),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('licence_number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id')
    )
    with op.batch_alter_table('prescriber_profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescriber_profile_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('prescriber_profile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescriber_profile_user_id'))
    op.drop_table('prescriber_profile')
    with op.batch_alter_table('prescription_renewal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescription_renewal_status'))
        batch_op.drop_index(batch_op.f('ix_prescription_renewal_prescription_id'))
        batch_op.drop_index(batch_op.f('ix_prescription_renewal_patient_id'))
    op.drop_table('prescription_renewal')
    with op.batch_alter_table('prescription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescription_verify_hash'))
        batch_op.drop_index(batch_op.f('ix_prescription_status'))
        batch_op.drop_index(batch_op.f('ix_prescription_renews_id'))
        batch_op.drop_index(batch_op.f('ix_prescription_prescriber_id'))
        batch_op.drop_index(batch_op.f('ix_prescription_patient_id'))
    op.drop_table('prescription')
