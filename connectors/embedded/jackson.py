"""JSON bytes as Kafka Connect's ``JsonConverter`` (schemas off) writes them through Jackson.

Compact (no spaces), non-ASCII characters kept as UTF-8, Jackson's escapes (``\\uXXXX``
with upper-case hex for other control characters) and Java's ``Double.toString`` for
floats (``1.0E-7``, ``1.0E7``, ``0.5``). Written by hand because neither ``json`` nor
``orjson`` spells floats or control characters the way Jackson does.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\f": "\\f", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or f"\\u{ord(char):04X}"


def quote(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return f'"{text}"'
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def java_double(value: float) -> str:
    """``Double.toString``: plain for 1e-3 <= |x| < 1e7, else ``d.dddE±n``; shortest digits."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    adjusted = len(digits) - 1 + exponent
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if adjusted >= 0:
            whole = digits[: adjusted + 1].ljust(adjusted + 1, "0")
            return f"{prefix}{whole}.{digits[adjusted + 1:] or '0'}"
        return f"{prefix}0.{'0' * (-adjusted - 1)}{digits}"
    return f"{prefix}{digits[0]}.{digits[1:] or '0'}E{adjusted}"


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(quote(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(java_double(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(quote(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    """``value`` as the UTF-8 JSON bytes Jackson would write."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("utf-8")
