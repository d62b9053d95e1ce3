"""permissions and training (issue 17): permission_set (a named narrowing of one role: the
capability keys its holders get, read with every session check), user_account.permission_set_id
(None: the role's full permissions, so existing accounts keep what they had), training_document (a
policy or training text the chosen roles must acknowledge) and training_acknowledgement (one per
account and document). Two staff sets are created to start from: "Front desk" and "Billing".

Revision ID: 0027_permissions_training
Revises: 0026_reports_birth_year
"""
import uuid
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0027_permissions_training'
down_revision: Union[str, None] = '0026_reports_birth_year'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

STARTER_SETS = (
    ("Front desk", "Registration, appointments, documents, insurance, consents and emergencies; no billing.",
     ["registration", "scheduling", "documents", "insurance", "privacy", "emergency", "messages"]),
    ("Billing", "Insurance, charges, claims, payments and remittance; no registration or scheduling.",
     ["insurance", "billing", "messages"]),
)


def _timestamps():
    return [sa.Column('id', sa.Uuid(), nullable=False),
            sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)]


def upgrade() -> None:
    sets = op.create_table('permission_set',
    *_timestamps(),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('capabilities', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('permission_set_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_account_permission_set_id'), ['permission_set_id'], unique=False)

    op.create_table('training_document',
    *_timestamps(),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('published_by', sa.Uuid(), nullable=True),
    sa.Column('retired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('training_acknowledgement',
    *_timestamps(),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('acknowledged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'user_id')
    )
    with op.batch_alter_table('training_acknowledgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_acknowledgement_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_acknowledgement_user_id'), ['user_id'], unique=False)

    now = datetime.now(timezone.utc)
    op.bulk_insert(sets, [{"id": uuid.uuid4(), "created_at": now, "updated_at": now, "name": name, "role": "staff",
                           "description": text, "capabilities": keys, "version": 1}
                          for name, text, keys in STARTER_SETS])


def downgrade() -> None:
    with op.batch_alter_table('training_acknowledgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_acknowledgement_user_id'))
        batch_op.drop_index(batch_op.f('ix_training_acknowledgement_document_id'))
    op.drop_table('training_acknowledgement')
    op.drop_table('training_document')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_permission_set_id'))
        batch_op.drop_column('permission_set_id')
    op.drop_table('permission_set')
