"""The sink port: where finished documents go.

Lifecycle: ``setup()`` once (create what the sink needs), then any number of
``write(batch)`` calls, each followed eventually by ``flush()``; ``close()`` at the end.
``write`` may buffer; ``flush`` returns only when everything written so far is durable
(committed and visible to readers), and it clears the buffer even when it fails, so a
retry starts from the source position, never from a half-kept buffer. The runner
acknowledges a source position only after every sink's ``flush`` returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pipelines.model import RootDocuments


class Sink(Protocol):
    name: str

    def setup(self) -> None: ...

    def write(self, batch: Sequence[RootDocuments]) -> None:
        """Accept emissions in source order; a later emission of a root supersedes an earlier one."""

    def flush(self) -> None: ...

    def close(self) -> None: ...
