"""privacy (issue 15 part B): the facts the policy point reads — emergency_grant (break-the-glass:
who, which patient, until when, why — the free text and the reviewer's note as AES-GCM ciphertext —
and the admin's review) and consent_record (append-only, per purpose, with the version and words agreed
to, how and by whom) — plus sensitive_record (a condition, document or visit note marked sensitive:
its category, author and assigned clinicians), disclosure (the accounting of disclosures outside
treatment, payment and operations; recipient, what and why as ciphertext) and amendment_request
(the patient's request, the doctor's answer and the statement of disagreement as ciphertext; status
and the 60-day due date plain, for the worklist).

(Numbered 0019 beside part A's emergency-procedures migration; it revises 0017 and is re-pointed at
merge.)

Revision ID: 0022_privacy
Revises: 0021_emergency
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0022_privacy'
down_revision: Union[str, None] = '0021_emergency'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('amendment_request',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('record_part', sa.Text(), nullable=False),
    sa.Column('requested_change', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_by_name', sa.Text(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('disagreement', sa.Text(), nullable=True),
    sa.Column('disagreement_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('amendment_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amendment_request_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_amendment_request_status'), ['status'], unique=False)

    op.create_table('consent_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('text_version', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('document_id', sa.Uuid(), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index('ix_consent_record_lookup', ['patient_id', 'purpose', 'created_at'], unique=False)

    op.create_table('disclosure',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('disclosed_on', sa.Date(), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('recipient', sa.Text(), nullable=False),
    sa.Column('recipient_address', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_disclosed_on'), ['disclosed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_patient_id'), ['patient_id'], unique=False)

    op.create_table('emergency_grant',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason_text', sa.Text(), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_by', sa.Uuid(), nullable=True),
    sa.Column('review_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('emergency_grant', schema=None) as batch_op:
        batch_op.create_index('ix_emergency_grant_lookup', ['user_id', 'patient_id', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_grant_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_grant_review_status'), ['review_status'], unique=False)

    op.create_table('sensitive_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('record_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('assigned', sa.JSON(), nullable=False),
    sa.Column('marked_by', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('record_type', 'record_id')
    )
    with op.batch_alter_table('sensitive_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sensitive_record_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sensitive_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sensitive_record_patient_id'))

    op.drop_table('sensitive_record')
    with op.batch_alter_table('emergency_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_grant_review_status'))
        batch_op.drop_index(batch_op.f('ix_emergency_grant_patient_id'))
        batch_op.drop_index('ix_emergency_grant_lookup')

    op.drop_table('emergency_grant')
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_patient_id'))
        batch_op.drop_index(batch_op.f('ix_disclosure_disclosed_on'))

    op.drop_table('disclosure')
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_record_lookup')

    op.drop_table('consent_record')
    with op.batch_alter_table('amendment_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amendment_request_status'))
        batch_op.drop_index(batch_op.f('ix_amendment_request_patient_id'))

    op.drop_table('amendment_request')
