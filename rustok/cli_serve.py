"""`rustok serve write|search`: one API in the foreground, as a container runs it.

The same apps ``rustok up`` serves, with health, metrics and request ids, configured by
their own settings (``RUSTOK_WRITE_*``, ``RUSTOK_SEARCH_*``).
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from contracts.serving import tune_gc_for_serving
from rustok.health import PlatformHealth
from rustok.observability import observe
from search_api.app import SEARCH_GC_OLDER
from search_api.app import create_app as create_search_app
from search_api.settings import SearchSettings
from write_api.app import create_app as create_write_app
from write_api.settings import WriteApiSettings

serve_app = typer.Typer(help="Serve one API in the foreground (for containers).", no_args_is_help=True)

Host = Annotated[str, typer.Option("--host")]
Port = Annotated[int, typer.Option("--port")]


@serve_app.command("write")
def serve_write(host: Host = "0.0.0.0", port: Port = 8000) -> None:  # noqa: S104 — a container's interface
    """The write API (needs RUSTOK_WRITE_DATABASE_URL)."""
    settings = WriteApiSettings()  # filled from the environment
    url = settings.database_url.get_secret_value()
    health = PlatformHealth(url, SearchSettings.model_fields["index_dir"].default, "embedded")
    app = observe(create_write_app(settings), "write-api", health.write_probes(), health.write_modules)
    tune_gc_for_serving()  # this process serves only the write API from now on
    uvicorn.run(app, host=host, port=port, http="httptools", loop="uvloop", access_log=False)


@serve_app.command("search")
def serve_search(host: Host = "0.0.0.0", port: Port = 8001) -> None:  # noqa: S104
    """The search API (needs RUSTOK_SEARCH_DATABASE_URL; RUSTOK_SEARCH_INDEX_DIR for Tantivy)."""
    settings = SearchSettings()
    health = PlatformHealth(settings.database_url.get_secret_value(), settings.index_dir, settings.pipeline_name)
    app = observe(create_search_app(settings), "search-api", health.search_probes(), health.search_modules)
    tune_gc_for_serving(*SEARCH_GC_OLDER)  # this process serves only the search API from now on
    uvicorn.run(app, host=host, port=port, http="httptools", loop="uvloop", access_log=False)
