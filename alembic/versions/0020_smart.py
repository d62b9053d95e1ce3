"""SMART App Launch (issue 16 part B): registered apps, one-time authorization codes, access and
refresh tokens, what a person allowed an app, and used client-assertion ids. Secrets, codes and
tokens are stored as SHA-256 hex only. And single sign-on's links of portal accounts to a person
at the outside OpenID Connect provider (issuer + subject).


Revision ID: 0020_smart
Revises: 0019_fhir
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0020_smart'
down_revision: Union[str, None] = '0019_fhir'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('sso_link',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('linked_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuer', 'subject')
    )
    with op.batch_alter_table('sso_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_link_user_id'), ['user_id'], unique=False)

    op.create_table('smart_app',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('jwks', sa.JSON(), nullable=True),
    sa.Column('jwks_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('smart_app', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_smart_app_client_id'), ['client_id'], unique=True)

    op.create_table('smart_assertion_jti',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('jti', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'jti')
    )
    with op.batch_alter_table('smart_assertion_jti', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_smart_assertion_jti_expires_at'), ['expires_at'], unique=False)

    op.create_table('smart_auth_code',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=True),
    sa.Column('authorization_id', sa.Uuid(), nullable=False),
    sa.Column('redirect_uri', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('code_challenge', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('code_challenge_method', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('smart_auth_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_smart_auth_code_code_hash'), ['code_hash'], unique=True)

    op.create_table('smart_authorization',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=True),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('granted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('smart_authorization', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_smart_authorization_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_smart_authorization_user_id'), ['user_id'], unique=False)

    op.create_table('smart_token',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('access_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('refresh_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('patient_id', sa.Uuid(), nullable=True),
    sa.Column('authorization_id', sa.Uuid(), nullable=True),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('refresh_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('smart_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_smart_token_access_hash'), ['access_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_smart_token_authorization_id'), ['authorization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_smart_token_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_smart_token_refresh_hash'), ['refresh_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_smart_token_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('smart_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_smart_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_smart_token_refresh_hash'))
        batch_op.drop_index(batch_op.f('ix_smart_token_client_id'))
        batch_op.drop_index(batch_op.f('ix_smart_token_authorization_id'))
        batch_op.drop_index(batch_op.f('ix_smart_token_access_hash'))

    op.drop_table('smart_token')
    with op.batch_alter_table('smart_authorization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_smart_authorization_user_id'))
        batch_op.drop_index(batch_op.f('ix_smart_authorization_client_id'))

    op.drop_table('smart_authorization')
    with op.batch_alter_table('smart_auth_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_smart_auth_code_code_hash'))

    op.drop_table('smart_auth_code')
    with op.batch_alter_table('smart_assertion_jti', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_smart_assertion_jti_expires_at'))

    op.drop_table('smart_assertion_jti')
    with op.batch_alter_table('smart_app', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_smart_app_client_id'))

    op.drop_table('smart_app')
    with op.batch_alter_table('sso_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_link_user_id'))

    op.drop_table('sso_link')
