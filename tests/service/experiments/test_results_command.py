"""`tailorwise experiment results ID --tenant NAME` prints the results table."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from tests.service.experiments.conftest import Headers
from tests.service.experiments.test_experiments import external_storefront


@pytest.fixture
def cli(db: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Invoke the CLI against the test database."""
    monkeypatch.setenv("TAILORWISE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_results_table(cli: Any, client: TestClient, admin: Headers) -> None:
    """The goal's arms, uplifts and the verdict; an unknown tenant exits 1."""
    experiment_id, _ = external_storefront(client, admin, 0.10)
    printed = cli("experiment", "results", str(experiment_id), "--tenant", "acme")
    assert printed.exit_code == 0, printed.output
    lines = printed.stdout.splitlines()
    assert lines[0] == f"experiment {experiment_id} 'trial' (running)"
    assert "treatment n=60" in printed.stdout and "holdout   n=60" in printed.stdout
    assert "verdict   pays: goal: always-valid lower bound above 0" in printed.stdout
    assert cli("experiment", "results", str(experiment_id), "--tenant", "nope").exit_code == 1
