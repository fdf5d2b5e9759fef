"""Errors of the search API; each carries its HTTP status and a stable problem code.

SearchApiError
 ├── InvalidQuery          422  a parameter a client sent is wrong (carries field paths)
 │    └── QueryTooLarge    413  text, page size, offset or filter list past a bound
 ├── Unauthorized          401  no usable key and no host mapping
 ├── Forbidden             403  the key may not do this (a public key asking for drafts)
 ├── NotFound              404  no such product, page or route
 ├── RateLimited           429  carries ``retry_after`` seconds
 ├── StaleRead             503  ``min_version`` not reached within the bound (strict mode)
 └── BackendUnavailable    503  the index or database cannot answer right now

``problems.py`` maps every one of them to ``application/problem+json`` in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad input: ``path`` names the parameter (``filter.price_min``), ``message`` says why."""

    path: str
    message: str


class SearchApiError(Exception):
    status = 500
    code = "internal"

    def __init__(self, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)


class InvalidQuery(SearchApiError):
    status = 422
    code = "invalid_query"

    @classmethod
    def at(cls, path: str, message: str) -> InvalidQuery:
        return cls(f"{path}: {message}", errors=[FieldError(path, message)])


class QueryTooLarge(InvalidQuery):
    status = 413
    code = "query_too_large"


class Unauthorized(SearchApiError):
    status = 401
    code = "unauthorized"


class Forbidden(SearchApiError):
    status = 403
    code = "forbidden"


class NotFound(SearchApiError):
    status = 404
    code = "not_found"


class RateLimited(SearchApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class StaleRead(SearchApiError):
    status = 503
    code = "stale_read"


class BackendUnavailable(SearchApiError):
    status = 503
    code = "backend_unavailable"
