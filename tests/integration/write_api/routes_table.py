"""Every route of the app, with its permission, module, a valid body and the happy status.

The tables drive the happy-path, permission, disabled-module and cross-tenant tests, and
a test checks the app has no route missing from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.integration.write_api.conftest import PASSWORD, node_body, product_body

Body = Callable[[dict[str, str]], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    permission: str | None  # None: credential routes (login, refresh, logout) or "who am I"
    module: str | None
    body: Body | None = None
    status: int = 200
    node_is: str = "node_id"  # which of the tenant's nodes fills {node_id}
    content: bool = False  # {category_id} and {tag_id} are the tenant's content category and tag

    def url(self, ids: dict[str, str]) -> str:
        filled = {**ids, "node_id": ids[self.node_is]}
        if self.content:
            filled.update(category_id=ids["content_category_id"], tag_id=ids["content_tag_id"])
        return self.path.format(**filled, module="blog", location="default")

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _entry(ids: dict[str, str]) -> dict[str, Any]:
    return {"schema_id": ids["schema_id"], "data": {"wash": "warm"}}


def _content(slug: str) -> Body:
    return lambda ids: {"translations": [{"locale": "en", "title": slug.title(), "slug": slug, "body": "text"}]}


_COMMENT: Body = lambda ids: {"translations": [{"locale": "en", "body": "a reply"}]}  # noqa: E731

# Ordered so that one pass over a populated tenant succeeds: deletions come last.
ROUTES: list[Route] = [
    Route("GET", "/v1/auth/me", None, None),
    Route("POST", "/v1/users", "auth.user.create", None, lambda ids: {
        "email": "new@x.example", "display_name": "New", "password": PASSWORD, "roles": ["editor"]}, 201),
    Route("GET", "/v1/users", "auth.user.read", None),
    Route("GET", "/v1/users/{user_id}", "auth.user.read", None),
    Route("PATCH", "/v1/users/{user_id}", "auth.user.update", None, lambda ids: {"display_name": "Vee", "locale": "de"}),
    Route("GET", "/v1/roles", "auth.role.read", None),
    Route("POST", "/v1/api-keys", "auth.api_key.create", None, lambda ids: {"name": "storefront", "kind": "search_public"}, 201),
    Route("GET", "/v1/api-keys", "auth.api_key.read", None),
    Route("POST", "/v1/nodes", "content.node.create", "content", lambda ids: node_body("post", "fresh-post"), 201),
    Route("GET", "/v1/nodes", "content.node.read", "content"),
    Route("GET", "/v1/nodes/{node_id}", "content.node.read", "content"),
    Route("PATCH", "/v1/nodes/{node_id}", "content.node.update", "content", lambda ids: {"tags": ["news"]}),
    Route("POST", "/v1/nodes/{node_id}/publish", "content.node.publish", "content"),
    Route("POST", "/v1/nodes/{node_id}/unpublish", "content.node.publish", "content"),
    Route("POST", "/v1/nodes/{node_id}/archive", "content.node.publish", "content"),
    Route("POST", "/v1/nodes/{node_id}/restore", "content.node.publish", "content"),
    Route("POST", "/v1/blog/posts", "content.node.create", "blog", _content("second-post"), 201),
    Route("GET", "/v1/blog/posts", "content.node.read", "blog"),
    Route("POST", "/v1/blog/posts/{node_id}/comments", "content.node.create", "blog", _COMMENT, 201, "post_id"),
    Route("GET", "/v1/blog/posts/{node_id}/comments", "content.node.read", "blog", node_is="post_id"),
    Route("POST", "/v1/forum/topics", "content.node.create", "forum", _content("second-topic"), 201),
    Route("GET", "/v1/forum/topics", "content.node.read", "forum"),
    Route("POST", "/v1/forum/topics/{node_id}/replies", "content.node.create", "forum", _COMMENT, 201, "topic_id"),
    Route("GET", "/v1/forum/topics/{node_id}/replies", "content.node.read", "forum", node_is="topic_id"),
    Route("POST", "/v1/pages", "content.node.create", "pages", _content("contact"), 201),
    Route("GET", "/v1/pages", "content.node.read", "pages"),
    Route("POST", "/v1/content/categories", "content.category.create", "content", lambda ids: {
        "slug": "news", "translations": [{"locale": "en", "name": "News"}]}, 201),
    Route("GET", "/v1/content/categories", "content.category.read", "content"),
    Route("GET", "/v1/content/categories/{category_id}", "content.category.read", "content", content=True),
    Route("PATCH", "/v1/content/categories/{category_id}", "content.category.update", "content", lambda ids: {
        "position": 2, "translations": [{"locale": "en", "name": "Guides"}, {"locale": "de", "name": "Anleitungen"}]},
        content=True),
    Route("POST", "/v1/content/tags", "content.tag.create", "content", lambda ids: {"slug": "howto", "name": "How-to"}, 201),
    Route("GET", "/v1/content/tags", "content.tag.read", "content"),
    Route("POST", "/v1/products", "commerce.product.create", "commerce", lambda ids: product_body("mug", ["MUG-1"]), 201),
    Route("GET", "/v1/products", "commerce.product.read", "commerce"),
    Route("GET", "/v1/products/{product_id}", "commerce.product.read", "commerce"),
    Route("PUT", "/v1/products/{product_id}", "commerce.product.update", "commerce", lambda ids: {
        "handle": "tee", "vendor": "Acme", "translations": [{"locale": "en", "title": "Tee"}]}),
    Route("PATCH", "/v1/products/{product_id}", "commerce.product.update", "commerce", lambda ids: {"vendor": "Acme 2"}),
    Route("POST", "/v1/orders", "commerce.order.create", "commerce", lambda ids: {
        "currency_code": "USD", "lines": [{"variant_id": ids["variant_id"], "quantity": 1}]}, 201),
    Route("GET", "/v1/orders", "commerce.order.read", "commerce"),
    Route("GET", "/v1/orders/{order_id}", "commerce.order.read", "commerce"),
    Route("POST", "/v1/orders/{order_id}/status", "commerce.order.update", "commerce", lambda ids: {"status": "paid"}),
    Route("POST", "/v1/products/{product_id}/unpublish", "commerce.product.publish", "commerce"),
    Route("POST", "/v1/products/{product_id}/publish", "commerce.product.publish", "commerce"),
    Route("POST", "/v1/products/{product_id}/archive", "commerce.product.publish", "commerce"),
    Route("POST", "/v1/products/{product_id}/restore", "commerce.product.publish", "commerce"),
    Route("POST", "/v1/products/{product_id}/variants", "commerce.product.update", "commerce", lambda ids: {
        "sku": "TEE-XL", "prices": [{"currency_code": "EUR", "amount": 1500}]}, 201),
    Route("PATCH", "/v1/products/{product_id}/variants/{variant_id}", "commerce.product.update", "commerce",
          lambda ids: {"barcode": "4006381333931"}),
    Route("PUT", "/v1/products/{product_id}/variants/{variant_id}/inventory/{location}", "commerce.inventory.update",
          "commerce", lambda ids: {"stocked_quantity": 9}),
    Route("POST", "/v1/categories", "commerce.category.create", "commerce", lambda ids: {
        "handle": "mugs", "translations": [{"locale": "en", "name": "Mugs"}]}, 201),
    Route("GET", "/v1/categories", "commerce.category.read", "commerce"),
    Route("GET", "/v1/categories/{category_id}", "commerce.category.read", "commerce"),
    Route("PATCH", "/v1/categories/{category_id}", "commerce.category.update", "commerce", lambda ids: {"position": 3}),
    Route("POST", "/v1/tags", "commerce.tag.create", "commerce", lambda ids: {"slug": "new", "name": "New"}, 201),
    Route("GET", "/v1/tags", "commerce.tag.read", "commerce"),
    Route("POST", "/v1/price-lists", "commerce.price_list.create", "commerce", lambda ids: {"slug": "vip", "name": "VIP"}, 201),
    Route("GET", "/v1/price-lists", "commerce.price_list.read", "commerce"),
    Route("POST", "/v1/flex/schemas", "flex.schema.create", "flex", lambda ids: {
        "slug": "specs", "name": "Specs", "fields": [{"name": "weight", "type": "number", "required": True}]}, 201),
    Route("GET", "/v1/flex/schemas", "flex.schema.read", "flex"),
    Route("GET", "/v1/flex/schemas/{schema_id}", "flex.schema.read", "flex"),
    Route("PUT", "/v1/flex/schemas/{schema_id}", "flex.schema.update", "flex", lambda ids: {
        "name": "Care", "fields": [{"name": "wash", "type": "enum", "values": ["cold", "warm", "hot"]}]}),
    Route("POST", "/v1/flex/entries", "flex.entry.create", "flex", _entry, 201),
    Route("GET", "/v1/flex/entries", "flex.entry.read", "flex"),
    Route("GET", "/v1/flex/entries/{entry_id}", "flex.entry.read", "flex"),
    Route("PUT", "/v1/flex/entries/{entry_id}", "flex.entry.update", "flex", lambda ids: {"data": {"wash": "hot"}}),
    Route("POST", "/v1/import/products", "commerce.product.import", "commerce",
          lambda ids: product_body("imported", ["IMP-1"]), 200),
    Route("POST", "/v1/import/content", "content.node.import", "content", lambda ids: node_body("page", "imported"), 200),
    # Deletions last, children before parents.
    Route("DELETE", "/v1/flex/entries/{entry_id}", "flex.entry.delete", "flex"),
    Route("DELETE", "/v1/products/{product_id}/variants/{variant_id}", "commerce.product.update", "commerce"),
    Route("DELETE", "/v1/tags/{tag_id}", "commerce.tag.delete", "commerce"),
    Route("DELETE", "/v1/content/tags/{tag_id}", "content.tag.delete", "content", content=True),
    Route("DELETE", "/v1/content/categories/{category_id}", "content.category.delete", "content", content=True),
    Route("DELETE", "/v1/nodes/{node_id}", "content.node.delete", "content"),
    Route("DELETE", "/v1/api-keys/{key_id}", "auth.api_key.revoke", None),
]

# Deleting these needs their dependants gone first; they run after the table above.
LATE_DELETES: list[Route] = [
    Route("DELETE", "/v1/products/{product_id}", "commerce.product.delete", "commerce"),
    Route("DELETE", "/v1/categories/{category_id}", "commerce.category.delete", "commerce"),
]
SCHEMA_DELETE = Route("DELETE", "/v1/flex/schemas/{schema_id}", "flex.schema.delete", "flex")

# Routes outside the permission model: platform administration and the credential exchange.
PLATFORM_ROUTES = ["POST /v1/tenants", "GET /v1/tenants/{tenant_id}", "PATCH /v1/tenants/{tenant_id}",
                   "PUT /v1/tenants/{tenant_id}/modules/{module}"]
CREDENTIAL_ROUTES = ["POST /v1/auth/login", "POST /v1/auth/refresh", "POST /v1/auth/logout"]

TENANT_ROUTES = [*ROUTES, *LATE_DELETES, SCHEMA_DELETE]
