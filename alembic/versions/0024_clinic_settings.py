"""clinic_settings (issue 17): the clinic's own settings, kept in the database and edited on
/admin/settings — name, address, phone, logo, time zone, opening hours, session timeouts, the MFA
requirement and the closing words of every email. One row, none until an admin first saves; until
then the PORTAL_* environment variables give the values (core/clinic_config.py). No PHI.

Revision ID: 0024_clinic_settings
Revises: 0023_appointments_speed
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0024_clinic_settings'
down_revision: Union[str, None] = '0023_appointments_speed'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('clinic_settings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('clinic_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('clinic_address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('clinic_phone', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('business_hours', sa.JSON(), nullable=False),
    sa.Column('session_idle_minutes', sa.Integer(), nullable=False),
    sa.Column('session_absolute_hours', sa.Integer(), nullable=False),
    sa.Column('require_mfa', sa.Boolean(), nullable=False),
    sa.Column('email_signature', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('clinic_settings')
