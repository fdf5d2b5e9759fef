"""``min_version``: wait, up to a bound, until the pipeline has applied a write.

The pipeline records in ``pipeline_checkpoints.applied_commit_lsn`` the WAL position
below which every commit reached every sink. A request carrying a token waits
(polling every ``poll`` seconds, a cheap primary-key read) until that position reaches
the token, at most ``bound`` seconds; then it reports ``stale`` and the route answers
as ``SearchSettings.stale_mode`` says.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from contracts.consistency import InvalidConsistencyToken, parse_token
from search_api.db import Database
from search_api.errors import InvalidQuery


class AppliedPosition(Protocol):
    def applied_lsn(self) -> int: ...


class PostgresAppliedPosition:
    def __init__(self, database: Database, pipeline: str) -> None:
        self._db, self._pipeline = database, pipeline

    def applied_lsn(self) -> int:
        row = self._db.fetch_one("SELECT applied_commit_lsn FROM pipeline_checkpoints WHERE pipeline = %s",
                                 [self._pipeline])
        return int(row[0]) if row else 0


class FreshnessGate:
    def __init__(self, position: AppliedPosition, bound: float, poll: float,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._position, self._bound, self._poll = position, bound, poll
        self._clock, self._sleep = clock, sleep

    def wait(self, token: str | None) -> bool:
        """True when the read model includes ``token`` (or no token was given), False if stale."""
        if token is None:
            return True
        try:
            wanted = parse_token(token)
        except InvalidConsistencyToken as error:
            raise InvalidQuery.at("min_version", str(error)) from None
        deadline = self._clock() + self._bound
        while True:
            if self._position.applied_lsn() >= wanted:
                return True
            remaining = deadline - self._clock()
            if remaining <= 0:
                return False
            self._sleep(min(self._poll, remaining))
