"""Slug, handle and reference rules shared by every module."""

from __future__ import annotations

import re
import unicodedata

from contracts.tenancy import SLUG_MAX, SLUG_RE

SLUG_MESSAGE = "must be lower-case letters, digits and single hyphens (e.g. 'summer-sale'), at most 128 characters"


def is_slug(value: str) -> bool:
    return len(value) <= SLUG_MAX and SLUG_RE.match(value) is not None


def slugify(text: str) -> str:
    """A slug from a title, for content teams that leave the slug out.

    Non-Latin titles keep their letters out of the slug (``SLUG_PATTERN`` is ASCII);
    an empty result means the caller must ask for an explicit slug.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def duplicates(values: list[str | None]) -> dict[int, str]:
    """Positions whose value already appeared earlier in the list (None never repeats)."""
    seen: set[str] = set()
    repeated: dict[int, str] = {}
    for position, value in enumerate(values):
        if value is None:
            continue
        if value in seen:
            repeated[position] = value
        seen.add(value)
    return repeated
