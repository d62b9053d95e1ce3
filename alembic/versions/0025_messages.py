"""secure messages (issue 18): message_thread (a patient's conversation with a doctor of their care
team, the front desk or billing; since when the patient waits for an answer), message (written once;
the read receipt), message_attachment (a document of the patient's record sent with a message) and
message_delegate (a doctor away names a colleague). Subjects, texts, authors' names and file names as
AES-GCM ciphertext. ix_message_thread_pool (status, box, waiting_since) serves the triage pool.

Revision ID: 0025_messages
Revises: 0024_clinic_settings
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0025_messages'
down_revision: Union[str, None] = '0024_clinic_settings'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _stamps() -> list[sa.Column]:
    return [sa.Column('id', sa.Uuid(), nullable=False),
            sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)]


def upgrade() -> None:
    op.create_table('message_thread', *_stamps(),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('box', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('doctor_id', sa.Uuid(), nullable=True),
    sa.Column('started_by', sa.Uuid(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('last_message_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('waiting_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('routed_by', sa.Uuid(), nullable=True),
    sa.Column('routed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('message_thread', schema=None) as batch_op:
        batch_op.create_index('ix_message_thread_pool', ['status', 'box', 'waiting_since'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_thread_doctor_id'), ['doctor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_thread_patient_id'), ['patient_id'], unique=False)

    op.create_table('message', *_stamps(),
    sa.Column('thread_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('author_role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('author_name', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('read_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['message_thread.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_thread_id'), ['thread_id'], unique=False)

    op.create_table('message_attachment', *_stamps(),
    sa.Column('message_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('message_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_attachment_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_attachment_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_attachment_patient_id'), ['patient_id'], unique=False)

    op.create_table('message_delegate', *_stamps(),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('delegate_id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('message_delegate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_delegate_delegate_id'), ['delegate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_delegate_user_id'), ['user_id'], unique=True)


def downgrade() -> None:
    op.drop_table('message_delegate')
    op.drop_table('message_attachment')
    op.drop_table('message')
    op.drop_table('message_thread')
