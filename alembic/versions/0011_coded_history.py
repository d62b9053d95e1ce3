"""coded history (issue 12): the problem list, allergies, medications and family history gain the
coded fields — a condition's note; a family-history condition's ICD-10-CM code and age at onset; an
allergy's category, formulary drug and drug classes, criticality, status and verification; a
medication's formulary drug and classes, route, start and stop dates, prescriber, status, origin
(prescribed or patient-reported) and verification — and history_allergy_status records "no known
allergies" (one row per patient who said so; no row: not asked).

Older rows keep reading as they were: the new columns are empty or take their defaults (active,
verified — patient-reported where the patient wrote the row). Names and codes are AES-GCM
ciphertext (Text) like the rest of the history; closed vocabularies are plain.

Revision ID: 0011
Revises: 0010
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _word(length: int = 16):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table('history_allergy_status',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('patient_id')
    )
    with op.batch_alter_table('history_condition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))

    with op.batch_alter_table('history_family', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('code_system', _word(), nullable=True))
        batch_op.add_column(sa.Column('age_at_onset', sa.Text(), nullable=True))

    with op.batch_alter_table('history_allergy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', _word(), nullable=True))
        batch_op.add_column(sa.Column('code', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('drug_class', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('criticality', _word(), nullable=True))
        batch_op.add_column(sa.Column('status', _word(), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('verification', _word(), server_default='verified', nullable=False))

    with op.batch_alter_table('history_medication', schema=None) as batch_op:
        batch_op.add_column(sa.Column('drug', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('drug_class', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('route', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('start_date', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('stop_date', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('prescriber', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('status', _word(), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('origin', _word(), nullable=True))
        batch_op.add_column(sa.Column('verification', _word(), server_default='verified', nullable=False))

    # what a patient wrote themselves stays theirs until a clinician verifies it
    op.execute("UPDATE history_allergy SET verification = 'patient-reported' WHERE source = 'patient'")
    op.execute("UPDATE history_medication SET verification = 'patient-reported', origin = 'patient-reported' "
               "WHERE source = 'patient'")


def downgrade() -> None:
    with op.batch_alter_table('history_medication', schema=None) as batch_op:
        for name in ('verification', 'origin', 'status', 'prescriber', 'stop_date', 'start_date', 'route',
                     'drug_class', 'drug'):
            batch_op.drop_column(name)

    with op.batch_alter_table('history_allergy', schema=None) as batch_op:
        for name in ('verification', 'status', 'criticality', 'drug_class', 'code', 'category'):
            batch_op.drop_column(name)

    with op.batch_alter_table('history_family', schema=None) as batch_op:
        for name in ('age_at_onset', 'code_system', 'code'):
            batch_op.drop_column(name)

    with op.batch_alter_table('history_condition', schema=None) as batch_op:
        batch_op.drop_column('note')

    op.drop_table('history_allergy_status')
