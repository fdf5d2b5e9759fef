"""Column values in Debezium's JSON forms, for our connector settings.

Debezium 3.2 PostgreSQL connector with ``decimal.handling.mode=string``,
``time.precision.mode=adaptive``, ``binary.handling.mode=bytes``,
``interval.handling.mode=numeric``, ``hstore.handling.mode=json``,
``include.unknown.datatypes=false`` and Kafka's ``JsonConverter`` without schemas.
Each converter takes the text the type's output function produced and returns what a
JSON reader gets back from the Kafka message: ``bytes`` become base64 text, float
NaN/Infinity become the strings Jackson writes for them.

A column whose type Debezium has no schema for is left out of the event altogether;
:func:`converter_for` returns None for it.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import ValueConversionError
from .javafmt import (
    bigdecimal_to_plain_string,
    bigdecimal_to_string,
    format_time_of_day,
    format_utc_timestamp,
    jackson_quote,
    java_hashmap_order,
)
from .pgtext import (
    MICROS_PER_DAY,
    MICROS_PER_SECOND,
    ArrayItem,
    days_from_civil,
    parse_array,
    parse_bytea,
    parse_date,
    parse_hstore,
    parse_interval,
    parse_time,
    parse_timestamp,
    parse_timetz,
)
from .types import PgType, TypeRegistry, time_precision

UNAVAILABLE_VALUE = "__debezium_unavailable_value"

# PgStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY, which Debezium emits (as
# epoch micros, or millis for millisecond columns) for timestamp 'infinity'.
TIMESTAMP_POSITIVE_INFINITY_MICROS = 9_223_372_036_825_200_000
TIMESTAMP_NEGATIVE_INFINITY_MICROS = -9_223_372_036_832_400_000
# PostgresValueConverter.POSITIVE/NEGATIVE_INFINITY_LOCAL_DATE.
DATE_POSITIVE_INFINITY_DAYS = days_from_civil(-5_877_611, 6, 21)
DATE_NEGATIVE_INFINITY_DAYS = days_from_civil(-5_877_611, 6, 22)

# MicroDuration.DAYS_PER_MONTH_AVG
DAYS_PER_MONTH_AVG = 365.25 / 12.0

Convert = Callable[[str], Any]


@dataclass(frozen=True, slots=True)
class ColumnConverter:
    """How one column's values become Debezium JSON values.

    Parameters:
        kind: a short name of the Debezium representation (``int32``, ``zoned_timestamp``...).
        convert: text value → JSON value.
        placeholder: what Debezium emits for an unchanged TOASTed value it cannot fill in.
    """

    kind: str
    convert: Convert
    placeholder: Any = UNAVAILABLE_VALUE


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _text(value: str) -> str:
    return value


def _bool(value: str) -> bool:
    return value == "t"


def _float(value: str) -> float | str:
    # Jackson writes non-finite floats as the strings "NaN", "Infinity", "-Infinity".
    if value in ("NaN", "Infinity", "-Infinity"):
        return value
    return float(value)


_PLAIN_NUMERIC = re.compile(r"-?[1-9][0-9]*(?:\.[0-9]+)?")
_NUMERIC_SPECIAL = {"NaN": "NAN", "Infinity": "POSITIVE_INFINITY", "-Infinity": "NEGATIVE_INFINITY"}


def _numeric(value: str) -> str:
    # Fast path (the hot one in bulk writes): numeric's output has no exponent, so a value
    # of magnitude >= 1 is already spelled as BigDecimal.toString() spells it.
    if _PLAIN_NUMERIC.fullmatch(value) is not None:
        return value
    special = _NUMERIC_SPECIAL.get(value)
    if special is not None:
        return special
    try:
        return bigdecimal_to_string(Decimal(value))
    except InvalidOperation as exc:
        raise ValueConversionError(f"not a numeric: {value!r}") from exc


def _money(value: str) -> str:
    negative = value.startswith("-") or value.startswith("(")
    digits = "".join(ch for ch in value if ch.isdigit() or ch == ".")
    try:
        amount = Decimal(digits)
    except InvalidOperation as exc:
        raise ValueConversionError(f"not a money value: {value!r}") from exc
    return bigdecimal_to_plain_string(-amount if negative else amount)


def _bytea(value: str) -> str:
    return _b64(parse_bytea(value))


def _date(value: str) -> int:
    if value == "infinity":
        return DATE_POSITIVE_INFINITY_DAYS
    if value == "-infinity":
        return DATE_NEGATIVE_INFINITY_DAYS
    return parse_date(value)


def _time_micros(value: str) -> int:
    return parse_time(value)


def _time_millis(value: str) -> int:
    return parse_time(value) // 1000


def _timetz(value: str) -> str:
    local, offset = parse_timetz(value)
    utc = (local - offset * MICROS_PER_SECOND) % MICROS_PER_DAY
    return format_time_of_day(utc) + "Z"


def _timestamp_micros(value: str) -> int:
    if value == "infinity":
        return TIMESTAMP_POSITIVE_INFINITY_MICROS
    if value == "-infinity":
        return TIMESTAMP_NEGATIVE_INFINITY_MICROS
    return parse_timestamp(value)


def _timestamp_millis(value: str) -> int:
    return _timestamp_micros(value) // 1000


def _timestamptz(width: int | None) -> Convert:
    # The last value converted and its result: every row a transaction writes with now()
    # carries the same timestamp, so bulk writes mostly repeat it. One tuple, replaced
    # whole, so a converter shared between threads at worst misses.
    last = [("", "")]

    def convert(value: str) -> str:
        seen, result = last[0]
        if value == seen:
            return result
        result = _respell_timestamptz(value, width)
        last[0] = (value, result)
        return result

    return convert


def _respell_timestamptz(value: str, width: int | None) -> str:
    # Fast path: sessions run with TimeZone=UTC, so a four-digit AD year comes as
    # 'YYYY-MM-DD HH:MM:SS[.ffffff]+00' and only needs respelling.
    if len(value) >= 22 and value[-3:] == "+00" and value[10] == " " and value[4] == "-":
        fraction = value[20:-3] if value[19] == "." else ""
        if width is None:
            fraction = fraction.rstrip("0")
            tail = f".{fraction}Z" if fraction else "Z"
        else:
            tail = "." + (fraction + "000000000")[:width] + "Z"
        return f"{value[:10]}T{value[11:19]}{tail}"
    if value in ("infinity", "-infinity"):
        return value
    return format_utc_timestamp(parse_timestamp(value), width)


def _interval(value: str) -> int:
    parts = parse_interval(value)
    # MicroDuration.durationMicros in double arithmetic, then a (long) cast.
    days = (parts.years * 12 + parts.months) * DAYS_PER_MONTH_AVG + parts.days
    seconds = ((days * 24 + parts.hours) * 60 + parts.minutes) * 60 + parts.seconds
    return int(seconds * 1e6)


def _bits(length: int) -> Convert:
    if length == 1:
        return lambda value: int(value, 2) != 0

    def convert(value: str) -> str:
        # PostgresValueConverter builds a BitSet from the string (last char is bit 0) and
        # emits BitSet.toByteArray(): little-endian, as many bytes as the highest set bit needs.
        number = int(value, 2) if value else 0
        return _b64(number.to_bytes((number.bit_length() + 7) // 8, "little"))

    return convert


def _point(value: str) -> dict[str, Any]:
    try:
        x_text, y_text = value.strip("()").split(",")
        x, y = float(x_text), float(y_text)
    except ValueError as exc:
        raise ValueConversionError(f"not a point: {value!r}") from exc
    wkb = struct.pack("<BIdd", 1, 1, x, y)
    return {"x": x, "y": y, "wkb": _b64(wkb), "srid": None}


def _hstore(value: str) -> str:
    pairs = parse_hstore(value)
    latest: dict[str, str | None] = {}
    for key, item in pairs:
        latest[key] = item
    keys = list(latest)
    ordered = java_hashmap_order(keys, keys)
    fields = (f"{jackson_quote(k)}:{'null' if latest[k] is None else jackson_quote(str(latest[k]))}" for k in ordered)
    return "{" + ",".join(fields) + "}"


def _vector(value: str) -> list[float]:
    inner = value.strip("[]")
    return [float(item) for item in inner.split(",")] if inner else []


_SCALARS: dict[int, tuple[str, Convert]] = {
    16: ("boolean", _bool),
    17: ("bytes", _bytea),
    18: ("string", _text),  # "char"
    19: ("string", _text),  # name
    20: ("int64", int),
    21: ("int16", int),
    23: ("int32", int),
    25: ("string", _text),
    26: ("int64", int),  # oid
    114: ("json", _text),
    142: ("xml", _text),
    600: ("point", _point),
    650: ("string", _text),  # cidr
    700: ("float32", _float),
    701: ("float64", _float),
    774: ("string", _text),  # macaddr8
    790: ("money", _money),
    829: ("string", _text),  # macaddr
    869: ("string", _text),  # inet
    1042: ("string", _text),  # bpchar keeps its padding
    1043: ("string", _text),
    1082: ("date", _date),
    1186: ("micro_duration", _interval),
    1266: ("zoned_time", _timetz),
    1700: ("decimal_string", _numeric),
    2950: ("uuid", _text),
    3614: ("tsvector", _text),
    3802: ("json", _text),
    3904: ("string", _text),  # int4range
    3906: ("string", _text),  # numrange
    3908: ("string", _text),  # tsrange
    3910: ("string", _text),  # tstzrange
    3912: ("string", _text),  # daterange
    3926: ("string", _text),  # int8range
}

# Array types PostgresValueConverter deliberately gives no schema (DBZ-459): money[],
# name[], interval[], varbit[], xml[], point[], refcursor[]. Such columns are left out.
_UNSUPPORTED_ARRAYS = frozenset({791, 1003, 1187, 1563, 143, 1017, 2201})

_EXTENSION_STRINGS = frozenset({"citext", "ltree", "isbn"})


def _temporal(pg_type: PgType, typmod: int) -> tuple[str, Convert] | None:
    precision = time_precision(typmod)
    if pg_type.oid == 1083:  # time
        return ("time_millis", _time_millis) if precision <= 3 else ("micro_time", _time_micros)
    if pg_type.oid == 1114:  # timestamp
        return ("timestamp_millis", _timestamp_millis) if precision <= 3 else ("micro_timestamp", _timestamp_micros)
    if pg_type.oid == 1184:  # timestamptz: ZonedTimestamp padded to the column's precision
        return "zoned_timestamp", _timestamptz(precision if 0 < precision <= 9 else None)
    if pg_type.oid in (1560, 1562):  # bit, varbit
        length = typmod if typmod > 0 else (1 if pg_type.oid == 1560 else 1 << 31)
        return ("boolean" if length == 1 else "bits"), _bits(length)
    return None


def _placeholder(kind: str) -> Any:
    if kind == "bytes":
        return _b64(UNAVAILABLE_VALUE.encode("utf-8"))
    if kind == "hstore":
        return "{" + f"{jackson_quote(UNAVAILABLE_VALUE)}:{jackson_quote(UNAVAILABLE_VALUE)}" + "}"
    return UNAVAILABLE_VALUE


def _scalar(pg_type: PgType, typmod: int) -> tuple[str, Convert] | None:
    found = _SCALARS.get(pg_type.oid) or _temporal(pg_type, typmod)
    if found is not None:
        return found
    if pg_type.is_enum:
        return "enum", _text
    if pg_type.name in _EXTENSION_STRINGS:
        return "string", _text
    if pg_type.name == "hstore":
        return "hstore", _hstore
    if pg_type.name in ("vector", "halfvec"):
        return "vector", _vector
    return None


def converter_for(pg_type: PgType, typmod: int, registry: TypeRegistry) -> ColumnConverter | None:
    """The converter for a column of this type, or None when Debezium would omit the column."""
    pg_type, typmod = registry.resolve(pg_type.oid, typmod)
    if pg_type.is_array:
        if pg_type.oid in _UNSUPPORTED_ARRAYS:
            return None
        element_type, element_typmod = registry.resolve(pg_type.element_oid, typmod)
        element = _scalar(element_type, element_typmod)
        if element is None:
            return None
        kind, convert = element
        delimiter = element_type.delimiter
        return ColumnConverter(
            kind=f"array<{kind}>",
            convert=lambda value: _convert_items(parse_array(value, delimiter), convert),
            placeholder=[_placeholder(kind)],
        )
    scalar = _scalar(pg_type, typmod)
    if scalar is None:
        return None
    kind, convert = scalar
    return ColumnConverter(kind=kind, convert=convert, placeholder=_placeholder(kind))


def _convert_items(items: list[ArrayItem], convert: Convert) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item is None:
            out.append(None)
        elif isinstance(item, list):
            out.append(_convert_items(item, convert))
        else:
            out.append(convert(item))
    return out
