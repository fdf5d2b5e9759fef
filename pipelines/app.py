"""The Faust app of RusToK's pipelines: ``faust -A pipelines.app worker -l info``.

Configured from the environment (``RUSTOK_FAUST_*``, see
:class:`pipelines.faust_app.settings.FaustSettings`); the logic lives in
``pipelines.faust_app``.
"""

from __future__ import annotations

import sys

from pipelines.faust_app.settings import FaustSettings
from pipelines.faust_app.worker import build_app

# The index stage runs the sinks in a thread that holds the GIL for Python work; each
# time the event loop (project stage, Kafka I/O, acks) waits for I/O it must then wait
# for the GIL again, up to the switch interval (5 ms by default) per loop turn.
GIL_SWITCH_SECONDS = 0.001
sys.setswitchinterval(GIL_SWITCH_SECONDS)

app = build_app(FaustSettings())

__all__ = ["app"]
