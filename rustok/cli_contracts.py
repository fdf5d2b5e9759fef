"""`rustok contracts check|reconcile`: data contracts and reconciliation for data engineers' schedules.

Exit codes: 0 clean, 1 failed expectations or drift, 2 a usage error (unknown tenant,
bad option). ``--json`` prints one JSON document on stdout for machines.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console

from contracts.expectations import Scope
from rustok.contracts_check import CheckReport, UnknownTenant, check, tenant_id_of
from rustok.reconcile import Drift, RepairBlocked, reconcile, reconcile_tantivy, repair, union

contracts_app = typer.Typer(help="Data contracts: check the read model and change streams, reconcile.",
                            no_args_is_help=True)
console = Console(stderr=False)

TenantOption = Annotated[str | None, typer.Option("--tenant", help="Tenant slug (default: every tenant).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def _url_and_tenant(slug: str | None) -> tuple[str, UUID | None]:
    from rustok.cli import _database  # the composition root owns provisioning

    url = _database().url
    if slug is None:
        return url, None
    try:
        return url, tenant_id_of(url, slug)
    except UnknownTenant as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc


@contracts_app.command("check")
def check_command(
    tenant: TenantOption = None,
    as_json: JsonOption = False,
    freshness: Annotated[float, typer.Option("--freshness", min=0.001, help="Seconds from commit to index.")] = 60.0,
    streams: Annotated[bool, typer.Option("--streams/--no-streams", help="Also sample change events.")] = True,
    per_table: Annotated[int, typer.Option("--per-table", min=1, help="Events sampled per table.")] = 200,
    listen: Annotated[float, typer.Option("--listen", min=0, help="Seconds to sample live changes.")] = 0.0,
) -> None:
    """Run every expectation suite; exit 1 if any expectation fails."""
    url, tenant_id = _url_and_tenant(tenant)
    report = check(url, Scope(tenant_id, timedelta(seconds=freshness)), streams=streams, per_table=per_table,
                   listen=listen)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), default=str))
    else:
        _print_check(report)
    raise typer.Exit(code=0 if report.success else 1)


def _print_check(report: CheckReport) -> None:
    suite = None
    for outcome in report.outcomes:
        if outcome.suite != suite:
            suite = outcome.suite
            console.print(f"[bold]{suite}[/bold]")
        mark = "[green]ok[/green]  " if outcome.success else "[red]FAIL[/red]"
        detail = "" if outcome.success else f" — {outcome.error or f'{outcome.unexpected} unexpected'}"
        console.print(f"  {mark} {outcome.description}{detail}", markup=True, highlight=False)
        for sample in outcome.sample if not outcome.success else []:
            console.print(f"         {sample}", markup=False, highlight=False)
    for note in report.notes:
        console.print(f"[dim]note: {note}[/dim]")
    console.print(f"{len(report.outcomes) - len(report.failures)} passed, {len(report.failures)} failed")


@contracts_app.command("reconcile")
def reconcile_command(
    tenant: TenantOption = None,
    do_repair: Annotated[bool, typer.Option("--repair", help="Re-emit drifted roots, remove vanished ones.")] = False,
    as_json: JsonOption = False,
    wait: Annotated[float, typer.Option("--wait", min=0, help="After --repair, seconds to wait for no drift.")] = 0.0,
) -> None:
    """Compare the write model with the live read model (PostgreSQL rows and the local Tantivy index).

    Exit 1 if they differ (after --repair: if they still differ after --wait seconds).
    """
    from rustok.settings import get_settings

    url, tenant_id = _url_and_tenant(tenant)
    index_dir = get_settings().state_dir.resolve() / "pipeline" / "index"
    drifts = _drifts(url, index_dir, tenant_id)
    result: dict[str, Any] = {side: d.as_dict() for side, d in drifts.items()}
    if do_repair and not _clean(drifts):
        try:
            repaired = repair(url, union(*drifts.values()), index_dir)
        except RepairBlocked as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(code=1) from exc
        result["repair"] = repaired.as_dict()
        drifts = _wait_clean(url, index_dir, tenant_id, wait)
        result["after_repair"] = {side: d.as_dict() for side, d in drifts.items()}
    if as_json:
        typer.echo(json.dumps(result, default=str))
    else:
        _print_drift(result)
    raise typer.Exit(code=0 if _clean(drifts) else 1)


def _drifts(url: str, index_dir: Path, tenant_id: UUID | None) -> dict[str, Drift]:
    drifts = {"drift": reconcile(url, tenant_id)}
    tantivy = reconcile_tantivy(url, index_dir, tenant_id)
    if tantivy is not None:
        drifts["tantivy_drift"] = tantivy
    return drifts


def _clean(drifts: dict[str, Drift]) -> bool:
    return all(d.clean for d in drifts.values())


def _wait_clean(url: str, index_dir: Path, tenant_id: UUID | None, wait: float) -> dict[str, Drift]:
    deadline = time.monotonic() + wait
    drifts = _drifts(url, index_dir, tenant_id)
    while not _clean(drifts) and time.monotonic() < deadline:
        time.sleep(0.5)
        drifts = _drifts(url, index_dir, tenant_id)
    return drifts


def _print_drift(result: dict[str, Any]) -> None:
    sides = [(side, drift) for side, drift in result.items() if side.endswith("drift")]
    sides += [(f"{side} after repair", drift) for side, drift in result.get("after_repair", {}).items()]
    for title, drift in sides:
        console.print(f"[bold]{title.replace('_', ' ')}[/bold]: {'none' if drift['clean'] else ''}")
        for kind in ("missing", "extra", "differing"):
            for entity in drift[kind]:
                fields = f" fields {', '.join(entity['fields'])}" if kind == "differing" else ""
                console.print(f"  {kind:9} {entity['doc_type']} {entity['tenant_id']} {entity['locale']}"
                              f" {entity['id']}{fields}", highlight=False)
    if "repair" in result:
        repaired = result["repair"]
        console.print(f"re-emitted {len(repaired['reemitted'])} roots, removed {len(repaired['removed'])}")
        for note in repaired["notes"]:
            console.print(f"[dim]note: {note}[/dim]")


def register(app: typer.Typer) -> None:
    """Add ``rustok contracts`` to the `rustok` command."""
    app.add_typer(contracts_app, name="contracts")
