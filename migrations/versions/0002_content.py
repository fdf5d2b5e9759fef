"""content: content nodes, translations, bodies, categories and tags

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('content_categories',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 128", name=op.f('ck_content_categories_slug_format')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_content_categories_not_own_parent')),
    sa.ForeignKeyConstraint(['tenant_id', 'parent_id'], ['content_categories.tenant_id', 'content_categories.id'], name=op.f('fk_content_categories_tenant_id_parent_id_content_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_content_categories_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_categories')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_content_categories_tenant_id_id'),
    sa.UniqueConstraint('tenant_id', 'slug', name=op.f('uq_content_categories_tenant_id_slug'))
    )
    op.create_table('content_tags',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 128", name=op.f('ck_content_tags_slug_format')),
    sa.CheckConstraint('length(btrim(name)) > 0 AND length(name) <= 100', name=op.f('ck_content_tags_name_length')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_content_tags_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_tags')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_content_tags_tenant_id_id'),
    sa.UniqueConstraint('tenant_id', 'slug', name=op.f('uq_content_tags_tenant_id_slug'))
    )
    op.create_table('content_category_translations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.CheckConstraint("locale ~ '^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$'", name=op.f('ck_content_category_translations_locale_format')),
    sa.CheckConstraint('length(btrim(name)) > 0 AND length(name) <= 200', name=op.f('ck_content_category_translations_name_length')),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['content_categories.tenant_id', 'content_categories.id'], name=op.f('fk_content_category_translations_tenant_id_category_id_content_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_content_category_translations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_category_translations')),
    sa.UniqueConstraint('category_id', 'locale', name=op.f('uq_content_category_translations_category_id_locale'))
    )
    op.create_table('nodes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('root_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('category_id', sa.Uuid(), nullable=True),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('depth', sa.Integer(), server_default='0', nullable=False),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind IN ('comment', 'reply')) = (root_id <> id) AND (kind NOT IN ('comment', 'reply') OR parent_id IS NOT NULL)", name=op.f('ck_nodes_root_matches_kind')),
    sa.CheckConstraint("jsonb_typeof(metadata) = 'object'", name=op.f('ck_nodes_metadata_is_object')),
    sa.CheckConstraint("kind IN ('page', 'post', 'comment', 'topic', 'reply')", name=op.f('ck_nodes_kind_valid')),
    sa.CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name=op.f('ck_nodes_published_has_date')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('ck_nodes_status_valid')),
    sa.CheckConstraint('depth >= 0', name=op.f('ck_nodes_depth_non_negative')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_nodes_not_own_parent')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_nodes_position_non_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'author_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_nodes_tenant_id_author_id_users'), ondelete='SET NULL (author_id)'),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['content_categories.tenant_id', 'content_categories.id'], name=op.f('fk_nodes_tenant_id_category_id_content_categories'), ondelete='SET NULL (category_id)'),
    sa.ForeignKeyConstraint(['tenant_id', 'parent_id'], ['nodes.tenant_id', 'nodes.id'], name=op.f('fk_nodes_tenant_id_parent_id_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'root_id'], ['nodes.tenant_id', 'nodes.id'], name=op.f('fk_nodes_tenant_id_root_id_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_nodes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nodes')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_nodes_tenant_id_id')
    )
    op.create_index('ix_nodes_root_id', 'nodes', ['root_id'], unique=False)
    op.create_index('ix_nodes_tenant_id_kind_status', 'nodes', ['tenant_id', 'kind', 'status'], unique=False)
    op.create_table('node_bodies',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('node_id', sa.Uuid(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('format', sa.String(length=16), server_default='markdown', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("format IN ('markdown', 'html')", name=op.f('ck_node_bodies_format_valid')),
    sa.CheckConstraint("locale ~ '^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$'", name=op.f('ck_node_bodies_locale_format')),
    sa.ForeignKeyConstraint(['tenant_id', 'node_id'], ['nodes.tenant_id', 'nodes.id'], name=op.f('fk_node_bodies_tenant_id_node_id_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_node_bodies_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_node_bodies')),
    sa.UniqueConstraint('node_id', 'locale', name=op.f('uq_node_bodies_node_id_locale'))
    )
    op.create_table('node_tags',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('node_id', sa.Uuid(), nullable=False),
    sa.Column('tag_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'node_id'], ['nodes.tenant_id', 'nodes.id'], name=op.f('fk_node_tags_tenant_id_node_id_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'tag_id'], ['content_tags.tenant_id', 'content_tags.id'], name=op.f('fk_node_tags_tenant_id_tag_id_content_tags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_node_tags_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_node_tags')),
    sa.UniqueConstraint('node_id', 'tag_id', name=op.f('uq_node_tags_node_id_tag_id'))
    )
    op.create_index('ix_node_tags_tag_id', 'node_tags', ['tag_id'], unique=False)
    op.create_table('node_translations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('node_id', sa.Uuid(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('slug', sa.String(length=128), nullable=True),
    sa.Column('excerpt', sa.Text(), nullable=True),
    sa.Column('meta_title', sa.String(length=300), nullable=True),
    sa.Column('meta_description', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("locale ~ '^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$'", name=op.f('ck_node_translations_locale_format')),
    sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 128", name=op.f('ck_node_translations_slug_format')),
    sa.CheckConstraint('title IS NULL OR length(title) <= 300', name=op.f('ck_node_translations_title_length')),
    sa.ForeignKeyConstraint(['tenant_id', 'node_id'], ['nodes.tenant_id', 'nodes.id'], name=op.f('fk_node_translations_tenant_id_node_id_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_node_translations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_node_translations')),
    sa.UniqueConstraint('node_id', 'locale', name=op.f('uq_node_translations_node_id_locale'))
    )
    op.create_index('uq_node_translations_tenant_id_locale_slug', 'node_translations', ['tenant_id', 'locale', 'slug'], unique=True, postgresql_where=sa.text('slug IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('uq_node_translations_tenant_id_locale_slug', table_name='node_translations', postgresql_where=sa.text('slug IS NOT NULL'))
    op.drop_table('node_translations')
    op.drop_index('ix_node_tags_tag_id', table_name='node_tags')
    op.drop_table('node_tags')
    op.drop_table('node_bodies')
    op.drop_index('ix_nodes_tenant_id_kind_status', table_name='nodes')
    op.drop_index('ix_nodes_root_id', table_name='nodes')
    op.drop_table('nodes')
    op.drop_table('content_category_translations')
    op.drop_table('content_tags')
    op.drop_table('content_categories')
