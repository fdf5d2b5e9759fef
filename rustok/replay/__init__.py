"""``rustok replay``: rebuild read-model versions beside the live ones and switch atomically.

Public API: :class:`EmbeddedReplay` (``run() -> ReplayReport``), :class:`ReplayOptions`,
:func:`read_lag` (``rustok lag``); errors under :class:`ReplayError` (tree in ``errors``).
The Kafka runtime's replay is :class:`rustok.replay.kafka.KafkaReplay` (imported from
there, so the embedded commands do not load the Kafka client).
"""

from __future__ import annotations

from .embedded import EmbeddedReplay, ReplayOptions, ReplayReport
from .errors import HandoverTimeout, ReplayConfigError, ReplayError, ReplayInterrupted
from .progress import ReplayProgress, RichProgress, SilentProgress

__all__ = [
    "EmbeddedReplay",
    "HandoverTimeout",
    "ReplayConfigError",
    "ReplayError",
    "ReplayInterrupted",
    "ReplayOptions",
    "ReplayProgress",
    "ReplayReport",
    "RichProgress",
    "SilentProgress",
]
