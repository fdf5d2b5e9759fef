"""Java formatting rules that Debezium's output depends on, reproduced exactly.

Debezium runs on the JVM, so several of its values are spelled by Java library code:
``BigDecimal.toString()`` for decimals in ``string`` mode, ``java.time`` ISO formatters
for zoned times and timestamps, ``HashMap`` iteration order for per-table counts and
hstore maps, and Jackson's string escaping for JSON built by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TypeVar

from .pgtext import MICROS_PER_DAY, MICROS_PER_SECOND, civil_from_days

T = TypeVar("T")


def bigdecimal_to_string(value: Decimal) -> str:
    """``java.math.BigDecimal.toString()`` of a finite decimal (scientific form when the
    scale is negative or the adjusted exponent is below -6)."""
    sign, digits_tuple, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite decimal: {value}")
    digits = "".join(map(str, digits_tuple)).lstrip("0") or "0"
    scale = -exponent
    adjusted = -scale + (len(digits) - 1)
    prefix = "-" if sign and digits != "0" else ""
    if scale >= 0 and adjusted >= -6:
        if scale == 0:
            return prefix + digits
        if len(digits) > scale:
            return f"{prefix}{digits[:-scale]}.{digits[-scale:]}"
        return f"{prefix}0.{digits.rjust(scale, '0')}"
    mantissa = digits if len(digits) == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{prefix}{mantissa}E{'+' if adjusted > 0 else ''}{adjusted}"


def bigdecimal_to_plain_string(value: Decimal) -> str:
    """``java.math.BigDecimal.toPlainString()``."""
    sign, digits_tuple, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite decimal: {value}")
    digits = "".join(map(str, digits_tuple)).lstrip("0") or "0"
    prefix = "-" if sign and digits != "0" else ""
    if exponent >= 0:
        return prefix + digits + "0" * exponent if digits != "0" else "0"
    scale = -exponent
    if len(digits) > scale:
        return f"{prefix}{digits[:-scale]}.{digits[-scale:]}"
    return f"{prefix}0.{digits.rjust(scale, '0')}"


def iso_year(year: int) -> str:
    """``ISO_LOCAL_DATE``'s year: four digits at least, '+' beyond 9999, '-' before year 0."""
    if year > 9999:
        return f"+{year}"
    if year < 0:
        return f"-{-year:04d}"
    return f"{year:04d}"


def _fraction(nanos: int, width: int | None) -> str:
    if width is None:
        if nanos == 0:
            return ""
        return "." + f"{nanos:09d}".rstrip("0")
    return "." + f"{nanos:09d}"[:width]


def format_time_of_day(micros: int, width: int | None = None) -> str:
    """``HH:mm:ss`` and a fraction: minimal digits (``ISO_LOCAL_TIME``) or exactly ``width``."""
    seconds, micro = divmod(micros, MICROS_PER_SECOND)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour:02d}:{minute:02d}:{second:02d}{_fraction(micro * 1000, width)}"


def format_utc_timestamp(epoch_micros: int, width: int | None = None) -> str:
    """An instant as ``ZonedTimestamp`` renders it at UTC: ``2016-11-04T11:51:30.123456Z``.

    ``width`` None is ``ISO_OFFSET_DATE_TIME`` (minimal fraction); 1..9 pads or cuts
    the fraction to exactly that many digits, as Debezium does for a column's precision.
    """
    days, micros = divmod(epoch_micros, MICROS_PER_DAY)
    year, month, day = civil_from_days(days)
    return f"{iso_year(year)}-{month:02d}-{day:02d}T{format_time_of_day(micros, width)}Z"


def java_string_hash(text: str) -> int:
    """``String.hashCode()``: over UTF-16 code units, 32-bit signed arithmetic."""
    value = 0
    for unit in _utf16_units(text):
        value = (31 * value + unit) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _utf16_units(text: str) -> Iterable[int]:
    for char in text:
        code = ord(char)
        if code < 0x10000:
            yield code
        else:
            code -= 0x10000
            yield 0xD800 + (code >> 10)
            yield 0xDC00 + (code & 0x3FF)


def java_hashmap_order(keys: Sequence[T], key_text: Sequence[str]) -> list[T]:
    """The iteration order of a ``java.util.HashMap`` whose String keys were put in this order.

    Buckets come in index order; keys sharing a bucket keep insertion order (resizes
    split buckets without reordering). ``key_text[i]`` is the String form of ``keys[i]``.
    """
    capacity = 16
    while len(keys) > capacity * 3 // 4:
        capacity *= 2
    positions = []
    for index, text in enumerate(key_text):
        h = java_string_hash(text) & 0xFFFFFFFF
        spread = h ^ (h >> 16)
        positions.append((spread & (capacity - 1), index))
    return [keys[index] for _, index in sorted(positions)]


_JACKSON_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\f": "\\f", "\n": "\\n", "\r": "\\r"}


def jackson_quote(text: str) -> str:
    """A JSON string literal as Jackson's default generator writes it (non-ASCII kept)."""
    out = ['"']
    for char in text:
        escaped = _JACKSON_SHORT_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
