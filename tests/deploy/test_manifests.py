"""The deploy files parse and point at things that exist: commands, probes, paths."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.main import get_command

from service.cli import app as cli
from service.main import create_app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _documents(path: Path) -> list[dict]:
    """Every YAML document in a file."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _containers(document: dict) -> list[dict]:
    """Containers and init containers of a workload, at any nesting."""
    spec = document.get("spec", {})
    template = spec.get("jobTemplate", {}).get("spec", spec).get("template", {}).get("spec", {})
    return template.get("containers", []) + template.get("initContainers", [])


def _cli_commands() -> set[str]:
    """Top-level `tailorwise` sub-commands."""
    return set(get_command(cli).commands)  # type: ignore[attr-defined]


def test_every_manifest_parses_with_kind_and_name() -> None:
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for document in _documents(path):
            assert document["kind"] and document["metadata"]["name"], path


def test_containers_run_real_cli_commands() -> None:
    commands = _cli_commands()
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for document in _documents(path):
            for container in _containers(document):
                argv = container.get("args") or container.get("command")
                assert argv[0] == "tailorwise" and argv[1] in commands, (path, argv)


def test_probes_hit_existing_routes() -> None:
    paths = set(create_app().openapi()["paths"])
    for document in _documents(DEPLOY / "k8s" / "api.yaml"):
        for container in _containers(document):
            for probe in ("readinessProbe", "livenessProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["path"] in paths


def test_compose_and_dockerfile_agree() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["migrate"]["command"] == ["tailorwise", "migrate"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'CMD ["tailorwise", "serve"' in dockerfile
    for folder in ("service", "recommender", "migrations"):
        assert f"COPY {folder} ./{folder}" in dockerfile
