"""patient.birth_year: the plain year of birth behind the admins' "patients by age band" report.

Date of birth is PHI and encrypted (AES-GCM, row-bound), so an age band cannot be counted in SQL
from it; decrypting every record for a report is what the reports area must not do. The year alone
is what HIPAA's Safe Harbor lets a data set keep (the report folds ages over 89 into "90 and over"),
so it is stored plain beside the blind indexes and set with them (domain/patients/indexes.apply).

The backfill decrypts each existing record's date of birth once, in batches, with the instance's
key ring (as `portal migrate` runs with it); a fresh database has nothing to backfill.

Revision ID: 0026_reports_birth_year
Revises: 0025_messages
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0026_reports_birth_year'
down_revision: Union[str, None] = '0025_messages'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 1000


def _backfill() -> None:
    from patient_portal.core.crypto import decrypt_value

    bind = op.get_bind()
    patient = sa.table('patient', sa.column('id', sa.Uuid()), sa.column('date_of_birth', sa.Text()),
                       sa.column('birth_year', sa.Integer()))
    after = None
    while True:
        stmt = sa.select(patient.c.id, patient.c.date_of_birth).where(patient.c.birth_year.is_(None))
        if after is not None:
            stmt = stmt.where(patient.c.id > after)
        rows = bind.execute(stmt.order_by(patient.c.id).limit(BATCH)).all()
        if not rows:
            return
        for row_id, token in rows:
            born = decrypt_value("date", token, "patient", "date_of_birth", row_id) if token else None
            if born is not None:
                bind.execute(patient.update().where(patient.c.id == row_id).values(birth_year=born.year))
        after = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_patient_birth_year'), ['birth_year'], unique=False)
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_birth_year'))
        batch_op.drop_column('birth_year')
