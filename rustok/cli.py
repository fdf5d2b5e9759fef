"""The `rustok` command: the single entry point of the platform."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from migrations import runner
from rustok import cli_archive, cli_contracts, cli_replay, cli_snapshot, demo, logs
from rustok.cli_cdc import cdc_app
from rustok.cli_dlq import dlq_app
from rustok.cli_kafka import connectors_app, kafka_app
from rustok.cli_pipeline import pipeline_app
from rustok.cli_serve import serve_app
from rustok.database import Database, embedded_server, provision
from rustok.demo_access import DemoAccess, ensure_demo_access
from rustok.postgres import PostgresError
from rustok.settings import get_settings
from rustok.distributed import DistributedPipeline
from rustok.pipeline import EmbeddedPipeline
from rustok.up import LocalPlatform, PlatformOptions

app = typer.Typer(help="RusToK: multi-tenant, multilingual content and commerce as a CQRS data pipeline.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="The PostgreSQL the platform runs on.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kafka_app, name="kafka")
app.add_typer(connectors_app, name="connectors")
app.add_typer(dlq_app, name="dlq")
app.add_typer(cdc_app, name="cdc")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(serve_app, name="serve")
for _module in (cli_replay, cli_archive, cli_snapshot, cli_contracts):
    _module.register(app)

console = Console()


def _database() -> Database:
    try:
        return provision(get_settings())
    except PostgresError as exc:
        console.print(f"[red]PostgreSQL is not usable:[/red] {exc}")
        raise typer.Exit(code=2) from exc


def _seed(database: Database) -> demo.SeedReport:
    engine = sa.create_engine(runner.sqlalchemy_url(database.url), poolclass=sa.NullPool)
    try:
        return demo.seed_demo(engine)
    finally:
        engine.dispose()


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision ('head', or e.g. '0005').")] = "head",
    down: Annotated[bool, typer.Option("--down", help="Downgrade to REVISION ('base' removes everything).")] = False,
) -> None:
    """Apply (or with --down, revert) the database migrations."""
    database = _database()
    before = runner.current_revision(database.url)
    if down:
        runner.downgrade(database.url, revision)
    else:
        runner.upgrade(database.url, revision)
    after = runner.current_revision(database.url)
    console.print(f"migrations: {before or 'base'} → {after or 'base'} on {database.display_url}")


@app.command()
def seed() -> None:
    """Insert the demo tenant (idempotent)."""
    database = _database()
    runner.upgrade(database.url)
    _print_seed(_seed(database))


@app.command()
def up(
    host: Annotated[str, typer.Option("--host", help="Interface the APIs listen on.")] = "127.0.0.1",
    write_port: Annotated[int, typer.Option("--write-port", help="Write API port (a free one if taken).")] = 8000,
    search_port: Annotated[int, typer.Option("--search-port", help="Search API port (a free one if taken).")] = 8001,
    exit_when_ready: Annotated[bool, typer.Option("--exit-when-ready",
                                                  help="Start everything, report, then stop cleanly.")] = False,
    kafka: Annotated[bool, typer.Option("--kafka", help="The distributed runtime: Kafka, Kafka Connect with "
                                                        "Debezium and a Faust worker, all local.")] = False,
) -> None:
    """Run the platform on the embedded default: PostgreSQL, migrations, demo data, CDC, pipeline, both APIs."""
    database = _database()
    where = "embedded PostgreSQL (pgserver)" if database.embedded else "configured PostgreSQL"
    console.print(f"[bold]PostgreSQL[/bold]: {where} at {database.display_url}")
    before = runner.current_revision(database.url)
    runner.upgrade(database.url)
    console.print(f"[bold]Migrations[/bold]: {before or 'base'} → {runner.current_revision(database.url)}")
    _print_seed(_seed(database))
    settings = get_settings()
    access = ensure_demo_access(database.url, settings.state_dir.resolve())
    platform = LocalPlatform(PlatformOptions(database_url=database.url, state_dir=settings.state_dir.resolve(),
                                             host=host, write_port=write_port, search_port=search_port,
                                             topic_prefix=settings.topic_prefix, kafka=kafka,
                                             state_memory_rows=settings.pipeline_state_memory_rows))
    runtime = "Kafka + Kafka Connect (Debezium) + Faust" if kafka else "embedded connector and runner"
    console.print(f"[bold]Pipeline[/bold]: starting on the {runtime} (a first start indexes the whole database)")
    try:
        platform.start()
        if isinstance(platform.pipeline, EmbeddedPipeline):
            console.print(f"[bold]Pipeline[/bold]: streaming; change events indexed while starting: "
                          f"{int(platform.pipeline.metrics.events('source'))}")
        elif isinstance(platform.pipeline, DistributedPipeline):
            console.print(f"[bold]Pipeline[/bold]: streaming; the Faust worker applied every commit made before "
                          f"the start in {platform.pipeline.caught_up_seconds or 0:.1f} s")
        _print_ready(platform, access, database.display_url)
        if not exit_when_ready:
            _wait_for_interrupt(platform)
    finally:
        console.print("stopping: APIs, then the pipeline (flush, commit, confirm the slot position)")
        platform.stop()
    console.print("stopped cleanly")


def _wait_for_interrupt(platform: LocalPlatform) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            if platform.pipeline is not None and platform.pipeline.failed is not None:
                console.print(f"[red]pipeline failed:[/red] {platform.pipeline.failed}")
                return
    except KeyboardInterrupt:
        return


def _print_ready(platform: LocalPlatform, access: DemoAccess, database: str) -> None:
    w, s, key = platform.write_url, platform.search_url, access.search_public_key
    console.print(f"""
[bold green]RusToK is running[/bold green] (Ctrl-C stops it cleanly)
  write API   {w}   (OpenAPI: {w}/docs)
  search API  {s}   (OpenAPI: {s}/docs)
  metrics     {w}/metrics  {s}/metrics   health: /health/live /health/ready /health/modules
  database    {database}

[bold]Demo tenant[/bold] '{access.tenant_slug}': users {access.admin_email} / {access.editor_email}, password {access.password}
  search key (public)  {key}
  search key (admin)   {access.search_admin_key}
  integration key      {access.integration_key}

[bold]Try[/bold]
  curl -s -H 'Authorization: Bearer {key}' '{s}/v1/products/search?q=shirt&locale=de-AT&in_stock=true'
  curl -s -X POST {w}/v1/auth/login -H 'content-type: application/json' \\
       -d '{{"tenant": "{access.tenant_slug}", "email": "{access.admin_email}", "password": "{access.password}"}}'
  curl -s -H 'Authorization: Bearer {key}' '{s}/v1/content/post/spring-collection?locale=en'
""", soft_wrap=True)


@db_app.command("status")
def db_status() -> None:
    """Show where PostgreSQL is and whether it is running."""
    settings = get_settings()
    if settings.database_url is not None:
        database = _database()
        console.print(f"configured PostgreSQL at {database.display_url}, wal_level=logical")
        return
    server = embedded_server(settings)
    if server.is_running():
        console.print(f"embedded PostgreSQL running at {server.info().url(settings.database_name)} "
                      f"(data in {server.data_dir})")
    else:
        console.print(f"embedded PostgreSQL stopped (data in {server.data_dir})")


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostgreSQL (or check the configured one)."""
    console.print(_database().display_url)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL."""
    server = embedded_server(get_settings())
    server.stop()
    console.print("embedded PostgreSQL stopped")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (for psql and other tools)."""
    typer.echo(_database().url)


def _print_seed(report: demo.SeedReport) -> None:
    if report.total == 0:
        console.print(f"[bold]Demo tenant[/bold] '{demo.DEMO_SLUG}': already present, nothing changed")
        return
    table = Table(title=f"Demo tenant '{demo.DEMO_SLUG}' (locales {', '.join(demo.LOCALES)}; "
                        f"prices in {' and '.join(demo.CURRENCIES)})")
    table.add_column("table")
    table.add_column("rows inserted", justify="right")
    for name, count in report.inserted.items():
        if count:
            table.add_row(name, str(count))
    console.print(table)


def main() -> None:
    settings = get_settings()
    logs.configure(settings.log_level, json=settings.log_format == "json")
    app()


if __name__ == "__main__":
    main()
