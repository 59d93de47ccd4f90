"""The `tailorwise` command: serve, migrate, tenants and keys, demo data."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from service.config import get_settings
from service.db import create_db_engine, session_scope
from service.errors import TailorwiseError
from service.migrate import upgrade
from service.progress import progress_bar
from service.tailoring import jobs as tailoring_jobs
from service.tenancy import service as tenancy

app = typer.Typer(
    help="Tailorwise: personalize only where it pays.", no_args_is_help=True, pretty_exceptions_enable=False
)
tenant_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
key_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(key_app, name="key")


def fail(error: TailorwiseError) -> typer.Exit:
    """Print a service error and give the exit to raise."""
    typer.echo(f"error: {error.detail}", err=True)
    return typer.Exit(code=1)


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
    engine = create_db_engine(get_settings())
    try:
        with session_scope(engine) as session:
            tenant = tenancy.create_tenant(session, name, personalization_by_default=not opt_in)
    except TailorwiseError as error:
        raise fail(error) from error
    typer.echo(tenant.id)


@key_app.command("create")
def key_create(
    tenant: Annotated[str, typer.Option(help="The tenant's name.")],
    role: Annotated[str, typer.Option(help="admin, crm, storefront or marketer.")],
) -> None:
    """Create an API key and print it alone on stdout (it is shown only this once)."""
    engine = create_db_engine(get_settings())
    try:
        with session_scope(engine) as session:
            issued = tenancy.issue_key(session, tenant, role)
    except TailorwiseError as error:
        raise fail(error) from error
    typer.echo(issued.key)


@app.command()
def score(
    tenant: Annotated[str, typer.Option(help="The tenant's name.")],
    attribute: Annotated[str | None, typer.Option(help="Score only this attribute.")] = None,
) -> None:
    """Score the tenant's attributes now (a scoring run, with a progress bar) and print the decisions."""
    engine = create_db_engine(get_settings())
    try:
        decisions = tailoring_jobs.score_now(engine, tenant, attribute, progress_bar)
    except TailorwiseError as error:
        raise fail(error) from error
    for decision in decisions:
        typer.echo(
            f"{decision.attribute:<20} {decision.decision:<8} {decision.level:<13} {decision.explanation}"
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API with uvicorn."""
    uvicorn.run(
        "service.main:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )
