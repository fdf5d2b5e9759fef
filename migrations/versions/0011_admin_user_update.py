"""grant auth.user.update to every tenant's seeded admin role

Revision ID: 0011
Revises: 0010

``PATCH /v1/users/{id}`` came with a new permission, ``auth.user.update``. Tenants
created since then get it with their seeded admin role; tenants created before have
an admin role without it, so their admins could not change a user's roles or disable
one. This grants it to every system admin role that lacks it. Custom roles are left
as their tenant made them.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

GRANTED = ("auth.user.update",)


def upgrade() -> None:
    for permission in GRANTED:
        op.execute(
            f"""
            INSERT INTO role_permissions (id, tenant_id, role_id, permission)
            SELECT gen_random_uuid(), r.tenant_id, r.id, '{permission}'
              FROM roles r
             WHERE r.slug = 'admin' AND r.is_system
            ON CONFLICT (role_id, permission) DO NOTHING
            """
        )


def downgrade() -> None:
    # Nothing to undo: the code of every earlier revision knows this permission, and
    # removing it would also take it from admins of tenants created after the grant.
    pass
