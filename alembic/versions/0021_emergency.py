"""emergency information and procedures (issue 15 part A): emergency_info (per patient: code status,
advance directives, special instructions — AES-GCM ciphertext), emergency_protocol (the clinic's
checklists, plain), emergency_run (a protocol started for a patient; at most one active per patient,
a partial unique index) with emergency_run_step (its checklist, ticked with times) and
emergency_notice (each emergency contact notified or skipped, unique per run and contact: sent,
opened, acknowledged); emergency_contact gains `notify` (the patient's choice: "no" means never
message this contact).

Schema only: `portal db upgrade` adds the starter protocols afterwards (domain/emergency/protocols.py),
so a migration never imports the app.

Revision ID: 0021_emergency
Revises: 0020_smart
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0021_emergency'
down_revision: Union[str, None] = '0020_smart'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('emergency_protocol',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('notify_contacts', sa.Boolean(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('emergency_info',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('code_status', sa.Text(), nullable=True),
    sa.Column('code_status_by', sa.Uuid(), nullable=True),
    sa.Column('code_status_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('directives', sa.Text(), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('patient_id')
    )
    op.create_table('emergency_run',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('protocol_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('started_by', sa.Uuid(), nullable=False),
    sa.Column('started_by_name', sa.Text(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_by', sa.Uuid(), nullable=True),
    sa.Column('closed_by_name', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('notify_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['protocol_id'], ['emergency_protocol.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('emergency_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_run_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ux_emergency_run_active', ['patient_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('emergency_notice',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('outside_hours', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('skipped', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['emergency_run.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'contact_id', name='ux_emergency_notice_once')
    )
    with op.batch_alter_table('emergency_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_notice_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_notice_run_id'), ['run_id'], unique=False)

    op.create_table('emergency_run_step',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('who', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('done_by', sa.Uuid(), nullable=True),
    sa.Column('done_by_name', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['emergency_run.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('emergency_run_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_run_step_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_run_step_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('emergency_contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('emergency_contact', schema=None) as batch_op:
        batch_op.drop_column('notify')

    with op.batch_alter_table('emergency_run_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_run_step_run_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_run_step_patient_id'))

    op.drop_table('emergency_run_step')
    with op.batch_alter_table('emergency_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_notice_run_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_notice_patient_id'))

    op.drop_table('emergency_notice')
    with op.batch_alter_table('emergency_run', schema=None) as batch_op:
        batch_op.drop_index('ux_emergency_run_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_emergency_run_patient_id'))

    op.drop_table('emergency_run')
    op.drop_table('emergency_info')
    op.drop_table('emergency_protocol')
