"""Parsers for PostgreSQL's text output formats.

Values arrive as the type's output function renders them under the session settings
the connector fixes on every connection it opens (``DateStyle=ISO``,
``IntervalStyle=postgres``, ``TimeZone=UTC``, ``bytea_output=hex``,
``extra_float_digits=3``). Dates are proleptic Gregorian with astronomical year
numbering here (1 BC is year 0), as ``java.time`` counts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .errors import ValueConversionError

MICROS_PER_SECOND = 1_000_000
MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND

_DATE = re.compile(r"^(\d{4,})-(\d{2})-(\d{2})( BC)?$")
_TIME = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")
_TIMETZ = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$")
_TIMESTAMP = re.compile(
    r"^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?"
    r"(?:([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?)?( BC)?$"
)


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (astronomical year)."""
    # Howard Hinnant's algorithm; exact for any year, unlike datetime.date.
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """The proleptic Gregorian (year, month, day) of a day count since 1970-01-01."""
    days += 719_468
    era = days // 146_097
    doe = days - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def _fraction_micros(fraction: str | None) -> int:
    return int(fraction.ljust(6, "0")) if fraction else 0


def _year(digits: str, bc: str | None) -> int:
    year = int(digits)
    return 1 - year if bc else year


def parse_date(text: str) -> int:
    """``'2016-11-04'`` or ``'0044-03-15 BC'`` → days since the Unix epoch."""
    match = _DATE.match(text)
    if match is None:
        raise ValueConversionError(f"not a date: {text!r}")
    return days_from_civil(_year(match[1], match[4]), int(match[2]), int(match[3]))


def parse_time(text: str) -> int:
    """``'13:51:30.123'`` → microseconds past midnight (``24:00:00`` is a whole day)."""
    match = _TIME.match(text)
    if match is None:
        raise ValueConversionError(f"not a time: {text!r}")
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3])
    return ((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND + _fraction_micros(match[4])


def _offset_seconds(sign: str | None, hours: str | None, minutes: str | None, seconds: str | None) -> int:
    if sign is None or hours is None:
        return 0
    total = int(hours) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
    return -total if sign == "-" else total


def parse_timetz(text: str) -> tuple[int, int]:
    """``'13:51:30.123789+02'`` → (micros past midnight local, offset in seconds)."""
    match = _TIMETZ.match(text)
    if match is None:
        raise ValueConversionError(f"not a time with time zone: {text!r}")
    local = parse_time(text[: match.start(5)])
    return local, _offset_seconds(match[5], match[6], match[7], match[8])


def parse_timestamp(text: str) -> int:
    """A ``timestamp`` or ``timestamptz`` value → microseconds since the epoch (UTC)."""
    match = _TIMESTAMP.match(text)
    if match is None:
        raise ValueConversionError(f"not a timestamp: {text!r}")
    days = days_from_civil(_year(match[1], match[12]), int(match[2]), int(match[3]))
    seconds = (int(match[4]) * 60 + int(match[5])) * 60 + int(match[6])
    offset = _offset_seconds(match[8], match[9], match[10], match[11])
    return days * MICROS_PER_DAY + (seconds - offset) * MICROS_PER_SECOND + _fraction_micros(match[7])


def parse_bytea(text: str) -> bytes:
    """``'\\x0102'`` (hex output) → bytes; the legacy escape format is accepted too."""
    if text.startswith("\\x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError as exc:
            raise ValueConversionError(f"not hex bytea: {text[:40]!r}") from exc
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        if raw[i] == 0x5C and raw[i + 1 : i + 2] == b"\\":
            out.append(0x5C)
            i += 2
        elif raw[i] == 0x5C:
            out.append(int(raw[i + 1 : i + 4], 8))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


@dataclass(frozen=True, slots=True)
class IntervalParts:
    """An interval as pgjdbc's ``PGInterval`` holds it (seconds split into whole and micros)."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    whole_seconds: int = 0
    micro_seconds: int = 0

    @property
    def seconds(self) -> float:
        # PGInterval.getSeconds(): wholeSeconds + (double) microSeconds / 1_000_000
        return self.whole_seconds + self.micro_seconds / 1_000_000


def _split_seconds(text: str) -> tuple[int, int]:
    try:
        total = Decimal(text) * MICROS_PER_SECOND
    except InvalidOperation as exc:
        raise ValueConversionError(f"not a number of seconds: {text!r}") from exc
    micros = int(total.to_integral_value())
    whole = micros // MICROS_PER_SECOND if micros >= 0 else -((-micros) // MICROS_PER_SECOND)
    return whole, micros - whole * MICROS_PER_SECOND


def parse_interval(text: str) -> IntervalParts:
    """An ``interval`` in the ``postgres`` IntervalStyle, read the way pgjdbc's PGInterval reads it."""
    years = months = days = hours = minutes = 0
    seconds_text = "0"
    value_token: str | None = None
    tokens = text.replace("+", " ").lower().split()
    try:
        for index, token in enumerate(tokens, start=1):
            if index % 2 == 1:
                if ":" not in token:
                    value_token = token
                    continue
                negative = token.startswith("-")
                parts = token.lstrip("-").split(":")
                hours, minutes = int(parts[0]), int(parts[1])
                seconds_text = parts[2] if len(parts) > 2 else "0"
                if negative:
                    hours, minutes, seconds_text = -hours, -minutes, "-" + seconds_text
                value_token = None
            elif value_token is not None:
                if token.startswith("year"):
                    years = int(value_token)
                elif token.startswith("mon"):
                    months = int(value_token)
                elif token.startswith("day"):
                    days = int(value_token)
                elif token.startswith("hour"):
                    hours = int(value_token)
                elif token.startswith("min"):
                    minutes = int(value_token)
                elif token.startswith("sec"):
                    seconds_text = value_token
    except ValueError as exc:
        raise ValueConversionError(f"not an interval: {text!r}") from exc
    whole, micros = _split_seconds(seconds_text)
    return IntervalParts(years, months, days, hours, minutes, whole, micros)


ArrayItem = str | None | list["ArrayItem"]


def parse_array(text: str, delimiter: str = ",") -> list[ArrayItem]:
    """PostgreSQL array text (``{1,"a b",NULL,{2,3}}``) → nested lists of element texts."""
    start = text.find("={") + 1 if text.startswith("[") else 0
    if text[start : start + 1] != "{":
        raise ValueConversionError(f"not an array: {text[:40]!r}")
    try:
        items, end = _parse_array_level(text, start + 1, delimiter)
    except IndexError:
        raise ValueConversionError(f"unterminated array: {text[:40]!r}") from None
    if end != len(text):
        raise ValueConversionError(f"trailing characters after array: {text[:40]!r}")
    return items


def _parse_array_level(text: str, pos: int, delimiter: str) -> tuple[list[ArrayItem], int]:
    items: list[ArrayItem] = []
    length = len(text)
    if text[pos : pos + 1] == "}":
        return items, pos + 1
    while pos < length:
        char = text[pos]
        if char == "{":
            nested, pos = _parse_array_level(text, pos + 1, delimiter)
            items.append(nested)
        elif char == '"':
            chunk: list[str] = []
            pos += 1
            while text[pos] != '"':
                if text[pos] == "\\":
                    pos += 1
                chunk.append(text[pos])
                pos += 1
            items.append("".join(chunk))
            pos += 1
        else:
            end = pos
            while text[end] != delimiter and text[end] != "}":
                end += 1
            token = text[pos:end].strip()
            items.append(None if token == "NULL" else token)
            pos = end
        if pos >= length:
            break
        if text[pos] == delimiter:
            pos += 1
        elif text[pos] == "}":
            return items, pos + 1
    raise ValueConversionError(f"unterminated array: {text[:40]!r}")


def parse_hstore(text: str) -> list[tuple[str, str | None]]:
    """``"a"=>"1", "b"=>NULL`` → pairs in text order."""
    pairs: list[tuple[str, str | None]] = []
    pos, length = 0, len(text)

    def quoted(at: int) -> tuple[str, int]:
        chunk: list[str] = []
        at += 1
        while text[at] != '"':
            if text[at] == "\\":
                at += 1
            chunk.append(text[at])
            at += 1
        return "".join(chunk), at + 1

    while pos < length:
        if text[pos] in " ,":
            pos += 1
            continue
        key, pos = quoted(pos)
        pos = text.index("=>", pos) + 2
        while text[pos] == " ":
            pos += 1
        if text.startswith("NULL", pos):
            pairs.append((key, None))
            pos += 4
        else:
            value, pos = quoted(pos)
            pairs.append((key, value))
    return pairs
