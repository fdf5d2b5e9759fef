"""API keys shared by the write API (which issues them) and the search API (which checks them).

A key reads ``rtk_<kind>_<prefix>_<secret>``: ``kind`` is ``int`` (integration),
``pub`` (public search) or ``adm`` (admin search); ``prefix`` is 12 characters stored
in clear and unique, so a key is found with one indexed lookup; ``secret`` is 32 random
URL-safe characters. Only the SHA-256 of the whole key is stored: the key has 190 bits
of entropy, so a slow password hash would add latency to every request and no safety.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from contracts.errors import ContractError

ApiKeyKind = Literal["integration", "search_public", "search_admin"]

_KIND_CODES: dict[str, ApiKeyKind] = {"int": "integration", "pub": "search_public", "adm": "search_admin"}
_CODE_OF_KIND = {kind: code for code, kind in _KIND_CODES.items()}
_KEY_PATTERN = re.compile(r"^rtk_(int|pub|adm)_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{32})$")
_ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class InvalidApiKey(ContractError, ValueError):
    """A string that does not have the shape of a RusToK API key."""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly issued key: ``key`` is shown to its owner once; store ``prefix`` and ``key_hash``."""

    key: str
    kind: ApiKeyKind
    prefix: str
    key_hash: str


@dataclass(frozen=True, slots=True)
class PresentedKey:
    kind: ApiKeyKind
    prefix: str
    key_hash: str


def issue_api_key(kind: ApiKeyKind) -> IssuedKey:
    prefix = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(12))
    key = f"rtk_{_CODE_OF_KIND[kind]}_{prefix}_{secrets.token_urlsafe(24)}"
    return IssuedKey(key=key, kind=kind, prefix=prefix, key_hash=hash_api_key(key))


def parse_api_key(key: str) -> PresentedKey:
    """Split a presented key; raise InvalidApiKey (without echoing the key) if malformed."""
    match = _KEY_PATTERN.match(key.strip())
    if match is None:
        raise InvalidApiKey("not a RusToK API key")
    return PresentedKey(kind=_KIND_CODES[match.group(1)], prefix=match.group(2), key_hash=hash_api_key(key.strip()))


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(presented: PresentedKey, stored_hash: str) -> bool:
    return hmac.compare_digest(presented.key_hash, stored_hash)
