"""Content commands: nodes of every kind, their lifecycle, content categories and tags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from contracts.ids import new_id
from write_api.adapters.content_repo import assemble_node
from write_api.domain.content import check_parent, node_slug
from write_api.domain.lifecycle import EVENT_NAMES, Action, transition
from write_api.errors import Conflict, FieldError, InvalidInput
from write_api.schemas.content import ContentTagIn, NodeIn, NodePatch, NodeTranslationIn
from write_api.service.common import Written, check_locales, found
from write_api.service.principal import Principal
from write_api.service.uow import UnitOfWork


@dataclass(frozen=True)
class CreateNode:
    principal: Principal
    data: NodeIn


@dataclass(frozen=True)
class UpdateNode:
    principal: Principal
    node_id: UUID
    data: NodePatch
    if_match: int | None


@dataclass(frozen=True)
class DeleteNode:
    principal: Principal
    node_id: UUID
    if_match: int | None


@dataclass(frozen=True)
class ChangeNodeStatus:
    principal: Principal
    node_id: UUID
    action: Action
    if_match: int | None


@dataclass(frozen=True)
class CreateContentTag:
    principal: Principal
    data: ContentTagIn


def _texts(node_id: UUID, kind: str, items: list[NodeTranslationIn]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    translations, bodies = [], []
    for i, t in enumerate(items):
        slug = node_slug(kind, t.slug, t.title, ("body", "translations", i, "slug"))
        translations.append({"node_id": node_id, "locale": t.locale, "title": t.title, "slug": slug, "excerpt": t.excerpt,
                             "meta_title": t.meta_title, "meta_description": t.meta_description})
        if t.body is not None:
            bodies.append({"node_id": node_id, "locale": t.locale, "body": t.body, "format": t.format})
    return translations, bodies


def _check_category(uow: UnitOfWork, category_id: UUID | None) -> None:
    if category_id is not None and not uow.nodes.category_exists(category_id):
        raise InvalidInput("unknown category", (FieldError(("body", "category_id"), f"no category with id {category_id}"),))


def _locales(principal: Principal, items: list[NodeTranslationIn]) -> None:
    check_locales(principal, [(("body", "translations", i, "locale"), t.locale) for i, t in enumerate(items)])


def create_node(cmd: CreateNode, uow: UnitOfWork) -> Written:
    data, nid = cmd.data, new_id()
    _locales(cmd.principal, data.translations)
    translations, bodies = _texts(nid, data.kind, data.translations)
    with uow:
        parent = None
        if data.parent_id is not None:
            parent = uow.nodes.get_root(data.parent_id)
            if parent is None:
                raise InvalidInput("unknown parent", (FieldError(("body", "parent_id"), f"no node with id {data.parent_id}"),))
        check_parent(data.kind, parent["kind"] if parent else None, parent["depth"] if parent else 0)
        _check_category(uow, data.category_id)
        is_child = data.kind in ("comment", "reply")
        root_id = parent["root_id"] if parent is not None and is_child else nid
        if is_child:
            uow.nodes.touch(root_id, None)  # the thread's root changes version when it gains a child
        tags = uow.nodes.tag_ids(sorted(set(data.tags)))
        node = {"id": nid, "kind": data.kind, "status": data.status, "parent_id": data.parent_id, "root_id": root_id,
                "author_id": cmd.principal.user_id, "category_id": data.category_id, "position": data.position,
                "depth": parent["depth"] + 1 if parent else 0, "metadata": data.metadata,
                "published_at": datetime.now(UTC) if data.status == "published" else None}
        root = uow.nodes.add(node, translations, bodies, list(tags.values()))
        uow.outbox.append("node", root_id, "NodeCreated", {"id": str(nid), "kind": data.kind, "status": data.status})
        token = uow.commit()
    return Written(assemble_node(root, translations, bodies, sorted(tags)), root["version"], token)


def update_node(cmd: UpdateNode, uow: UnitOfWork) -> Written:
    data, nid = cmd.data, cmd.node_id
    if data.translations is not None:
        _locales(cmd.principal, data.translations)
    with uow:
        values = data.model_dump(exclude_unset=True, exclude={"translations", "tags"})
        if "metadata" in values:
            values["metadata"] = values["metadata"] or {}
        _check_category(uow, values.get("category_id"))
        root = uow.nodes.touch(nid, cmd.if_match, {k: v for k, v in values.items() if v is not None or k == "category_id"})
        if data.translations is not None:
            uow.nodes.replace_texts(nid, *_texts(nid, root["kind"], data.translations))
        if data.tags is not None:
            uow.nodes.replace_tags(nid, list(uow.nodes.tag_ids(sorted(set(data.tags))).values()))
        uow.outbox.append("node", root["root_id"], "NodeUpdated", {"id": str(nid), "fields": sorted(data.model_fields_set)})
        view = found(uow.nodes.load(nid), "node", nid)
        token = uow.commit()
    return Written(view, root["version"], token)


def delete_node(cmd: DeleteNode, uow: UnitOfWork) -> Written:
    with uow:
        if uow.nodes.has_children(cmd.node_id):
            raise Conflict("this node has children; delete or move them first",
                           (FieldError(("path", "node_id"), "has children"),))
        row = uow.nodes.delete(cmd.node_id, cmd.if_match)
        uow.outbox.append("node", row["root_id"], "NodeDeleted", {"id": str(cmd.node_id), "kind": row["kind"]})
        token = uow.commit()
    return Written({"id": str(cmd.node_id), "deleted": True}, None, token)


def change_node_status(cmd: ChangeNodeStatus, uow: UnitOfWork) -> Written:
    with uow:
        current = uow.nodes.touch(cmd.node_id, cmd.if_match)
        status = transition(current["status"], cmd.action)
        values: dict[str, Any] = {"status": status}
        if status == "published":
            values["published_at"] = datetime.now(UTC)
        root = uow.nodes.touch(cmd.node_id, None, values)
        uow.outbox.append("node", root["root_id"], f"Node{EVENT_NAMES[cmd.action]}",
                          {"id": str(cmd.node_id), "kind": root["kind"], "status": status})
        view = found(uow.nodes.load(cmd.node_id), "node", cmd.node_id)
        token = uow.commit()
    return Written(view, root["version"], token)


def create_content_tag(cmd: CreateContentTag, uow: UnitOfWork) -> Written:
    with uow:
        row = uow.nodes.add_tag(cmd.data.model_dump())
        uow.outbox.append("content_tag", row["id"], "ContentTagCreated", {"id": str(row["id"]), "slug": row["slug"]})
        token = uow.commit()
    return Written(row, row["version"], token)


@dataclass(frozen=True)
class DeleteContentTag:
    principal: Principal
    tag_id: UUID
    if_match: int | None


def delete_content_tag(cmd: DeleteContentTag, uow: UnitOfWork) -> Written:
    with uow:
        row = uow.nodes.delete_tag(cmd.tag_id, cmd.if_match)
        uow.outbox.append("content_tag", cmd.tag_id, "ContentTagDeleted", {"id": str(cmd.tag_id), "slug": row["slug"]})
        token = uow.commit()
    return Written({"id": str(cmd.tag_id), "deleted": True}, None, token)
