"""immunization details (issue 12): a vaccine given gains what its printable record shows — the dose
number in its series, the lot, the site and route, and who gave it. The dose number, the lot and who
gave it are AES-GCM ciphertext (Text) like the rest of the history; site and route are closed
vocabularies, plain. Older rows read as before: the new columns are empty.

(Numbered 0016 beside the care-plans (0014) and appointments (0015) branches; it revises 0013 and
is re-pointed at merge.)

Revision ID: 0017_immunization_details
Revises: 0016_billing
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0017_immunization_details'
down_revision: Union[str, None] = '0016_billing'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('history_immunization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dose_number', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('lot', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('route', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('given_by', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('history_immunization', schema=None) as batch_op:
        for name in ('given_by', 'route', 'site', 'lot', 'dose_number'):
            batch_op.drop_column(name)
