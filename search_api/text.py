"""What a shopper typed, split into terms and phrases (pure).

Words are runs of letters and digits (any script); ``"..."`` groups words into a
phrase. Unless the text ends with a space or a closing quote, the last bare term is
still being typed and is matched as a prefix. An unclosed quote is read as if closed,
so no input is a syntax error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_TERMS = 16


@dataclass(frozen=True, slots=True)
class TextQuery:
    raw: str
    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    prefix_last: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.phrases

    @property
    def words(self) -> tuple[str, ...]:
        """Every word, terms and phrase words, for highlighting and suggestion."""
        return self.terms + tuple(w for phrase in self.phrases for w in phrase)


def parse_text(raw: str) -> TextQuery:
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for index, chunk in enumerate(raw.split('"')):
        words = [w.lower() for w in _WORD.findall(chunk.replace("_", " "))]
        if index % 2 == 1 and len(words) > 1:
            phrases.append(tuple(words))
        else:
            terms.extend(words)
    quoted_last = raw.count('"') % 2 == 1 or raw.rstrip().endswith('"')
    prefix_last = bool(terms) and not quoted_last and bool(raw) and not raw[-1].isspace() and _ends_with_term(raw)
    return TextQuery(raw=raw, terms=tuple(terms[:_MAX_TERMS]), phrases=tuple(phrases[:4]), prefix_last=prefix_last)


def _ends_with_term(raw: str) -> bool:
    return bool(raw) and (raw[-1].isalnum())


def typo_distance(term: str) -> int:
    """Edits allowed for a term: none up to 4 characters, one up to 8, two above."""
    if len(term) <= 4:
        return 0
    return 1 if len(term) <= 8 else 2
