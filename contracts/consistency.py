"""Consistency tokens: read-your-writes between the write API and the search API.

A write response carries the WAL position of its commit as a token (PostgreSQL's LSN
text form, ``16/B374D848``). The pipeline records, per pipeline, the position below
which every commit has been applied to every sink (``pipeline_checkpoints.
applied_commit_lsn``); a search with ``min_version=<token>`` is fresh once that position
reaches the token.
"""

from __future__ import annotations

import re

from contracts.errors import ContractError

_LSN_TEXT = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


class InvalidConsistencyToken(ContractError, ValueError):
    """A ``min_version`` that is not a WAL position."""


def encode_token(lsn: int) -> str:
    if lsn < 0 or lsn >= 1 << 64:
        raise InvalidConsistencyToken(f"LSN out of range: {lsn}")
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_token(token: str) -> int:
    match = _LSN_TEXT.match(token.strip())
    if match is None:
        raise InvalidConsistencyToken("expected a WAL position such as '0/16B3748'")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)
