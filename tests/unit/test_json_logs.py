from __future__ import annotations

import logging

import orjson

from contracts.request_context import REQUEST_ID
from rustok.logs import JsonFormatter


def test_a_log_line_is_json_with_the_request_id_and_structured_fields() -> None:
    record = logging.LogRecord("rustok.test", logging.WARNING, __file__, 1, "flushed %s", ("sink",), None)
    record.tenant = "t-1"
    record.lsn = 42
    token = REQUEST_ID.set("req-7")
    try:
        line = orjson.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["msg"] == "flushed sink" and line["level"] == "warning" and line["logger"] == "rustok.test"
    assert (line["request_id"], line["tenant"], line["lsn"]) == ("req-7", "t-1", 42)
