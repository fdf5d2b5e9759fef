"""The projection core: pure functions from change events to search documents.

* :func:`route` — the roots a change touches directly;
* :func:`apply` — apply a change to a :class:`~pipelines.state.StateStore`, return
  every root to rebuild (with dimension fan-out);
* :func:`build` — the complete documents of one root now;
* :class:`Projector` — the batch entry point for runtimes (apply all, build each
  touched root once, collect invalid events).

No I/O here: the state store is a port.
"""

from __future__ import annotations

from pipelines.core.apply import apply, event_version, root_version, route
from pipelines.core.projector import Projector, build

__all__ = ["Projector", "apply", "build", "event_version", "root_version", "route"]
