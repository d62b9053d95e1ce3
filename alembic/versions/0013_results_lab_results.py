"""lab results (issue 12): result_panel (one report: specimen date, status to_review | reviewed |
released | held, who reviewed and decided, the link to its report document) and lab_result (one
LOINC-coded result: value, unit, reference range, abnormal flag; a correction supersedes the result it
corrects, both kept). Values, ranges, flags, names, the lab, the comment as AES-GCM ciphertext.
The laboratory LOINC table is data (code set "loinc_lab"), loaded by `portal codes load` / the seed.

Revision ID: 0013_results
Revises: 0012_prescriptions
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0013_results'
down_revision: Union[str, None] = '0012_prescriptions'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('result_panel',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('specimen_date', sa.Date(), nullable=False),
    sa.Column('performing_lab', sa.Text(), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('entered_by', sa.Uuid(), nullable=True),
    sa.Column('entered_by_name', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('reviewed_by_name', sa.Text(), nullable=True),
    sa.Column('reviewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_by_name', sa.Text(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('result_panel', schema=None) as batch_op:
        batch_op.create_index('ix_result_panel_patient_date', ['patient_id', 'specimen_date'], unique=False)
        batch_op.create_index('ix_result_panel_status', ['status', 'patient_id'], unique=False)

    op.create_table('lab_result',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('panel_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('loinc', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('numeric', sa.Boolean(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('ref_low', sa.Text(), nullable=True),
    sa.Column('ref_high', sa.Text(), nullable=True),
    sa.Column('ref_text', sa.Text(), nullable=True),
    sa.Column('flag', sa.Text(), nullable=False),
    sa.Column('flag_given', sa.Boolean(), nullable=False),
    sa.Column('corrects_id', sa.Uuid(), nullable=True),
    sa.Column('superseded_by', sa.Uuid(), nullable=True),
    sa.Column('superseded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('correction_reason', sa.Text(), nullable=True),
    sa.Column('entered_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['panel_id'], ['result_panel.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lab_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lab_result_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index('ix_lab_result_patient_code', ['patient_id', 'loinc'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lab_result', schema=None) as batch_op:
        batch_op.drop_index('ix_lab_result_patient_code')
        batch_op.drop_index(batch_op.f('ix_lab_result_panel_id'))

    op.drop_table('lab_result')
    with op.batch_alter_table('result_panel', schema=None) as batch_op:
        batch_op.drop_index('ix_result_panel_status')
        batch_op.drop_index('ix_result_panel_patient_date')

    op.drop_table('result_panel')
