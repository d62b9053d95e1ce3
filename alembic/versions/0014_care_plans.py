"""care plans (issue 12): care_plan (a patient's plan, optionally for a problem-list entry; status
active | completed | cancelled), care_plan_goal (a measure — a vital's key — with a target and a due
date, or a goal in words; in_progress | achieved | not_achieved), care_plan_activity (an instruction,
or a task the patient ticks off) and care_plan_note (a doctor's progress update on a goal). Titles,
problems, goal words, targets, due dates, activity texts, notes and authors' names as AES-GCM
ciphertext; plans, goals and activities carry the version a save is checked against.

Revision ID: 0014_care_plans
Revises: 0013_results
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0014_care_plans'
down_revision: Union[str, None] = '0013_results'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('care_plan',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('author_name', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('condition_id', sa.Uuid(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_by', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('care_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plan_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_plan_status'), ['status'], unique=False)

    op.create_table('care_plan_activity',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('done_by', sa.Uuid(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['care_plan.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('care_plan_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plan_activity_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_plan_activity_plan_id'), ['plan_id'], unique=False)

    op.create_table('care_plan_goal',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('measure', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('due', sa.Text(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['care_plan.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('care_plan_goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plan_goal_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_plan_goal_plan_id'), ['plan_id'], unique=False)

    op.create_table('care_plan_note',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('goal_id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('author_name', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['care_plan_goal.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['care_plan.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('care_plan_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plan_note_goal_id'), ['goal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_plan_note_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('care_plan_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plan_note_patient_id'))
        batch_op.drop_index(batch_op.f('ix_care_plan_note_goal_id'))

    op.drop_table('care_plan_note')
    with op.batch_alter_table('care_plan_goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plan_goal_plan_id'))
        batch_op.drop_index(batch_op.f('ix_care_plan_goal_patient_id'))

    op.drop_table('care_plan_goal')
    with op.batch_alter_table('care_plan_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plan_activity_plan_id'))
        batch_op.drop_index(batch_op.f('ix_care_plan_activity_patient_id'))

    op.drop_table('care_plan_activity')
    with op.batch_alter_table('care_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plan_status'))
        batch_op.drop_index(batch_op.f('ix_care_plan_patient_id'))

    op.drop_table('care_plan')
