"""The Faust app of RusToK's pipelines: ``faust -A pipelines.app worker -l info``.

Configured from the environment (``RUSTOK_FAUST_*``, see
:class:`pipelines.faust_app.settings.FaustSettings`); the logic lives in
``pipelines.faust_app``.
"""

from __future__ import annotations

from pipelines.faust_app.settings import FaustSettings
from pipelines.faust_app.worker import build_app

app = build_app(FaustSettings())

__all__ = ["app"]
