"""Log sequence numbers: PostgreSQL's ``X/Y`` text form and the integer Debezium emits."""

from __future__ import annotations

from .errors import ProtocolError


def parse_lsn(text: str) -> int:
    """``'16/B374D848'`` → 97500059720."""
    high, sep, low = text.partition("/")
    if not sep:
        raise ProtocolError(f"not an LSN: {text!r}")
    try:
        return (int(high, 16) << 32) | int(low, 16)
    except ValueError as exc:
        raise ProtocolError(f"not an LSN: {text!r}") from exc


def format_lsn(lsn: int) -> str:
    """97500059720 → ``'16/B374D848'``."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"
