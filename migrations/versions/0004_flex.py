"""flex: flex schemas and entries

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('flex_schemas',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('fields', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("jsonb_typeof(fields) = 'array' AND jsonb_array_length(fields) BETWEEN 1 AND 50", name=op.f('ck_flex_schemas_fields_bounded')),
    sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 128", name=op.f('ck_flex_schemas_slug_format')),
    sa.CheckConstraint('length(btrim(name)) > 0 AND length(name) <= 200', name=op.f('ck_flex_schemas_name_length')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_flex_schemas_version_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_flex_schemas_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flex_schemas')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_flex_schemas_tenant_id_id'),
    sa.UniqueConstraint('tenant_id', 'slug', name=op.f('uq_flex_schemas_tenant_id_slug'))
    )
    op.create_table('flex_entries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('schema_id', sa.Uuid(), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('entity_type', sa.String(length=16), nullable=True),
    sa.Column('entity_id', sa.Uuid(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(entity_type IS NULL) = (entity_id IS NULL) AND (entity_type IS NULL OR entity_type IN ('product', 'node'))", name=op.f('ck_flex_entries_attachment_valid')),
    sa.CheckConstraint("jsonb_typeof(data) = 'object'", name=op.f('ck_flex_entries_data_is_object')),
    sa.CheckConstraint('schema_version >= 1', name=op.f('ck_flex_entries_schema_version_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'schema_id'], ['flex_schemas.tenant_id', 'flex_schemas.id'], name=op.f('fk_flex_entries_tenant_id_schema_id_flex_schemas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_flex_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flex_entries'))
    )
    op.create_index('ix_flex_entries_data', 'flex_entries', ['data'], unique=False, postgresql_using='gin')
    op.create_index('ix_flex_entries_entity', 'flex_entries', ['tenant_id', 'entity_type', 'entity_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_flex_entries_entity', table_name='flex_entries')
    op.drop_index('ix_flex_entries_data', table_name='flex_entries', postgresql_using='gin')
    op.drop_table('flex_entries')
    op.drop_table('flex_schemas')
