"""The deploy files parse, validate against the Kubernetes schemas, and point at things that exist."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from typer.main import get_command

from service.cli import app as cli
from service.main import create_app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# The Kubernetes version whose schemas (bundled by kubernetes-validate) the manifests must satisfy.
KUBERNETES = "1.30.0"
# Custom resources: no bundled schema; each is checked against a small schema of the fields used here.
CUSTOM_SCHEMAS = {("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.schema.json"}


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


def _all_documents() -> list[tuple[str, dict]]:
    """(file name, document) for every manifest."""
    return [(p.name, d) for p in sorted((DEPLOY / "k8s").glob("*.yaml")) for d in _documents(p)]


@pytest.mark.parametrize(
    ("name", "document"), _all_documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_manifest_validates_against_its_schema(name: str, document: dict) -> None:
    custom = CUSTOM_SCHEMAS.get((document["apiVersion"], document["kind"]))
    if custom is not None:
        schema = json.loads((Path(__file__).parent / custom).read_text())
        jsonschema.validate(document, schema)
    else:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_a_broken_manifest_fails_validation() -> None:
    deployment = next(d for _, d in _all_documents() if d["kind"] == "Deployment")
    for path, value in ((("spec", "replica"), 2), (("spec", "replicas"), "two")):  # a typo, a wrong type
        changed = json.loads(json.dumps(deployment))
        changed[path[0]][path[1]] = value
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(changed, KUBERNETES, strict=True)
    monitor = next(d for _, d in _all_documents() if d["kind"] == "ServiceMonitor")
    schema = json.loads(
        (Path(__file__).parent / CUSTOM_SCHEMAS[(monitor["apiVersion"], "ServiceMonitor")]).read_text()
    )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**monitor, "spec": {**monitor["spec"], "endpoint": []}}, schema)


def test_the_deployment_has_what_operations_need() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for _, d in _all_documents()}
    for workload in ("tailorwise-api", "tailorwise-worker"):
        assert {("Deployment", workload), ("PodDisruptionBudget", workload)} <= kinds
        assert ("HorizontalPodAutoscaler", workload) in kinds
    assert {("Job", "tailorwise-migrate"), ("ServiceMonitor", "tailorwise-api")} <= kinds
    assert {k for k, _ in kinds} >= {"NetworkPolicy", "Service", "Secret"}
    for _, document in _all_documents():
        for container in _containers(document):
            assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
            for variable in container.get("env", []):  # secrets by reference, never inline
                assert "DATABASE_URL" not in variable["name"] or "secretKeyRef" in variable["valueFrom"]


def test_the_service_monitor_scrapes_the_api_service_port() -> None:
    documents = [d for _, d in _all_documents()]
    monitor = next(d for d in documents if d["kind"] == "ServiceMonitor")
    service = next(
        d for d in documents if d["kind"] == "Service" and d["metadata"]["name"] == "tailorwise-api"
    )
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


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
    probed = set()
    for document in _documents(DEPLOY / "k8s" / "api.yaml"):
        for container in _containers(document):
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["path"] in paths
                    probed.add(probe)
    assert probed == {"startupProbe", "readinessProbe", "livenessProbe"}


def test_compose_and_dockerfile_agree() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["migrate"]["command"] == ["tailorwise", "migrate"]
    assert compose["services"]["worker"]["command"] == ["tailorwise", "worker"]
    assert {"postgres", "api", "worker"} <= set(compose["services"])
    for name in ("api", "worker"):
        assert (
            compose["services"][name]["depends_on"]["migrate"]["condition"]
            == "service_completed_successfully"
        )
        assert "postgres:5432" in compose["services"][name]["environment"]["TAILORWISE_DATABASE_URL"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'CMD ["tailorwise", "serve"' in dockerfile
    for folder in ("service", "recommender", "migrations"):
        assert f"COPY {folder} ./{folder}" in dockerfile
