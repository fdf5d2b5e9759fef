"""Highlighted snippets (pure), the same on every backend.

A word of the text is marked when it matches a query word the way search does:
equal, sharing the stem-like start (all but the last two letters of a longer word),
within the typo distance, or, for the word being typed, starting with it. The text is
HTML-escaped and matches wrapped in ``<mark>``; long fields are cut to a window
around the first match.
"""

from __future__ import annotations

import html
import re
from typing import Any

from search_api.text import TextQuery, typo_distance

_WORD = re.compile(r"\w+", re.UNICODE)
PRODUCT_FIELDS = ("title", "subtitle", "description")
CONTENT_FIELDS = ("title", "excerpt", "body_text")


def highlight_document(document: dict[str, Any], text: TextQuery, fields: tuple[str, ...],
                       max_chars: int = 160) -> dict[str, str]:
    out: dict[str, str] = {}
    if text.is_empty:
        return out
    for name in fields:
        value = document.get(name)
        if isinstance(value, str) and value:
            marked = highlight(value, text, max_chars)
            if marked is not None:
                out[name] = marked
    return out


def highlight(value: str, text: TextQuery, max_chars: int) -> str | None:
    spans = [m.span() for m in _WORD.finditer(value) if _matches(m.group().lower(), text)]
    if not spans:
        return None
    start = max(0, spans[0][0] - max_chars // 3) if len(value) > max_chars else 0
    end = min(len(value), start + max_chars)
    pieces, cursor = ["…" if start else ""], start
    for low, high in spans:
        if low < start or high > end:
            continue
        pieces += [html.escape(value[cursor:low]), "<mark>", html.escape(value[low:high]), "</mark>"]
        cursor = high
    pieces += [html.escape(value[cursor:end]), "…" if end < len(value) else ""]
    return "".join(pieces)


def _matches(word: str, text: TextQuery) -> bool:
    last = text.terms[-1] if text.prefix_last and text.terms else None
    for term in text.words:
        if word == term or (term == last and word.startswith(term)):
            return True
        stem = term[:-2] if len(term) > 5 else term
        if len(stem) >= 4 and word.startswith(stem):
            return True
        if typo_distance(term) and _within(word, term, typo_distance(term)):
            return True
    return False


def _within(a: str, b: str, limit: int) -> bool:
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit
