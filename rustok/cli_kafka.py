"""`rustok kafka ...` and `rustok connectors ...`: the distributed runtime's local stack.

Two Typer sub-apps that ``rustok.cli`` mounts: ``kafka_app`` starts and stops the
local broker and Kafka Connect worker (state under ``<state_dir>/kafka``), and
``connectors_app`` registers the Debezium PostgreSQL connector with that worker.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from connectors import debezium_registration as registration
from connectors.kafka_runtime import KafkaRuntime, KafkaRuntimeError, RuntimeStatus, install_jars
from rustok.settings import get_settings

kafka_app = typer.Typer(
    help="The local Kafka broker (KRaft) and Kafka Connect worker with Debezium.", no_args_is_help=True
)
connectors_app = typer.Typer(help="Debezium connectors on the Kafka Connect worker.", no_args_is_help=True)

console = Console()

ConnectUrl = Annotated[
    str | None,
    typer.Option("--connect-url", help="Kafka Connect REST URL; defaults to the local worker's."),
]
ConnectorName = Annotated[str, typer.Option("--name", help="Connector name.")]


def _runtime() -> KafkaRuntime:
    return KafkaRuntime(get_settings().state_dir / "kafka")


def _fail(message: str, exc: Exception) -> typer.Exit:
    console.print(f"[red]{message}:[/red] {exc}")
    return typer.Exit(code=1)


def _print_status(status: RuntimeStatus) -> None:
    table = Table("process", "pid", "state", "listens on 127.0.0.1")
    for process in (status.broker, status.connect):
        state = "[green]ready[/green]" if process.ready else ("starting" if process.running else "[red]stopped[/red]")
        ports = " ".join(f"{role}:{port}" for role, port in process.ports.items())
        table.add_row(process.name, str(process.pid or "-"), state, ports)
    console.print(table)
    console.print(f"bootstrap servers [bold]{status.bootstrap_servers}[/bold], Connect REST [bold]{status.connect_url}[/bold]")
    console.print(f"logs in {status.broker.log_file.parent}")


@kafka_app.command()
def up(
    install: Annotated[bool, typer.Option(help="Fetch Java, Maven and the jars first if missing.")] = True,
) -> None:
    """Start the broker and Kafka Connect (idempotent) and wait until both answer."""
    runtime = _runtime()
    try:
        if install:
            with console.status("Fetching the Kafka and Debezium jars (first run only)..."):
                install_jars(runtime.kafka_home)
        with console.status("Starting the Kafka broker and Kafka Connect..."):
            status = runtime.up()
    except KafkaRuntimeError as exc:
        raise _fail("the Kafka runtime did not start", exc) from exc
    _print_status(status)


@kafka_app.command()
def down() -> None:
    """Stop Kafka Connect, then the broker."""
    runtime = _runtime()
    with console.status("Stopping Kafka Connect and the broker..."):
        runtime.down()
    console.print("Kafka Connect and the broker are stopped.")


@kafka_app.command()
def status() -> None:
    """Show both processes, their ports, readiness and log files."""
    _print_status(_runtime().status())


@connectors_app.command()
def register(
    database_url: Annotated[
        str, typer.Option("--database-url", help="postgresql://user[:password]@host:port/dbname, reachable over TCP.")
    ],
    name: ConnectorName = registration.DEFAULT_NAME,
    connect_url: ConnectUrl = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the connector to run.")] = 120.0,
) -> None:
    """Create or update the Debezium PostgreSQL connector and wait until it runs."""
    url = connect_url or _runtime().connect_url
    try:
        config = registration.load_config(
            topic_prefix=get_settings().topic_prefix, **registration.connection_settings(database_url)
        )
        with console.status(f"Registering {name} with {url}..."):
            state = registration.register(url, config, name=name, timeout=timeout)
    except registration.RegistrationError as exc:
        raise _fail(f"connector {name} is not running", exc) from exc
    console.print(
        f"connector [bold]{state.name}[/bold]: [green]{state.connector}[/green], "
        f"tasks {', '.join(state.tasks)} on {state.worker_id}; "
        f"slot {config['slot.name']}, publication {config['publication.name']}, topics {config['topic.prefix']}.*"
    )


@connectors_app.command()
def delete(name: ConnectorName = registration.DEFAULT_NAME, connect_url: ConnectUrl = None) -> None:
    """Delete the connector (its replication slot stays in PostgreSQL)."""
    url = connect_url or _runtime().connect_url
    try:
        deleted = registration.delete(url, name)
    except registration.RegistrationError as exc:
        raise _fail(f"could not delete connector {name}", exc) from exc
    console.print(f"connector {name} {'deleted' if deleted else 'did not exist'}.")
