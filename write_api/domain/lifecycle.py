"""The draft → published → archived lifecycle shared by products and content nodes."""

from __future__ import annotations

from typing import Literal

from write_api.errors import InvalidTransition

Status = Literal["draft", "published", "archived"]
Action = Literal["publish", "unpublish", "archive", "restore"]

# action: (statuses it may start from, status it leads to)
_TRANSITIONS: dict[Action, tuple[frozenset[str], Status]] = {
    "publish": (frozenset({"draft"}), "published"),
    "unpublish": (frozenset({"published"}), "draft"),
    "archive": (frozenset({"draft", "published"}), "archived"),
    "restore": (frozenset({"archived"}), "draft"),
}

EVENT_NAMES: dict[Action, str] = {
    "publish": "Published",
    "unpublish": "Unpublished",
    "archive": "Archived",
    "restore": "Restored",
}


def transition(current: str, action: Action) -> Status:
    """The status after ``action``; InvalidTransition if it cannot start from ``current``."""
    sources, target = _TRANSITIONS[action]
    if current not in sources:
        allowed = ", ".join(sorted(sources))
        raise InvalidTransition(f"cannot {action} an item that is {current} (only from: {allowed})")
    return target
