"""Column values in Debezium 3.2.7's JSON forms under RusToK's connector settings.

Expected values are Debezium's own where its test suite states them
(AbstractRecordsProducerTest: timestamps, zoned times, bits, numerics, arrays).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from connectors.embedded.errors import ValueConversionError
from connectors.embedded.javafmt import (
    bigdecimal_to_plain_string,
    bigdecimal_to_string,
    jackson_quote,
    java_hashmap_order,
    java_string_hash,
)
from connectors.embedded.pgtext import civil_from_days, days_from_civil, parse_array, parse_interval
from connectors.embedded.types import PgType, TypeRegistry
from connectors.embedded.values import UNAVAILABLE_VALUE, converter_for

BASE = [
    (16, "bool"), (17, "bytea"), (18, "char"), (19, "name"), (20, "int8"), (21, "int2"), (23, "int4"), (25, "text"),
    (26, "oid"), (114, "json"), (142, "xml"), (600, "point"), (650, "cidr"), (700, "float4"), (701, "float8"),
    (774, "macaddr8"), (790, "money"), (829, "macaddr"), (869, "inet"), (1042, "bpchar"), (1043, "varchar"),
    (1082, "date"), (1083, "time"), (1114, "timestamp"), (1184, "timestamptz"), (1186, "interval"), (1266, "timetz"),
    (1560, "bit"), (1562, "varbit"), (1700, "numeric"), (2950, "uuid"), (3614, "tsvector"), (3802, "jsonb"),
    (3904, "int4range"), (3912, "daterange"), (3220, "pg_lsn"), (3734, "regconfig"), (718, "circle"),
]
ARRAYS = [(1000, 16), (1001, 17), (1007, 23), (1009, 25), (1014, 1042), (1016, 20), (1115, 1114), (1182, 1082),
          (1185, 1184), (1231, 1700), (2951, 2950), (3807, 3802), (1187, 1186), (791, 790), (1040, 829)]
REGISTRY = TypeRegistry(
    [PgType(oid, name) for oid, name in BASE]
    + [PgType(oid, "_" + str(elem), category="A", element_oid=elem) for oid, elem in ARRAYS]
    + [
        PgType(90001, "mood", namespace="public", typtype="e", category="E", enum_labels=("sad", "happy")),
        PgType(90002, "positive_int", namespace="public", typtype="d", category="N", base_oid=23),
        PgType(90003, "_mood", namespace="public", category="A", element_oid=90001),
        PgType(90004, "short_ts", namespace="public", typtype="d", base_oid=1114, base_typmod=3),
        PgType(90005, "citext", namespace="public"),
        PgType(90006, "hstore", namespace="public"),
        PgType(90007, "vector", namespace="public"),
        PgType(90008, "composite", namespace="public", typtype="c", category="C"),
    ]
)


def convert(oid: int, text: str, typmod: int = -1) -> Any:
    converter = converter_for(REGISTRY.get(oid), typmod, REGISTRY)
    assert converter is not None, f"no converter for {oid}"
    return converter.convert(text)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- numbers and booleans ------------------------------------------------------------


def test_booleans_and_integers_including_the_extremes() -> None:
    assert convert(16, "t") is True and convert(16, "f") is False
    assert convert(21, "-32768") == -32768
    assert convert(23, "2147483647") == 2147483647
    assert convert(20, "9223372036854775807") == 9223372036854775807
    assert convert(20, "-9223372036854775808") == -9223372036854775808
    assert convert(26, "4000000000") == 4000000000


def test_floats_parse_and_non_finite_values_come_out_as_jacksons_strings() -> None:
    assert convert(700, "3.3") == 3.3
    assert convert(701, "4.44") == 4.44
    assert convert(701, "1e+308") == 1e308
    assert convert(700, "-0") == 0.0
    assert [convert(701, v) for v in ("NaN", "Infinity", "-Infinity")] == ["NaN", "Infinity", "-Infinity"]
    assert convert(700, "NaN") == "NaN"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.10", "1.10"),
        ("22.2200", "22.2200"),
        ("10", "10"),
        ("-12.5", "-12.5"),
        ("0.000001", "0.000001"),
        ("0.0000001", "1E-7"),  # BigDecimal.toString switches to scientific below 1E-6
        ("0.00000012", "1.2E-7"),
        ("0.00000000", "0E-8"),
        ("-0.0000001230", "-1.230E-7"),
        ("12345678901234567890123456789.123456789", "12345678901234567890123456789.123456789"),
        ("NaN", "NAN"),  # SpecialValueDecimal names
        ("Infinity", "POSITIVE_INFINITY"),
        ("-Infinity", "NEGATIVE_INFINITY"),
    ],
)
def test_numeric_in_string_mode_is_java_bigdecimal_to_string(text: str, expected: str) -> None:
    assert convert(1700, text) == expected


def test_money_in_string_mode_is_a_plain_decimal() -> None:
    assert convert(790, "$1,234.11") == "1234.11"
    assert convert(790, "-$1,234.11") == "-1234.11"
    assert convert(790, "$0.00") == "0.00"


# -- strings -------------------------------------------------------------------------


@pytest.mark.parametrize("oid", [25, 1043, 19, 18, 142, 2950, 114, 3802, 869, 650, 829, 774, 3614, 3904, 3912])
def test_string_like_types_pass_through_as_postgresql_renders_them(oid: int) -> None:
    for text in ("", "plain", "žš ✓ 🚀", "x" * 100_000, "line\nbreak\t\"quoted\""):
        assert convert(oid, text) == text


def test_bpchar_keeps_its_padding_and_jsonb_is_the_normalized_text() -> None:
    assert convert(1042, "ab  ") == "ab  "
    assert convert(3802, '{"bar": "baz"}') == '{"bar": "baz"}'


def test_enums_domains_and_extension_strings() -> None:
    assert convert(90001, "happy") == "happy"
    assert convert(90002, "42") == 42
    assert convert(90005, "MiXeD") == "MiXeD"


# -- binary and bits -----------------------------------------------------------------


def test_bytea_is_base64_of_the_bytes() -> None:
    assert convert(17, "\\x010203") == "AQID"
    assert convert(17, "\\x") == ""
    assert convert(17, "\\x" + "ff" * 3000) == b64(b"\xff" * 3000)


def test_bits_follow_debeziums_little_endian_bitset_encoding() -> None:
    assert convert(1560, "1", typmod=1) is True
    assert convert(1560, "0", typmod=1) is False
    assert convert(1560, "11", typmod=2) == b64(bytes([3]))
    assert convert(1560, "00", typmod=2) == b64(b"")
    assert convert(1560, "1000000", typmod=7) == b64(bytes([64]))
    assert convert(1560, "000000110000001000000001", typmod=24) == b64(bytes([1, 2, 3]))
    assert convert(1560, "1" + "0" * 63, typmod=64) == b64(bytes([0, 0, 0, 0, 0, 0, 0, 128]))
    assert convert(1562, "111011010001000110000001000000001") == b64(bytes([1, 2, 35, 218, 1]))


# -- dates and times -----------------------------------------------------------------


def test_dates_are_days_since_the_epoch_including_bc_and_infinity() -> None:
    assert convert(1082, "1970-01-01") == 0
    assert convert(1082, "2016-11-04") == 17109
    assert convert(1082, "1969-12-31") == -1
    assert convert(1082, "1900-03-01") == -25508
    assert convert(1082, "0001-01-01") == -719162
    assert convert(1082, "0001-01-01 BC") == -719528  # year 0 in java.time
    assert convert(1082, "4714-11-24 BC") == days_from_civil(-4713, 11, 24)
    assert convert(1082, "infinity") == days_from_civil(-5877611, 6, 21)


def test_time_is_micros_or_millis_past_midnight_by_precision() -> None:
    assert convert(1083, "13:51:30") == 49_890_000_000
    assert convert(1083, "13:51:30.123456") == 49_890_123_456
    assert convert(1083, "13:51:30.123", typmod=3) == 49_890_123
    assert convert(1083, "24:00:00") == 86_400_000_000
    assert convert(1083, "00:00:00") == 0


def test_timetz_is_an_iso_string_at_utc_with_minimal_fraction() -> None:
    assert convert(1266, "13:51:30.123789+02") == "11:51:30.123789Z"
    assert convert(1266, "13:51:30.123+02", typmod=3) == "11:51:30.123Z"
    assert convert(1266, "01:00:00+02") == "23:00:00Z"
    assert convert(1266, "23:30:00-05:30") == "05:00:00Z"
    assert convert(1266, "12:00:00.5+00") == "12:00:00.5Z"


def test_timestamp_is_micros_since_epoch_or_millis_at_precision_three_or_less() -> None:
    assert convert(1114, "2016-11-04 13:51:30.123456") == 1_478_267_490_123_456
    assert convert(1114, "2016-11-04 13:51:30.123", typmod=3) == 1_478_267_490_123
    assert convert(1114, "2016-11-04 13:51:30", typmod=0) == 1_478_267_490_000
    assert convert(1114, "1936-10-25 22:10:12.608") == -1_047_174_587_392_000
    assert convert(1114, "1969-12-31 23:59:59.999999") == -1
    assert convert(1114, "294247-01-01 23:59:59.999999") == 9_223_371_331_200_000_000 - 1
    assert convert(1114, "21016-11-04 13:51:30.123457") == 601_060_312_290_123_457
    assert convert(1114, "infinity") == 9_223_372_036_825_200_000
    assert convert(1114, "-infinity") == -9_223_372_036_832_400_000
    assert convert(1114, "infinity", typmod=3) == 9_223_372_036_825_200
    assert convert(90004, "2016-11-04 13:51:30.123") == 1_478_267_490_123  # domain typmod applies


def test_timestamptz_is_zoned_timestamp_padded_to_the_column_precision() -> None:
    assert convert(1184, "2016-11-04 11:51:30.123456+00") == "2016-11-04T11:51:30.123456Z"
    assert convert(1184, "2016-11-04 13:51:30.12+02") == "2016-11-04T11:51:30.120000Z"
    assert convert(1184, "21016-11-04 06:51:30+00") == "+21016-11-04T06:51:30.000000Z"
    assert convert(1184, "294247-01-01 23:59:59.999999+00") == "+294247-01-01T23:59:59.999999Z"
    assert convert(1184, "4714-12-31 23:59:59.999999+00 BC") == "-4713-12-31T23:59:59.999999Z"
    assert convert(1184, "2016-11-04 11:51:30.1+00", typmod=3) == "2016-11-04T11:51:30.100Z"
    assert convert(1184, "2016-11-04 11:51:30+00", typmod=0) == "2016-11-04T11:51:30Z"
    assert convert(1184, "1969-12-31 23:59:59.5+00") == "1969-12-31T23:59:59.500000Z"
    assert convert(1184, "infinity") == "infinity" and convert(1184, "-infinity") == "-infinity"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 year 2 mons 3 days 04:05:06.78", 37_091_106_780_000),  # MicroDuration with 365.25/12 days a month
        ("00:00:00", 0),
        ("1 day", 86_400_000_000),
        ("-1 days +02:03:00", -79_020_000_000),
        ("-00:00:01.5", -1_500_000),
        ("1 mon", 2_629_800_000_000),
        ("-1 years -2 mons", -36_817_200_000_000),
        ("100 years", 3_155_760_000_000_000),
    ],
)
def test_interval_is_micro_duration_in_double_arithmetic(text: str, expected: int) -> None:
    assert convert(1186, text) == expected


def test_interval_text_is_read_like_pgjdbc_reads_it() -> None:
    parts = parse_interval("-1 years -2 mons +3 days -04:05:06.789")
    assert (parts.years, parts.months, parts.days, parts.hours, parts.minutes) == (-1, -2, 3, -4, -5)
    assert (parts.whole_seconds, parts.micro_seconds) == (-6, -789000)


# -- arrays and composites -----------------------------------------------------------


def test_arrays_convert_each_element_and_keep_nulls() -> None:
    assert convert(1007, "{1,2,3}") == [1, 2, 3]
    assert convert(1016, "{1550166368505037572}") == [1550166368505037572]
    assert convert(1009, '{one,"two, three","with \\"quote\\"",NULL,"NULL",""}') == [
        "one", "two, three", 'with "quote"', None, "NULL", ""
    ]
    assert convert(1014, '{"cone      ","ctwo      "}') == ["cone      ", "ctwo      "]
    assert convert(1182, "{2016-11-04,2016-11-05}") == [17109, 17110]
    assert convert(1185, '{"2020-04-01 11:51:02+00","2020-04-01 12:51:03+00"}') == [
        "2020-04-01T11:51:02.000000Z", "2020-04-01T12:51:03.000000Z"
    ]
    assert convert(1231, "{1.20,3.40}") == ["1.20", "3.40"]
    assert convert(1001, '{"\\\\x000102","\\\\x030405"}') == ["AAEC", "AwQF"]
    assert convert(3807, '{"{\\"bar\\": \\"baz\\"}"}') == ['{"bar": "baz"}']
    assert convert(90003, "{sad,happy}") == ["sad", "happy"]
    assert convert(1007, "{}") == []
    assert convert(1007, "{{1,2},{3,4}}") == [[1, 2], [3, 4]]
    assert convert(1007, "[0:1]={5,6}") == [5, 6]


def test_types_without_a_debezium_schema_are_left_out() -> None:
    for oid in (3220, 3734, 718, 90008, 1187, 791):  # pg_lsn, regconfig, circle, composite, interval[], money[]
        assert converter_for(REGISTRY.get(oid), -1, REGISTRY) is None
    assert converter_for(REGISTRY.get(1040), -1, REGISTRY) is not None  # macaddr[] is supported


def test_point_is_debeziums_geometry_struct() -> None:
    assert convert(600, "(1,1)") == {"x": 1.0, "y": 1.0, "wkb": "AQEAAAAAAAAAAADwPwAAAAAAAPA/", "srid": None}


def test_hstore_is_json_text_in_java_hashmap_order() -> None:
    assert convert(90006, '"key"=>"val"') == '{"key":"val"}'
    assert convert(90006, '"key1"=>"val1", "key2"=>NULL') == '{"key1":"val1","key2":null}'
    assert convert(90006, '"key_#1"=>"val 1", "key 2"=>" ##123 78"') == '{"key_#1":"val 1","key 2":" ##123 78"}'
    assert convert(90006, '"key5"=>NULL, "key4"=>"val4"') == '{"key5":null,"key4":"val4"}'


def test_vectors_are_lists_of_doubles() -> None:
    assert convert(90007, "[1,2.5,-3]") == [1.0, 2.5, -3.0]


def test_unchanged_toast_placeholders_match_the_column_kind() -> None:
    def placeholder(oid: int) -> Any:
        converter = converter_for(REGISTRY.get(oid), -1, REGISTRY)
        assert converter is not None
        return converter.placeholder

    assert placeholder(25) == UNAVAILABLE_VALUE
    assert placeholder(3802) == UNAVAILABLE_VALUE
    assert placeholder(17) == b64(UNAVAILABLE_VALUE.encode())
    assert placeholder(1009) == [UNAVAILABLE_VALUE]


def test_malformed_text_raises_a_conversion_error() -> None:
    for oid, text in ((1082, "yesterday"), (1114, "2016-11-04"), (1083, "noon"), (1700, "1,5"), (17, "\\xZZ")):
        with pytest.raises(ValueConversionError):
            convert(oid, text)


# -- Java formatting helpers ---------------------------------------------------------


def test_bigdecimal_string_forms() -> None:
    assert bigdecimal_to_string(Decimal("1E+3")) == "1E+3"
    assert bigdecimal_to_string(Decimal("-0")) == "0"
    assert bigdecimal_to_plain_string(Decimal("1E-7")) == "0.0000001"
    assert bigdecimal_to_plain_string(Decimal("1234.11")) == "1234.11"


def test_java_hash_and_hashmap_order() -> None:
    assert java_string_hash("") == 0
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("polygenelubricants") == -2147483648
    assert java_string_hash("🚀") == (0xD83D * 31 + 0xDE80)
    # "Aa" and "BB" collide in Java: insertion order decides within the bucket.
    assert java_hashmap_order(["BB", "Aa"], ["BB", "Aa"]) == ["BB", "Aa"]
    assert java_hashmap_order(["b", "a"], ["b", "a"]) == ["a", "b"]


def test_jackson_quoting_escapes_controls_with_upper_hex() -> None:
    assert jackson_quote('a"b\\c\n\x01é') == '"a\\"b\\\\c\\n\\u0001é"'


def test_civil_day_arithmetic_round_trips_over_a_wide_range() -> None:
    for days in range(-800_000, 800_000, 997):
        assert days_from_civil(*civil_from_days(days)) == days


def test_array_parser_rejects_garbage() -> None:
    with pytest.raises(ValueConversionError):
        parse_array("1,2,3")
    with pytest.raises(ValueConversionError):
        parse_array("{1,2")
