"""observation: the patient's sets newest first from the index alone (issue 12's timeline bar).

ix_observation_patient_time (patient_id, effective_at) becomes ix_observation_patient_time_set
(patient_id, effective_at, set_id): a timeline page's newest sets and their count are then an
index-only walk backwards (the page stops after 25 sets; the count reads the patient's index
entries, no table rows), and every read the old index served is served by the new one.

Revision ID: 0018_observation_timeline
Revises: 0017_immunization_details
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0018_observation_timeline'
down_revision: Union[str, None] = '0017_immunization_details'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_patient_time_set', ['patient_id', 'effective_at', 'set_id'], unique=False)
        batch_op.drop_index('ix_observation_patient_time')


def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_patient_time', ['patient_id', 'effective_at'], unique=False)
        batch_op.drop_index('ix_observation_patient_time_set')
