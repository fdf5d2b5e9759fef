"""The request id that follows a request through logs and into its outbox event.

The HTTP edge (``rustok.observability``) accepts a caller's ``X-Request-Id`` when it is
well formed, or makes one, and keeps it in ``REQUEST_ID`` for the request's duration;
log records and the write API's outbox rows read it from there.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("rustok_request_id", default=None)
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def accept_request_id(header: str | None) -> str:
    """The caller's id if it is well formed, otherwise a new one."""
    if header and _WELL_FORMED.match(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return REQUEST_ID.get()
