"""Category tree commands, for commerce categories (keyed by handle) and content
categories (keyed by slug): create, update (moves are refused if they would make a
cycle), delete. Each write appends its outbox row and returns a consistency token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from write_api.adapters.category_tree import CategoryTree
from write_api.errors import Conflict, FieldError, InvalidInput
from write_api.service.common import Written, check_locales, found
from write_api.service.principal import Principal
from write_api.service.uow import UnitOfWork


@dataclass(frozen=True)
class Tree:
    """Which tree a command is about."""

    aggregate: str  # the outbox aggregate type
    event: str  # prefix of the outbox event names
    key: str  # the column naming a category in URLs: handle or slug
    of: Callable[[UnitOfWork], CategoryTree]


COMMERCE = Tree("category", "Category", "handle", lambda uow: uow.catalog.categories)
CONTENT = Tree("content_category", "ContentCategory", "slug", lambda uow: uow.nodes.categories)


@dataclass(frozen=True)
class CreateCategory:
    principal: Principal
    tree: Tree
    data: Any  # CategoryIn or ContentCategoryIn


@dataclass(frozen=True)
class UpdateCategory:
    principal: Principal
    tree: Tree
    category_id: UUID
    data: Any  # CategoryPatch or ContentCategoryPatch
    if_match: int | None


@dataclass(frozen=True)
class DeleteCategory:
    principal: Principal
    tree: Tree
    category_id: UUID
    if_match: int | None


def check_parent(parents: dict[UUID, UUID | None], category_id: UUID | None, parent_id: UUID | None) -> None:
    """The parent must exist, and walking up from it must never reach the category itself."""
    if parent_id is None:
        return
    if parent_id not in parents:
        raise InvalidInput("unknown parent", (FieldError(("body", "parent_id"), f"no category with id {parent_id}"),))
    node: UUID | None = parent_id
    while node is not None:
        if node == category_id:
            raise InvalidInput("a category cannot be its own ancestor",
                               (FieldError(("body", "parent_id"), "would make a cycle"),))
        node = parents.get(node)


def _translations(principal: Principal, translations: list[Any]) -> list[dict[str, Any]]:
    check_locales(principal, [(("body", "translations", i, "locale"), t.locale) for i, t in enumerate(translations)])
    return [t.model_dump() for t in translations]


def create_category(cmd: CreateCategory, uow: UnitOfWork) -> Written:
    data, tree = cmd.data, cmd.tree
    names = _translations(cmd.principal, data.translations)
    key = getattr(data, tree.key)
    with uow:
        categories = tree.of(uow)
        check_parent(categories.parents(), None, data.parent_id)
        root = categories.add({tree.key: key, "parent_id": data.parent_id, "position": data.position}, names)
        cid = root["id"]
        uow.outbox.append(tree.aggregate, cid, f"{tree.event}Created", {"id": str(cid), tree.key: key})
        view = found(categories.get(cid), "category", cid)
        token = uow.commit()
    return Written(view, root["version"], token)


def update_category(cmd: UpdateCategory, uow: UnitOfWork) -> Written:
    data, tree, cid = cmd.data, cmd.tree, cmd.category_id
    names = _translations(cmd.principal, data.translations) if data.translations is not None else None
    with uow:
        categories = tree.of(uow)
        categories.touch(cid, cmd.if_match)  # 404 or 412 before anything else is looked at
        values = data.model_dump(exclude_unset=True, exclude={"translations"})
        if "parent_id" in values:
            check_parent(categories.parents(), cid, values["parent_id"])
        root = categories.touch(cid, None, {k: v for k, v in values.items() if v is not None or k == "parent_id"})
        if names is not None:
            categories.replace_translations(cid, names)
        uow.outbox.append(tree.aggregate, cid, f"{tree.event}Updated", {"id": str(cid), "fields": sorted(data.model_fields_set)})
        view = found(categories.get(cid), "category", cid)
        token = uow.commit()
    return Written(view, root["version"], token)


def delete_category(cmd: DeleteCategory, uow: UnitOfWork) -> Written:
    """Refused while subcategories hang below (the schema would cascade the whole subtree)."""
    tree = cmd.tree
    with uow:
        categories = tree.of(uow)
        if cmd.category_id in set(categories.parents().values()):
            message = "subcategories still refer to it"
            raise Conflict(message, (FieldError(("path", "id"), f"{message}; move or delete them first"),))
        row = categories.delete(cmd.category_id, cmd.if_match)
        uow.outbox.append(tree.aggregate, cmd.category_id, f"{tree.event}Deleted",
                          {"id": str(cmd.category_id), tree.key: row[tree.key]})
        token = uow.commit()
    return Written({"id": str(cmd.category_id), "deleted": True}, None, token)
