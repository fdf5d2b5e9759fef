"""index refresh tokens by (tenant_id, family_id)

Revision ID: 0013
Revises: 0012

Every request with an access token checks that its session (the refresh token family)
is still alive, and a logout or a reused refresh token revokes a whole family. Both
looked the family up by scanning the table, which holds every refresh token ever
issued (rotation keeps the revoked ones): a per-request cost that grew with the number
of logins across all tenants.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_refresh_tokens_tenant_id_family_id", "refresh_tokens", ["tenant_id", "family_id"])


def downgrade() -> None:
    op.drop_index("ix_refresh_tokens_tenant_id_family_id", table_name="refresh_tokens")
