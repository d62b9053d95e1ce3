"""visit notes and their addenda (issue 12): visit_note (a draft its author edits, then signed and
locked; the clinical text, visit time, diagnoses and orders as AES-GCM ciphertext) and
visit_addendum (corrections to a signed note, never edited)

Revision ID: 0009
Revises: 0008
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('visit_note',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('author_name', sa.Text(), nullable=False),
    sa.Column('visit_at', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('subjective', sa.Text(), nullable=True),
    sa.Column('objective', sa.Text(), nullable=True),
    sa.Column('assessment', sa.Text(), nullable=True),
    sa.Column('plan', sa.Text(), nullable=True),
    sa.Column('diagnoses', sa.Text(), nullable=False),
    sa.Column('orders', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('signed_by', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visit_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_note_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_note_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_note_status'), ['status'], unique=False)

    op.create_table('visit_addendum',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('note_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('author_name', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['visit_note.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visit_addendum', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_addendum_note_id'), ['note_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_addendum_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visit_addendum', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_addendum_patient_id'))
        batch_op.drop_index(batch_op.f('ix_visit_addendum_note_id'))

    op.drop_table('visit_addendum')
    with op.batch_alter_table('visit_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_note_status'))
        batch_op.drop_index(batch_op.f('ix_visit_note_patient_id'))
        batch_op.drop_index(batch_op.f('ix_visit_note_author_id'))

    op.drop_table('visit_note')
