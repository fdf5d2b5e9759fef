"""Content documents: pages, posts and topics, one per enabled locale of the tenant.

Comments and replies are not documents; each published one adds to its root's
``reply_count``. Every existing root node is indexed whatever its status (draft,
published, archived), with the status in the document; public search keys filter on
``published``. A deleted node has no documents. A node with no translation is still
indexed, without title or slug, with the tenant's default locale as
``resolved_locale``. The body comes from the body row picked along the same fallback
chain as the text, reduced to plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.documents import AuthorRef, ContentCategoryRef, ContentDocument
from pipelines.core.flex import flex_of
from pipelines.core.lookup import Lookup, Row, TenantView, pick, pick_name
from pipelines.core.tables import CHILD_KINDS, ROOT_KINDS, root_group
from pipelines.core.text import plain_text
from pipelines.model import RootKey


@dataclass
class _Node:
    row: Row
    translations: dict[str, Row] = field(default_factory=dict)
    bodies: dict[str, Row] = field(default_factory=dict)
    tags: list[Row] = field(default_factory=list)
    flex_entries: list[Row] = field(default_factory=list)
    reply_count: int = 0


def content_documents(root: RootKey, lookup: Lookup, version: int) -> tuple[ContentDocument, ...]:
    tenant_id = str(root.tenant_id)
    tenant = lookup.tenant(tenant_id)
    main = lookup.row("nodes", str(root.id), tenant_id)
    if tenant is None or main is None or main["kind"] not in ROOT_KINDS:
        return ()
    node = _gather(main, lookup, tenant_id)
    return tuple(_document(node, locale, tenant, lookup, version) for locale in tenant.locales)


def _gather(main: Row, lookup: Lookup, tenant_id: str) -> _Node:
    node = _Node(main)
    node_id = main["id"]
    for key, member in lookup.store.members(root_group("content", tenant_id, node_id)):
        row = member.row
        if row is None:
            continue
        table = key.partition(":")[0]
        if table == "nodes":
            if row["kind"] in CHILD_KINDS and row["status"] == "published":
                node.reply_count += 1
        elif table == "flex_entries":
            node.flex_entries.append(row)
        elif row.get("node_id") != node_id:
            continue
        elif table == "node_translations":
            node.translations[row["locale"]] = row
        elif table == "node_bodies":
            node.bodies[row["locale"]] = row
        elif table == "node_tags" and (tag := lookup.row("content_tags", row["tag_id"], tenant_id)) is not None:
            node.tags.append(tag)
    return node


def _document(node: _Node, locale: str, tenant: TenantView, lookup: Lookup, version: int) -> ContentDocument:
    chain = lookup.chain(locale, tenant)
    main = node.row
    found = pick(node.translations, chain, any_locale=True)
    text: Row = found[0] if found else {}
    body = pick(node.bodies, chain, any_locale=True)
    category = _category(main.get("category_id"), chain, lookup, tenant.id)
    author = lookup.row("users", main.get("author_id"), tenant.id)
    tags = sorted(node.tags, key=lambda t: t["slug"])
    return ContentDocument(
        id=main["id"], tenant_id=main["tenant_id"], locale=locale,
        resolved_locale=found[1] if found else tenant.default_locale,
        kind=main["kind"], status=main["status"],
        slug=text.get("slug"), title=text.get("title"), excerpt=text.get("excerpt"),
        body_text=plain_text(body[0]["body"], body[0]["format"]) if body else None,
        body_format=body[0]["format"] if body else None,
        meta_title=text.get("meta_title"), meta_description=text.get("meta_description"),
        category=category, category_name=category.name if category else None,
        tags=[t["name"] for t in tags], tag_slugs=[t["slug"] for t in tags],
        author=AuthorRef(id=author["id"], display_name=author["display_name"]) if author else None,
        author_name=author["display_name"] if author else None,
        parent_id=main.get("parent_id"), reply_count=node.reply_count,
        flex=flex_of(node.flex_entries, lookup, tenant.id),
        published_at=main["published_at"], created_at=main["created_at"], updated_at=main["updated_at"],
        version=version,
    )


def _category(category_id: str | None, chain: tuple[str, ...], lookup: Lookup, tenant_id: str) -> ContentCategoryRef | None:
    row = lookup.row("content_categories", category_id, tenant_id)
    if row is None:
        return None
    names = {loc: tr["name"] for loc, tr in lookup.translations("content_categories", row["id"], tenant_id).items()}
    return ContentCategoryRef(id=row["id"], slug=row["slug"], name=pick_name(names, chain, row["slug"]))
