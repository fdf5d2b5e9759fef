"""Opaque pagination cursors (pure).

A cursor for a field sort carries the last hit's sort key and id: the next page starts
strictly after ``(key, id)``, so ties never repeat or skip a hit and a write between
two pages shifts nothing already seen. Relevance has no stable key to resume from
(scores change as the index grows), so its cursor carries the next offset. Every
cursor also carries a hash of the query that made it and is refused with any other.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import orjson

from search_api.errors import InvalidQuery

SortValue = int | str | None
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Cursor:
    sort: str
    key: SortValue = None
    id: str | None = None
    offset: int = 0


def encode_cursor(fingerprint: str, cursor: Cursor) -> str:
    payload = [_VERSION, _digest(fingerprint), cursor.sort, cursor.key, cursor.id, cursor.offset]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(token: str, fingerprint: str, sort: str) -> Cursor:
    bad = InvalidQuery.at("cursor", "not a cursor from a previous page of this same query")
    if len(token) > 1024:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        version, digest, cursor_sort, key, last_id, offset = orjson.loads(raw)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise bad from None
    valid = (version == _VERSION and digest == _digest(fingerprint) and cursor_sort == sort
             and isinstance(key, (int, str, type(None))) and isinstance(last_id, (str, type(None)))
             and isinstance(offset, int) and offset >= 0 and not isinstance(key, bool))
    if not valid:
        raise bad
    return Cursor(sort=sort, key=key, id=last_id, offset=offset)


def _digest(fingerprint: str) -> str:
    return hashlib.blake2b(fingerprint.encode(), digest_size=8).hexdigest()
