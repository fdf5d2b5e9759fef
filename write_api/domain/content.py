"""Rules of content nodes: which kind may hang under which, and where slugs come from."""

from __future__ import annotations

from write_api.domain.rules import slugify
from write_api.errors import invalid

# child kind: the kinds its parent may have
_PARENTS: dict[str, frozenset[str]] = {
    "comment": frozenset({"post", "comment"}),
    "reply": frozenset({"topic", "reply"}),
    "page": frozenset({"page"}),
}
ROOT_KINDS = frozenset({"page", "post", "topic"})
MAX_DEPTH = 32


def check_parent(kind: str, parent_kind: str | None, parent_depth: int = 0) -> None:
    """Comments belong under posts, replies under topics, pages under pages; posts and topics stand alone."""
    if parent_kind is None:
        if kind not in ROOT_KINDS:
            raise invalid(("body", "parent_id"), f"a {kind} needs a parent")
        return
    allowed = _PARENTS.get(kind, frozenset())
    if parent_kind not in allowed:
        where = " or ".join(sorted(allowed)) or "nothing"
        raise invalid(("body", "parent_id"), f"a {kind} can only be placed under a {where}, not a {parent_kind}")
    if parent_depth + 1 > MAX_DEPTH:
        raise invalid(("body", "parent_id"), f"threads nest at most {MAX_DEPTH} levels")


def node_slug(kind: str, slug: str | None, title: str | None, path: tuple[str | int, ...]) -> str | None:
    """The slug to store: given, or derived from the title; comments and replies have none."""
    if kind not in ROOT_KINDS:
        if slug is not None:
            raise invalid(path, f"a {kind} has no slug")
        return None
    if slug is not None:
        return slug
    derived = slugify(title or "")
    if not derived:
        raise invalid(path, "give a slug (none can be derived from this title)")
    return derived
