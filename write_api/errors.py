"""Errors of the write API, each carrying what its problem+json response needs.

WriteApiError
 ├── InvalidInput          422  bad field values (with field paths)
 │    └── InvalidTransition  422  a lifecycle move that is not allowed
 ├── Unauthenticated       401  missing, malformed, expired or revoked credentials
 ├── PermissionDenied      403  authenticated, but the role lacks the permission
 ├── NotFound              404  absent, another tenant's, or a disabled module
 ├── Conflict              409  duplicate handle/slug/sku, or a schema change that would strand entries
 ├── PreconditionFailed    412  If-Match does not name the current version
 ├── PayloadTooLarge       413  body over the configured limit
 └── UnsupportedMediaType  415  wrong Content-Type (e.g. import without NDJSON)

They are mapped to responses in one place, ``write_api.app``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

PathPart = str | int


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: ``path`` from the request root, e.g. ("body", "variants", 0, "sku")."""

    path: tuple[PathPart, ...]
    message: str


@dataclass(eq=False)
class WriteApiError(Exception):
    """Root of every error the write API raises on purpose."""

    detail: str
    errors: Sequence[FieldError] = field(default_factory=tuple)

    status = 500
    code = "internal_error"
    title = "Internal error"

    def __str__(self) -> str:
        return self.detail


class InvalidInput(WriteApiError):
    status = 422
    code = "validation_failed"
    title = "Invalid input"


class InvalidTransition(InvalidInput):
    code = "invalid_transition"
    title = "Transition not allowed"


class Unauthenticated(WriteApiError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class PermissionDenied(WriteApiError):
    status = 403
    code = "permission_denied"
    title = "Permission denied"


class NotFound(WriteApiError):
    status = 404
    code = "not_found"
    title = "Not found"


@dataclass(eq=False)
class Conflict(WriteApiError):
    """``constraint`` names the unique rule when the database found the duplicate, so a
    handler can re-check and point at the exact field."""

    constraint: str = ""

    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(WriteApiError):
    status = 412
    code = "precondition_failed"
    title = "Precondition failed"


class PayloadTooLarge(WriteApiError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class UnsupportedMediaType(WriteApiError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


def invalid(path: Sequence[PathPart], message: str) -> InvalidInput:
    """A one-field validation error."""
    return InvalidInput(message, (FieldError(tuple(path), message),))
