"""Dashboard pages under /dashboard: sign-in, overview, attributes, runs, touchpoints, audit."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from service.dashboard import service, sessions
from service.dashboard.sessions import COOKIE, PATH, SIGN_IN_COOKIE, DashboardSession
from service.dashboard.web import (
    csrf_ok,
    page,
    read_form,
    refused,
    secured,
    see_other,
    signed_in,
    to_sign_in,
)
from service.db import in_session_thread
from service.errors import TailorwiseError
from service.tailoring.schemas import AttributeTailoringPut
from service.tenancy.models import Role

router = APIRouter(prefix=PATH, include_in_schema=False)
Name = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
DASHBOARD_ROLES = (Role.marketer, Role.admin)


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """Set a dashboard cookie: HttpOnly, SameSite=Strict, Secure over https, scoped to /dashboard."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    """The sign-in form; a token in a cookie and in the form guards it against cross-site posts."""
    token = secrets.token_urlsafe(32)
    response = page(request, "sign_in.html", {"csrf": token, "title": "Sign in"}, None)
    _cookie(response, request, SIGN_IN_COOKIE, token, 600)
    return response


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Open a session for a marketer or admin key sent in the form body."""
    form = await read_form(request)
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not csrf_ok(form, expected):
        return refused(request, None, "The sign-in form expired or did not come from this site.", 403)
    key = (form.get("key") or [""])[0].strip()
    caller = await request.app.state.key_cache.resolve(key) if key else None
    if caller is None or caller.role not in DASHBOARD_ROLES:
        why = "unknown or revoked" if caller is None else "not a marketer or admin key"
        token = secrets.token_urlsafe(32)
        context = {"csrf": token, "title": "Sign in", "error": f"That key is {why}."}
        response = page(request, "sign_in.html", context, None, 401 if caller is None else 403)
        _cookie(response, request, SIGN_IN_COOKIE, token, 600)
        return response
    previous = request.cookies.get(COOKIE)

    def reopen(db: Session) -> str:
        sessions.close(db, previous)
        return sessions.open_session(db, caller)

    session_id = await in_session_thread(request.app.state.engine, reopen)
    response = see_other(PATH)
    _cookie(response, request, COOKIE, session_id, sessions.TTL_SECONDS)
    response.delete_cookie(SIGN_IN_COOKIE, path=PATH)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """End the session."""
    session = await signed_in(request)
    form = await read_form(request)
    if session is None:
        return to_sign_in()
    if not csrf_ok(form, session.csrf):
        return refused(request, session, "The form did not carry its security token.", 403)
    session_id = request.cookies.get(COOKIE)
    await in_session_thread(request.app.state.engine, lambda db: sessions.close(db, session_id))
    response = to_sign_in()
    response.delete_cookie(COOKIE, path=PATH)
    return response


async def _show(
    request: Request,
    template: str,
    title: str,
    read: Callable[[Session, DashboardSession], dict[str, Any]],
    status: int = 200,
) -> Response:
    """A page for the signed-in tenant, or the sign-in page; a missing thing is a 404 page."""
    session = await signed_in(request)
    if session is None:
        return to_sign_in()
    try:
        context = await in_session_thread(request.app.state.engine, lambda db: read(db, session))
    except TailorwiseError as error:
        return refused(request, session, error.detail, error.status)
    return page(request, template, {"title": title, **context}, session, status)


@router.get("")
async def overview(request: Request) -> Response:
    """Every attribute's decision with its CIs, runs in progress, value tiers, experiments."""
    return await _show(
        request, "overview.html", "Overview", lambda db, s: service.overview(db, s.caller.tenant_id)
    )


@router.get("/attributes/{name}")
async def attribute(name: Name, request: Request) -> Response:
    """One attribute: its measurements over runs, its explanation, its thresholds and slots."""
    return await _show(
        request,
        "attribute.html",
        f"Attribute {name}",
        lambda db, s: service.attribute_page(db, s.caller.tenant_id, name),
    )


def _proposed(form: dict[str, list[str]]) -> AttributeTailoringPut:
    """The thresholds a form proposes (a blank tau: the tenant's default)."""
    fields = {f: (form.get(f) or [""])[0].strip() for f in ("f", "u", "c", "tau", "mode")}
    return AttributeTailoringPut.model_validate({**fields, "tau": fields["tau"] or None})


def _slots(form: dict[str, list[str]]) -> int | None:
    """The slots a form proposes; blank: none stated."""
    raw = (form.get("slots") or [""])[0].strip()
    return int(raw) if raw else None


@router.post("/attributes/{name}")
async def attribute_form(name: Name, request: Request) -> Response:
    """Preview the decision new thresholds would give, or save them (audited) with the slots."""
    session = await signed_in(request)
    if session is None:
        return to_sign_in()
    form = await read_form(request)
    if not csrf_ok(form, session.csrf):
        return refused(request, session, "The form did not carry its security token.", 403)
    try:
        proposed, slots = _proposed(form), _slots(form)
        if slots is not None and not 1 <= slots <= 100:
            raise ValueError("slots must be between 1 and 100")
    except (ValidationError, ValueError) as error:
        message = f"Those values cannot be used: {_first_error(error)}"
        return await _show(
            request,
            "attribute.html",
            f"Attribute {name}",
            lambda db, s: {**service.attribute_page(db, s.caller.tenant_id, name), "error": message},
            422,
        )
    if "save" in form:
        try:
            await in_session_thread(
                request.app.state.engine,
                lambda db: service.save_attribute(db, session.caller, name, proposed, slots),
            )
        except TailorwiseError as error:
            return refused(request, session, error.detail, error.status)
        return see_other(f"{PATH}/attributes/{name}?saved=1")
    return await _show(
        request,
        "attribute.html",
        f"Attribute {name}",
        lambda db, s: {
            **service.attribute_page(db, s.caller.tenant_id, name, proposed),
            "proposed_slots": slots,
        },
    )


def _first_error(error: Exception) -> str:
    """A validation error in one line."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(error)


@router.get("/runs")
async def runs(request: Request) -> Response:
    """Scoring and training runs with progress; model versions with quality and the serving path."""
    return await _show(
        request, "runs.html", "Runs and models", lambda db, s: service.runs_and_models(db, s.caller.tenant_id)
    )


@router.get("/touchpoints")
async def touchpoints(request: Request) -> Response:
    """Touchpoint policies, the value-tier distribution and whether treatment pays."""
    return await _show(
        request, "touchpoints.html", "Touchpoints", lambda db, s: service.touchpoints(db, s.caller.tenant_id)
    )


@router.post("/touchpoints/{name}")
async def touchpoint_form(name: Name, request: Request) -> Response:
    """Replace a touchpoint's policy (audited)."""
    session = await signed_in(request)
    if session is None:
        return to_sign_in()
    form = await read_form(request)
    if not csrf_ok(form, session.csrf):
        return refused(request, session, "The form did not carry its security token.", 403)
    try:
        await in_session_thread(
            request.app.state.engine, lambda db: service.save_touchpoint(db, session.caller, name, form)
        )
    except ValidationError as error:
        return refused(request, session, f"Those values cannot be used: {_first_error(error)}", 422)
    except TailorwiseError as error:
        return refused(request, session, error.detail, error.status)
    return see_other(f"{PATH}/touchpoints?saved={name}")


@router.get("/audit")
async def audit_log(request: Request, action: str | None = None, cursor: str | None = None) -> Response:
    """The audit log, newest first, a page at a time, optionally of one action."""
    return await _show(
        request,
        "audit.html",
        "Audit log",
        lambda db, s: service.audit_page(db, s.caller.tenant_id, cursor, action),
    )


@router.get("/experiments")
async def experiments(request: Request) -> Response:
    """The tenant's experiments and a form to start one."""
    return await _show(
        request,
        "experiments.html",
        "Experiments",
        lambda db, s: service.experiments_page(db, s.caller.tenant_id),
    )


@router.get("/experiments/{experiment_id}")
async def experiment(experiment_id: int, request: Request) -> Response:
    """One experiment analysed now: arms, sample ratio, metrics with uplift bars, verdict, power."""
    return await _show(
        request,
        "experiment.html",
        f"Experiment {experiment_id}",
        lambda db, s: service.experiment_page(db, s.caller, experiment_id),
    )


@router.post("/experiments")
async def start_experiment(request: Request) -> Response:
    """Start an experiment (audited)."""
    session, form = await signed_in(request), await read_form(request)
    if session is None:
        return to_sign_in()
    if not csrf_ok(form, session.csrf):
        return refused(request, session, "The form did not carry its security token.", 403)
    try:
        started = await in_session_thread(
            request.app.state.engine, lambda db: service.start_experiment(db, session.caller, form)
        )
    except ValidationError as error:
        return refused(request, session, f"Those values cannot be used: {_first_error(error)}", 422)
    except TailorwiseError as error:
        return refused(request, session, error.detail, error.status)
    return see_other(f"{PATH}/experiments/{started}")


@router.post("/experiments/{experiment_id}/stop")
async def stop_experiment(experiment_id: int, request: Request) -> Response:
    """Stop a running experiment (audited)."""
    session, form = await signed_in(request), await read_form(request)
    if session is None:
        return to_sign_in()
    if not csrf_ok(form, session.csrf):
        return refused(request, session, "The form did not carry its security token.", 403)
    try:
        await in_session_thread(
            request.app.state.engine,
            lambda db: service.stop_experiment(db, session.caller, experiment_id),
        )
    except TailorwiseError as error:
        return refused(request, session, error.detail, error.status)
    return see_other(f"{PATH}/experiments/{experiment_id}")


@router.get("/{rest:path}")
async def not_found(rest: str, request: Request) -> Response:
    """Anything else under /dashboard."""
    return secured(refused(request, await signed_in(request), "There is no such page.", 404))
