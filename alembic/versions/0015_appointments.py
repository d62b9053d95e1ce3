"""appointments (issue 13): visit_type, availability_rule and availability_exception (each doctor's
weekly blocks, vacations, clinic closures, extra sessions), scheduling_rules (one row), appointment
(UTC times, FHIR status, the reason for the visit as AES-GCM ciphertext; no double booking: a unique
partial index on (doctor, start) over the rows that hold their time, and on PostgreSQL an exclusion
constraint over (doctor, tstzrange(start, blocked_until)) with btree_gist), waitlist_entry,
appointment_notice (what staff are told), appointment_link (hashed one-time reminder links) and
appointment_reminder_sent (a reminder decided once per appointment time).

Revision ID: 0015_appointments
Revises: 0014_care_plans
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision: str = '0015_appointments'
down_revision: Union[str, None] = '0014_care_plans'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('appointment_link',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('appointment_id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appointment_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_link_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_link_token_hash'), ['token_hash'], unique=True)

    op.create_table('appointment_notice',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('appointment_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appointment_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_notice_appointment_id'), ['appointment_id'], unique=False)

    op.create_table('appointment_reminder_sent',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('appointment_id', sa.Uuid(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('start_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appointment_reminder_sent', schema=None) as batch_op:
        batch_op.create_index('ux_reminder_once', ['appointment_id', 'hours', 'start_at'], unique=True)

    op.create_table('scheduling_rules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('min_notice_hours', sa.Integer(), nullable=False),
    sa.Column('max_days_ahead', sa.Integer(), nullable=False),
    sa.Column('max_future_bookings', sa.Integer(), nullable=False),
    sa.Column('cancellation_window_hours', sa.Integer(), nullable=False),
    sa.Column('no_show_threshold', sa.Integer(), nullable=False),
    sa.Column('reminder_hours', sa.JSON(), nullable=False),
    sa.Column('require_approval', sa.Boolean(), nullable=False),
    sa.Column('waitlist_hold_minutes', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('visit_type',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('who_may_book', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('self_bookable', sa.Boolean(), nullable=False),
    sa.Column('new_patient', sa.Boolean(), nullable=False),
    sa.Column('telehealth', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visit_type', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_type_code'), ['code'], unique=True)

    op.create_table('appointment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('doctor_id', sa.Uuid(), nullable=False),
    sa.Column('visit_type_id', sa.Uuid(), nullable=False),
    sa.Column('start_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('blocked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('booked_by', sa.Uuid(), nullable=True),
    sa.Column('via_portal', sa.Boolean(), nullable=False),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('cancelled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancelled_by', sa.Uuid(), nullable=True),
    sa.Column('late_cancel', sa.Boolean(), nullable=False),
    sa.Column('checked_in_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('hold_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['visit_type_id'], ['visit_type.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_doctor_start_active', ['doctor_id', 'start_at'], unique=True, sqlite_where=sa.text("status NOT IN ('cancelled', 'entered-in-error')"), postgresql_where=sa.text("status NOT IN ('cancelled', 'entered-in-error')"))
        batch_op.create_index('ix_appointment_patient_start', ['patient_id', 'start_at'], unique=False)
        batch_op.create_index('ix_appointment_start', ['start_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_status'), ['status'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        op.execute("ALTER TABLE appointment ADD CONSTRAINT ex_appointment_no_overlap EXCLUDE USING gist "
                   "(doctor_id WITH =, tstzrange(start_at, blocked_until) WITH &&) "
                   "WHERE (status NOT IN ('cancelled', 'entered-in-error'))")

    op.create_table('availability_exception',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('doctor_id', sa.Uuid(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('start_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('end_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('visit_type_id', sa.Uuid(), nullable=True),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.ForeignKeyConstraint(['visit_type_id'], ['visit_type.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('availability_exception', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_exception_doctor_id'), ['doctor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_availability_exception_start_date'), ['start_date'], unique=False)

    op.create_table('availability_rule',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('doctor_id', sa.Uuid(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('end_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('visit_type_id', sa.Uuid(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['visit_type_id'], ['visit_type.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_rule_doctor_id'), ['doctor_id'], unique=False)

    op.create_table('waitlist_entry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('visit_type_id', sa.Uuid(), nullable=False),
    sa.Column('doctor_id', sa.Uuid(), nullable=True),
    sa.Column('before', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('appointment_id', sa.Uuid(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('offered_appointment_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['visit_type_id'], ['visit_type.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entry_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entry_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waitlist_entry_status'))
        batch_op.drop_index(batch_op.f('ix_waitlist_entry_patient_id'))

    op.drop_table('waitlist_entry')
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_rule_doctor_id'))

    op.drop_table('availability_rule')
    with op.batch_alter_table('availability_exception', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_exception_start_date'))
        batch_op.drop_index(batch_op.f('ix_availability_exception_doctor_id'))

    op.drop_table('availability_exception')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_status'))
        batch_op.drop_index('ix_appointment_start')
        batch_op.drop_index('ix_appointment_patient_start')
        batch_op.drop_index('ix_appointment_doctor_start_active', sqlite_where=sa.text("status NOT IN ('cancelled', 'entered-in-error')"), postgresql_where=sa.text("status NOT IN ('cancelled', 'entered-in-error')"))

    op.drop_table('appointment')
    with op.batch_alter_table('visit_type', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_type_code'))

    op.drop_table('visit_type')
    op.drop_table('scheduling_rules')
    with op.batch_alter_table('appointment_reminder_sent', schema=None) as batch_op:
        batch_op.drop_index('ux_reminder_once')

    op.drop_table('appointment_reminder_sent')
    with op.batch_alter_table('appointment_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_notice_appointment_id'))

    op.drop_table('appointment_notice')
    with op.batch_alter_table('appointment_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_link_token_hash'))
        batch_op.drop_index(batch_op.f('ix_appointment_link_appointment_id'))

    op.drop_table('appointment_link')
