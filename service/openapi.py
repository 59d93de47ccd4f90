"""The OpenAPI document: stable operationIds, every error status as problem+json, named bulk rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from service.errors import PROBLEM_JSON


@dataclass(frozen=True)
class Operation:
    """An operation's stable id and the statuses its own logic adds to the ones derived for all."""

    id: str
    statuses: tuple[int, ...] = ()


# Keyed by (method, path): renaming or moving a handler never changes a generated client's method names.
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/v1/customers/{external_id}/recommendations"): Operation("getRecommendations", (409,)),
    ("GET", "/v1/items/{item_id}/similar"): Operation("getSimilarItems", (404, 409)),
    ("GET", "/v1/ping"): Operation("ping"),
    ("POST", "/v1/models/runs"): Operation("startTrainingRun", (409,)),
    ("GET", "/v1/models/runs"): Operation("listTrainingRuns"),
    ("GET", "/v1/models/runs/{run_id}"): Operation("getTrainingRun", (404,)),
    ("GET", "/v1/models"): Operation("listModelVersions"),
    ("GET", "/v1/models/{version}"): Operation("getModelVersion", (404,)),
    ("GET", "/v1/touchpoints"): Operation("listTouchpoints"),
    ("GET", "/v1/touchpoints/{name}"): Operation("getTouchpoint", (404,)),
    ("PUT", "/v1/touchpoints/{name}"): Operation("putTouchpoint", (201,)),
    ("DELETE", "/v1/touchpoints/{name}"): Operation("deleteTouchpoint", (404,)),
    ("GET", "/v1/treatment/settings"): Operation("getTreatmentSettings"),
    ("PUT", "/v1/treatment/settings"): Operation("putTreatmentSettings"),
    ("GET", "/v1/customers/{external_id}/treatment"): Operation("getTreatment", (404,)),
    ("PUT", "/v1/customers/{external_id}/engagement"): Operation("putEngagement", (404,)),
    ("GET", "/v1/customers/{external_id}/engagement"): Operation("getEngagement", (404,)),
    ("POST", "/v1/tailoring/runs"): Operation("startScoringRun", (404, 409)),
    ("GET", "/v1/tailoring/runs"): Operation("listScoringRuns"),
    ("GET", "/v1/tailoring/runs/{run_id}"): Operation("getScoringRun", (404,)),
    ("GET", "/v1/tailoring/attributes"): Operation("listTailoringDecisions"),
    ("GET", "/v1/tailoring/attributes/{name}"): Operation("getTailoringDecision", (404,)),
    ("GET", "/v1/tailoring/settings"): Operation("getTailoringSettings"),
    ("PUT", "/v1/tailoring/settings"): Operation("putTailoringSettings"),
    ("PUT", "/v1/attributes/{name}/tailoring"): Operation("putAttributeTailoring", (404,)),
    ("GET", "/v1/customers/{external_id}/tailoring"): Operation("getTailoringPlan", (404,)),
    ("PUT", "/v1/customers/{external_id}"): Operation("putCustomer", (201, 409)),
    ("GET", "/v1/customers/{external_id}"): Operation("getCustomer", (404,)),
    ("DELETE", "/v1/customers/{external_id}"): Operation("eraseCustomer", (404,)),
    ("GET", "/v1/customers"): Operation("listCustomers"),
    ("PUT", "/v1/customers/{external_id}/preferences"): Operation("putPreferences", (404,)),
    ("POST", "/v1/events"): Operation("postEvents"),
    ("GET", "/v1/customers/{external_id}/export"): Operation("exportCustomer", (404,)),
    ("PUT", "/v1/attributes/{name}"): Operation("putAttribute", (201,)),
    ("GET", "/v1/attributes"): Operation("listAttributes"),
    ("GET", "/v1/attributes/{name}"): Operation("getAttribute", (404,)),
    ("POST", "/v1/sync/items"): Operation("syncItems"),
    ("GET", "/v1/items/{item_id}"): Operation("getItem", (404,)),
    ("POST", "/v1/sync/customers"): Operation("syncCustomers"),
    ("GET", "/v1/sync/changes"): Operation("getChanges"),
    ("GET", "/v1/audit"): Operation("listAuditRecords"),
    ("GET", "/healthz"): Operation("getHealth"),
    ("GET", "/readyz"): Operation("getReadiness"),
    ("GET", "/v1/relationships/settings"): Operation("getRelationshipSettings"),
    ("PUT", "/v1/relationships/settings"): Operation("putRelationshipSettings"),
    ("PUT", "/v1/customers/{external_id}/relationships"): Operation("putRelationships", (404,)),
    ("GET", "/v1/customers/{external_id}/relationships"): Operation("getRelationships", (404,)),
    ("POST", "/v1/experiments"): Operation("createExperiment", (409,)),
    ("GET", "/v1/experiments"): Operation("listExperiments"),
    ("GET", "/v1/experiments/{experiment_id}"): Operation("getExperiment", (404,)),
    ("POST", "/v1/experiments/{experiment_id}/stop"): Operation("stopExperiment", (404,)),
    ("GET", "/v1/experiments/{experiment_id}/assignment"): Operation("getExperimentAssignment", (404, 409)),
    ("POST", "/v1/experiments/{experiment_id}/exposures"): Operation("postExposures", (404, 409)),
    ("GET", "/v1/experiments/{experiment_id}/results"): Operation("getExperimentResults", (404,)),
    ("GET", "/v1/experiments/{experiment_id}/results/history"): Operation(
        "getExperimentResultsHistory", (404,)
    ),
    ("GET", "/v1/keys"): Operation("listKeys"),
    ("POST", "/v1/keys"): Operation("createKey", (201,)),
    ("POST", "/v1/keys/{key_id}/revoke"): Operation("revokeKey", (404,)),
    ("POST", "/v1/keys/{key_id}/rotate"): Operation("rotateKey", (404,)),
    ("GET", "/v1/schedules"): Operation("listSchedules"),
    ("PUT", "/v1/schedules/{kind}"): Operation("putSchedule", (404,)),
    ("DELETE", "/v1/schedules/{kind}"): Operation("deleteSchedule", (404,)),
}

TAGS = [
    {"name": "profiles", "description": "Customers, their traits, consent, preferences and choice events."},
    {"name": "sync", "description": "Bulk customer sync from a CRM and the change feed back to it."},
    {"name": "catalog", "description": "Attribute definitions and items."},
    {"name": "recommendations", "description": "Training runs, model versions and serving."},
    {"name": "tailoring", "description": "Which attributes pay to personalize, and customers' plans."},
    {"name": "treatment", "description": "Touchpoints, treatment settings and a customer's treatment."},
    {"name": "engagement", "description": "A customer's engagement mode per journey phase."},
    {"name": "relationships", "description": "The relationship a customer wants in each journey phase."},
    {"name": "experiments", "description": "Randomized holdouts: does personalization really pay?"},
    {"name": "schedules", "description": "When each kind of run starts by itself, per tenant."},
    {"name": "keys", "description": "API keys of the tenant: list, issue, revoke, rotate."},
    {"name": "privacy", "description": "GDPR access and erasure."},
    {"name": "audit", "description": "Who changed what."},
    {"name": "health", "description": "Liveness and readiness probes."},
]

DESCRIPTIONS = {
    201: "Created.",
    400: "The body is not valid JSON, a cursor is not one the service issued, or a value holds NUL.",
    401: "No API key, or one the service does not know.",
    403: "The key's role may not call this operation.",
    404: "The resource does not exist for the caller's tenant.",
    409: "The request clashes with the current state.",
    413: "The body, or the number of rows or events in it, exceeds the configured limit.",
    415: "The body is not sent in a content type the operation reads.",
    422: "A field is invalid; `errors` names each one.",
    429: "Too many requests; retry after the given number of seconds.",
    500: "An unexpected error.",
    503: "The database is unavailable; retry after the given number of seconds.",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem; `errors` lists the fields at fault, when there are any.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "title": "Type", "default": "about:blank"},
        "title": {"type": "string", "title": "Title"},
        "status": {"type": "integer", "title": "Status"},
        "detail": {"type": "string", "title": "Detail"},
        "errors": {"type": "array", "title": "Errors", "items": {"$ref": "#/components/schemas/FieldError"}},
    },
}
FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "FieldError",
    "description": "One invalid field: where it is (e.g. `body.events[0].weight`) and what is wrong.",
    "type": "object",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": "string", "title": "Field"},
        "message": {"type": "string", "title": "Message"},
    },
}
RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 0},
}


def operation_id(route: APIRoute) -> str:
    """The route's stable id from OPERATIONS, or its handler's name in camelCase for a route not listed."""
    for method in sorted(route.methods or ()):
        known = OPERATIONS.get((method, route.path_format))
        if known is not None:
            return known.id
    head, *rest = route.name.split("_")
    return head + "".join(part.title() for part in rest)


def problem_response(status: int) -> dict[str, Any]:
    """A response of the Problem schema as application/problem+json, with Retry-After where it applies."""
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": RETRY_AFTER}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"description": "`Bearer`.", "schema": {"type": "string"}}}
    return response


def error_statuses(path: str, operation: dict[str, Any], own: tuple[int, ...]) -> set[int]:
    """Every error status an operation can answer: from its security, parameters and body, plus its own."""
    statuses = {500} | {status for status in own if status >= 400}
    if path != "/healthz":
        statuses.add(503)
    if operation.get("security"):
        statuses |= {401, 403}
    parameters = operation.get("parameters", [])
    if parameters:  # 400: a NUL character in a path or query value; 422: a value out of its bounds
        statuses |= {400, 422}
    if operation.get("security"):
        statuses.add(429)
    if "requestBody" in operation:
        statuses |= {400, 413, 415, 422}
    return statuses


def _hoist(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """An inline titled object schema moved to components (its $defs too) and referenced by name."""
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    title = schema.get("title")
    if schema.get("type") != "object" or not title or components.get(title, schema) != schema:
        return schema
    components[title] = schema
    return {"$ref": f"#/components/schemas/{title}"}


def _name_body_rows(operation: dict[str, Any], components: dict[str, Any]) -> None:
    """Bulk bodies refer to their row schema by name, so every generator makes one model of it."""
    for media in operation.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema", {})
        if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
            schema["items"] = _hoist(schema["items"], components)
        elif isinstance(schema, dict):
            media["schema"] = _hoist(schema, components)


def _declare(path: str, method: str, operation: dict[str, Any], components: dict[str, Any]) -> None:
    """Declare an operation's success statuses and every error status it can answer."""
    own = OPERATIONS.get((method.upper(), path), Operation("")).statuses
    responses = operation["responses"]
    success = next(code for code in responses if code.startswith("2"))
    for status in (s for s in own if s < 300):
        responses.setdefault(str(status), {**responses[success], "description": DESCRIPTIONS[status]})
    for status in sorted(error_statuses(path, operation, own)):
        responses[str(status)] = problem_response(status)
    operation["responses"] = dict(sorted(responses.items()))
    _name_body_rows(operation, components)


def _referenced(document: dict[str, Any], name: str) -> bool:
    """True when some part of the document refers to the named schema."""
    return re.search(rf"'#/components/schemas/{name}'", repr(document)) is not None


def build_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with problems declared, stable ids and named bulk rows."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=TAGS,
    )
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    components["FieldError"] = FIELD_ERROR_SCHEMA
    for path, item in document["paths"].items():
        for method, operation in item.items():
            _declare(path, method, operation, components)
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 shape, which is never sent
        if name in components and not _referenced(document, name):
            del components[name]
    document["components"]["schemas"] = dict(sorted(components.items()))
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve build_document's document at the app's openapi_url, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
