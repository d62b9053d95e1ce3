"""email_wording (issue 17): clinic_settings.email_wording keeps the admin's rewording of the
notification emails, {template key: {"subject": …, "text": …}} (core.mail_wording); no PHI.

Revision ID: 0030_email_wording
Revises: 0029_push_subscriptions
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0030_email_wording'
down_revision: Union[str, None] = '0029_push_subscriptions'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('clinic_settings') as batch:
        batch.add_column(sa.Column('email_wording', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('clinic_settings') as batch:
        batch.drop_column('email_wording')
