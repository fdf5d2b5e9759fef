"""Errors of the read-model sinks.

PipelineError (pipelines.errors)
 └── SinkError             root of the sinks' errors
      ├── InvalidEmission       a batch breaks the RootDocuments contract; nothing of it is kept
      ├── SinkConfigError       the sink cannot run as configured (unknown doc type, bad version)
      └── SinkBackpressure transient failure (connection lost, index lock busy); retry the
                           same source position after ``retry_after`` seconds
"""

from __future__ import annotations

from pipelines.errors import PipelineError


class SinkError(PipelineError):
    """Root of every error raised by ``pipelines.sinks``."""


class InvalidEmission(SinkError, ValueError):
    """An emission whose documents do not belong to its root, or repeat a locale."""


class SinkConfigError(SinkError):
    """The sink's configuration cannot work (unknown document type, index version < 1)."""


class SinkBackpressure(SinkError):
    """A transient failure: nothing was made durable; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
