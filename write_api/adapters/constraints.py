"""Database constraint violations translated into the API's errors, with field paths.

The database is the last line of defence (races between two writers); the service
layer checks the same rules first where it can name the exact field.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from write_api.errors import Conflict, FieldError, InvalidInput, WriteApiError

_UNIQUE: dict[str, tuple[tuple[str | int, ...], str]] = {
    "uq_tenants_slug": (("body", "slug"), "a tenant with this slug already exists"),
    "uq_users_tenant_id_email": (("body", "email"), "a user with this email already exists"),
    "uq_roles_tenant_id_slug": (("body", "slug"), "a role with this slug already exists"),
    "uq_commerce_products_tenant_id_handle": (("body", "handle"), "a product with this handle already exists"),
    "uq_commerce_variants_tenant_id_sku": (("body", "sku"), "a variant with this SKU already exists"),
    "uq_commerce_categories_tenant_id_handle": (("body", "handle"), "a category with this handle already exists"),
    "uq_commerce_tags_tenant_id_slug": (("body", "slug"), "a tag with this slug already exists"),
    "uq_commerce_price_lists_tenant_id_slug": (("body", "slug"), "a price list with this slug already exists"),
    "uq_commerce_orders_tenant_id_number": (("body", "number"), "an order with this number already exists"),
    "uq_content_categories_tenant_id_slug": (("body", "slug"), "a category with this slug already exists"),
    "uq_content_tags_tenant_id_slug": (("body", "slug"), "a tag with this slug already exists"),
    "uq_node_translations_tenant_id_locale_slug": (("body", "translations"), "a node with this slug already exists in this locale"),
    "uq_flex_schemas_tenant_id_slug": (("body", "slug"), "a schema with this slug already exists"),
}

# The referencing table named in a "still referenced" violation, as a content team calls it.
_REFERENCED_BY = {
    "commerce_categories": "subcategories", "content_categories": "subcategories",
    "commerce_product_categories": "products", "commerce_order_lines": "orders",
}

_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"


def translate(error: IntegrityError) -> WriteApiError:
    """The API error for a constraint violation (never a 500 for client input)."""
    diag = getattr(error.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate == _UNIQUE_VIOLATION:
        path, message = _UNIQUE.get(constraint, (("body",), "a duplicate of an existing item"))
        return Conflict(message, (FieldError(path, message),), constraint)
    if sqlstate == _FOREIGN_KEY_VIOLATION:
        if "flex_schemas" in constraint:
            return Conflict("entries still use this schema", (FieldError(("path", "id"), "delete its entries first"),))
        primary = getattr(diag, "message_primary", None) or ""
        if primary.startswith("update or delete on table"):  # the row is still referenced by another
            what = _REFERENCED_BY.get(getattr(diag, "table_name", None) or "", "other items")
            message = f"{what} still refer to it"
            return Conflict(message, (FieldError(("path", "id"), f"{message}; move or delete them first"),))
        message = "refers to an item that does not exist"
        return InvalidInput(message, (FieldError(("body",), f"{message} ({constraint})"),))
    message = f"violates the rule {constraint or 'of the table'}"
    return InvalidInput(message, (FieldError(("body",), message),))
