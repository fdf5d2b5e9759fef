"""read model: JSONB read tables index_products and index_content, and index aliases

Revision ID: 0006
Revises: 0005

One row per (index version, tenant, locale, entity) holding the whole document. The
tsvector is generated in the row's own text search configuration (english, german,
russian, ... or simple), so each locale is stemmed in its language. A rebuild writes a
new index_version beside the live one; ``read_model_aliases`` names the live version
per document type and is switched in one UPDATE.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LOCALE = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE read_model_aliases (
            doc_type        varchar(16) PRIMARY KEY CHECK (doc_type IN ('product', 'content')),
            live_version    integer NOT NULL CHECK (live_version >= 1),
            switched_at     timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO read_model_aliases (doc_type, live_version) VALUES ('product', 1), ('content', 1);
        """
    )
    op.execute(
        f"""
        CREATE TABLE index_products (
            index_version   integer NOT NULL DEFAULT 1 CHECK (index_version >= 1),
            tenant_id       uuid NOT NULL,
            locale          varchar(35) NOT NULL CHECK (locale ~ '{LOCALE}'),
            product_id      uuid NOT NULL,
            handle          varchar(128) NOT NULL,
            status          varchar(16) NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
            ts_config       regconfig NOT NULL DEFAULT 'simple',
            document        jsonb NOT NULL CHECK (jsonb_typeof(document) = 'object'),
            search_vector   tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector(ts_config, coalesce(document->>'title', '')), 'A')
                || setweight(to_tsvector(ts_config, coalesce(document->>'subtitle', '')), 'B')
                || setweight(to_tsvector(ts_config, coalesce(document->'tags', '[]'::jsonb)), 'B')
                || setweight(to_tsvector(ts_config, coalesce(document->'category_names', '[]'::jsonb)), 'B')
                || setweight(to_tsvector(ts_config, coalesce(document->>'vendor', '')), 'C')
                || setweight(to_tsvector(ts_config, coalesce(document->>'description', '')), 'D')
            ) STORED,
            source_lsn      bigint NOT NULL,
            source_committed_at timestamptz,
            indexed_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (index_version, tenant_id, locale, product_id)
        );
        CREATE UNIQUE INDEX uq_index_products_handle ON index_products (index_version, tenant_id, locale, handle);
        CREATE INDEX ix_index_products_search ON index_products USING gin (search_vector);
        CREATE INDEX ix_index_products_document ON index_products USING gin (document jsonb_path_ops);
        CREATE INDEX ix_index_products_status ON index_products (index_version, tenant_id, locale, status);
        """
    )
    op.execute(
        f"""
        CREATE TABLE index_content (
            index_version   integer NOT NULL DEFAULT 1 CHECK (index_version >= 1),
            tenant_id       uuid NOT NULL,
            locale          varchar(35) NOT NULL CHECK (locale ~ '{LOCALE}'),
            node_id         uuid NOT NULL,
            kind            varchar(16) NOT NULL CHECK (kind IN ('page', 'post', 'topic')),
            slug            varchar(128),
            status          varchar(16) NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
            ts_config       regconfig NOT NULL DEFAULT 'simple',
            document        jsonb NOT NULL CHECK (jsonb_typeof(document) = 'object'),
            search_vector   tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector(ts_config, coalesce(document->>'title', '')), 'A')
                || setweight(to_tsvector(ts_config, coalesce(document->>'excerpt', '')), 'B')
                || setweight(to_tsvector(ts_config, coalesce(document->'tags', '[]'::jsonb)), 'B')
                || setweight(to_tsvector(ts_config, coalesce(document->>'category_name', '')), 'C')
                || setweight(to_tsvector(ts_config, coalesce(document->>'body_text', '')), 'D')
            ) STORED,
            published_at    timestamptz,
            source_lsn      bigint NOT NULL,
            source_committed_at timestamptz,
            indexed_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (index_version, tenant_id, locale, node_id)
        );
        CREATE UNIQUE INDEX uq_index_content_slug ON index_content (index_version, tenant_id, locale, slug)
            WHERE slug IS NOT NULL;
        CREATE INDEX ix_index_content_search ON index_content USING gin (search_vector);
        CREATE INDEX ix_index_content_document ON index_content USING gin (document jsonb_path_ops);
        CREATE INDEX ix_index_content_kind ON index_content (index_version, tenant_id, locale, kind, status);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE index_content; DROP TABLE index_products; DROP TABLE read_model_aliases;")
