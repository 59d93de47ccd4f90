"""The `tailorwise` command: serve, migrate, tenants and keys, demo data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from prometheus_client import start_http_server
from sqlalchemy.engine import Engine

from service import imports, server
from service.config import get_settings
from service.db import create_db_engine, session_scope
from service.demo import seed_demo
from service.errors import NotFound, TailorwiseError
from service.experiments.results import results as experiment_results
from service.experiments.table import results_table
from service.keys import service as keys
from service.migrate import upgrade
from service.progress import progress_bar
from service.tenancy import repository as tenants
from service.tenancy import service as tenancy
from service.workloads import inline
from service.workloads import worker as run_worker

app = typer.Typer(
    help="Tailorwise: personalize only where it pays.", no_args_is_help=True, pretty_exceptions_enable=False
)
tenant_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
key_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(key_app, name="key")
experiment_app = typer.Typer(help="Holdout experiments.", no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")
import_app = typer.Typer(help="Import customers or items from a CSV or NDJSON file.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@contextmanager
def database() -> Iterator[Engine]:
    """An engine on the configured database, disposed after; service errors exit 1 with their message."""
    engine = create_db_engine(get_settings())
    try:
        yield engine
    except TailorwiseError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(code=1) from error
    finally:
        engine.dispose()


@app.command()
def migrate() -> None:
    """Upgrade the database to the newest schema (Alembic head)."""
    upgrade(get_settings().database_url)
    typer.echo("database at head", err=True)


@tenant_app.command("create")
def tenant_create(
    name: str,
    opt_in: Annotated[
        bool, typer.Option(help="New customers start without personalization consent.")
    ] = False,
) -> None:
    """Create a tenant and print its id."""
    with database() as engine, session_scope(engine) as session:
        tenant = tenancy.create_tenant(session, name, personalization_by_default=not opt_in)
    typer.echo(tenant.id)


@key_app.command("create")
def key_create(
    tenant: Annotated[str, typer.Option(help="The tenant's name.")],
    role: Annotated[str, typer.Option(help="admin, crm, storefront or marketer.")],
    expires_at: Annotated[
        datetime | None, typer.Option(help="When the key stops working (UTC unless a zone is given).")
    ] = None,
) -> None:
    """Create an API key and print it alone on stdout (it is shown only this once)."""
    with database() as engine, session_scope(engine) as session:
        issued = tenancy.issue_key(session, tenant, role, expires_at)
    typer.echo(issued.key)


@key_app.command("list")
def key_list(tenant: Annotated[str, typer.Option(help="The tenant's name.")]) -> None:
    """List the tenant's keys: id, prefix, role, status, created, last used, expiry."""
    with database() as engine, session_scope(engine) as session:
        rows = keys.list_keys(session, tenancy.tenant_id_of(session, tenant))
    for row in rows:
        typer.echo(
            f"{row.id:<6} {row.prefix:<11} {row.role.value:<11} {row.status:<8}"
            f" created={_when(row.created_at)} last_used={_when(row.last_used_at)}"
            f" expires={_when(row.expires_at)}"
        )


@key_app.command("revoke")
def key_revoke(
    tenant: Annotated[str, typer.Option(help="The tenant's name.")],
    key_id: Annotated[int, typer.Argument(help="The key's id (see `key list`).")],
) -> None:
    """Revoke a key now: refused by every server process within a second."""
    with database() as engine, session_scope(engine) as session:
        keys.revoke(session, tenancy.tenant_id_of(session, tenant), None, key_id)
    typer.echo(f"key {key_id} revoked", err=True)


@key_app.command("rotate")
def key_rotate(
    tenant: Annotated[str, typer.Option(help="The tenant's name.")],
    key_id: Annotated[int, typer.Argument(help="The key's id (see `key list`).")],
    grace_hours: Annotated[
        float | None, typer.Option(min=0, help="How long the old key keeps working (default: the setting).")
    ] = None,
) -> None:
    """Issue a new key of the same role and print it; the old one expires after the grace period."""
    seconds = get_settings().key_rotation_grace_seconds if grace_hours is None else grace_hours * 3600
    with database() as engine, session_scope(engine) as session:
        rotated = keys.rotate(
            session, tenancy.tenant_id_of(session, tenant), None, key_id, timedelta(seconds=seconds)
        )
    typer.echo(f"key {key_id} expires at {_when(rotated.previous.expires_at)}", err=True)
    typer.echo(rotated.key.key)


def _when(moment: datetime | None) -> str:
    """A timestamp to the second, or `-`."""
    return "-" if moment is None else moment.isoformat(timespec="seconds")


@app.command()
def score(
    tenant: Annotated[str, typer.Option(help="The tenant's name.")],
    attribute: Annotated[str | None, typer.Option(help="Score only this attribute.")] = None,
) -> None:
    """Score the tenant's attributes now (a scoring run, with a progress bar) and print the decisions."""
    with database() as engine:
        decisions = inline.score_now(engine, tenant, attribute, progress_bar)
    for decision in decisions:
        typer.echo(
            f"{decision.attribute:<20} {decision.decision:<8} {decision.level:<13} {decision.explanation}"
        )


@app.command()
def train(tenant: Annotated[str, typer.Option(help="The tenant's name.")]) -> None:
    """Train the tenant's recommendation model now (a run with a progress bar); print the version."""
    with database() as engine:
        version = inline.train_now(engine, tenant, get_settings(), progress_bar)
    typer.echo(f"model version {version.id}: {version.strategy}. {version.reason}")
    for name in ("model", "segment", "popular"):
        figures = " ".join(f"{metric}={value}" for metric, value in version.metrics[name].items())
        typer.echo(f"  {name:<8} {figures}")


@experiment_app.command("results")
def experiment_results_command(
    experiment_id: int, tenant: Annotated[str, typer.Option(help="The tenant's name.")]
) -> None:
    """Analyse an experiment now (its verdict stored and acted on) and print the results table."""
    with database() as engine, session_scope(engine) as session:
        found = tenants.get_tenant_by_name(session, tenant)
        if found is None or found.id is None:
            raise NotFound(f"No tenant {tenant!r}.")
        typer.echo(results_table(experiment_results(session, None, found.id, experiment_id)))


ImportFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="A .csv, .ndjson or .jsonl file.")
]
ImportTenant = Annotated[str, typer.Option(help="The tenant's name.")]


def run_import(kind: str, file: Path, tenant: str) -> None:
    """Import a file with a progress bar on stderr; bad lines on stderr, the summary on stdout."""
    with database() as engine, progress_bar(f"import {kind}") as update:
        result = imports.import_file(engine, tenant, file, kind, update)
    for row in result.invalid_rows:
        typer.echo(f"line {row.line}: {row.reason}", err=True)
    counts = ("created", "updated", "unchanged", "stale", "invalid")
    typer.echo(" ".join(f"{name}={getattr(result, name)}" for name in counts))


@import_app.command(
    "customers",
    help="Import customers. CSV columns: external_id, source_updated_at (ISO 8601 with zone), traits (JSON "
    "text), consent_personalization, consent_profiling (true/false), optional preferences (JSON text). "
    "NDJSON rows as in POST /v1/sync/customers. Committed 10,000 rows at a time; bad lines are skipped.",
)
def import_customers(file: ImportFile, tenant: ImportTenant) -> None:
    """Import customers from a file."""
    run_import("customers", file, tenant)


@import_app.command(
    "items",
    help="Import items. CSV columns: item_id, active (true/false, empty: true), attributes (JSON text), "
    "optional source_updated_at. NDJSON rows as in POST /v1/sync/items. Committed 10,000 rows at a "
    "time; bad lines are skipped.",
)
def import_items(file: ImportFile, tenant: ImportTenant) -> None:
    """Import items from a file."""
    run_import("items", file, tenant)


@app.command()
def demo() -> None:
    """Seed, score and train a demo bookstore and petrol station; print their keys, decisions and URLs."""
    with database() as engine:
        seeded = seed_demo(engine, get_settings(), progress_bar)
    for tenant in seeded:
        typer.echo(f"\n== {tenant.name}")
        for role, key in tenant.keys.items():
            typer.echo(f"  {role:<11} key: {key}")
        for decision in tenant.decisions:
            typer.echo(
                f"  {decision.attribute:<14} {decision.decision:<8} {decision.level:<13} "
                f"{decision.explanation}"
            )
        typer.echo(
            f"  model version {tenant.model_version} serves recommendations. Try, with the keys above:"
        )
        base = "http://127.0.0.1:8000"
        storefront = "-H 'Authorization: Bearer " + tenant.keys["storefront"] + "'"
        marketer = "-H 'Authorization: Bearer " + tenant.keys["marketer"] + "'"
        typer.echo(f"    curl -s {base}/v1/customers/c-7/recommendations {storefront}")
        typer.echo(f"    curl -s {base}/v1/customers/c-7/tailoring {storefront}")
        for touchpoint in tenant.touchpoints:
            typer.echo(
                f"    curl -s '{base}/v1/customers/c-7/treatment?touchpoint={touchpoint}' {storefront}"
            )
        typer.echo(f"    curl -s {base}/v1/tailoring/attributes {marketer}")
    typer.echo("\nDashboard (sign in with a marketer key): http://127.0.0.1:8000/dashboard")
    typer.echo("OpenAPI docs: http://127.0.0.1:8000/docs")


class LogLevel(StrEnum):
    """uvicorn's log levels."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_level: Annotated[LogLevel, typer.Option(help="uvicorn's log level.")] = LogLevel.info,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Serve the API with uvicorn: each worker a process on the asyncio loop with its own socket."""
    server.serve(host, port, workers, log_level.value, access_log)


@app.command()
def worker(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's metrics on this port (Prometheus text).")
    ] = None,
) -> None:
    """Execute scoring and training runs from the PostgreSQL queue and fire due schedules (one of many)."""
    settings = get_settings()
    if not settings.database_url.startswith("postgresql"):
        typer.echo(
            "error: workers need PostgreSQL (TAILORWISE_DATABASE_URL); SQLite runs in the API", err=True
        )
        raise typer.Exit(code=1)
    if metrics_port is not None:
        start_http_server(metrics_port)
    asyncio.run(run_worker.work(settings))
