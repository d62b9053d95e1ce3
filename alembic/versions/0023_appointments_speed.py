"""appointment: a patient's no-shows from an index of their own (issue 13's week-view bar).

A doctor's day and week views (and the pending list) show, for staff, whether each patient's
self-booking is paused: their no-shows counted against the clinic's threshold, in the view's one
statement, once per row (domain/appointments/service.py ``_listed``). ix_appointment_noshow_patient
is a partial index (patient_id) WHERE status = 'noshow': each count is a look-up among that
patient's no-shows alone, however long the clinic's history (ix_appointment_status would read every
no-show of the clinic and filter them by patient). It serves the booking rules' own count too.

Revision ID: 0023_appointments_speed
Revises: 0022_privacy
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0023_appointments_speed'
down_revision: Union[str, None] = '0022_privacy'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NOSHOW = "status = 'noshow'"


def upgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_noshow_patient', ['patient_id'], unique=False,
                              sqlite_where=sa.text(NOSHOW), postgresql_where=sa.text(NOSHOW))


def downgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_noshow_patient', sqlite_where=sa.text(NOSHOW),
                            postgresql_where=sa.text(NOSHOW))
