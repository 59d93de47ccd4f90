"""The dashboard's HTTP plumbing: templates, the session cookie, forms, CSRF, security headers."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from service.dashboard import sessions
from service.dashboard.sessions import COOKIE, PATH, DashboardSession, same_token
from service.db import in_session_thread

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["num"] = lambda value: "n/a" if value is None else f"{value:.3g}"
templates.env.filters["pct"] = lambda value: f"{100 * value:.0f}%"
MAX_FORM_BYTES = 64 * 1024


async def signed_in(request: Request) -> DashboardSession | None:
    """The request's live dashboard session, or None."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    return await in_session_thread(request.app.state.engine, lambda db: sessions.find(db, session_id))


def secured(response: Response, nonce: str = "") -> Response:
    """A dashboard response kept out of caches and frames, its scripts limited to its own nonce."""
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {script}; style-src 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    session: DashboardSession | None,
    status: int = 200,
) -> Response:
    """A rendered page with the signed-in role, the CSRF token and a script nonce."""
    nonce = secrets.token_urlsafe(16)
    values = {
        "csrf": session.csrf if session else context.get("csrf", ""),
        "role": session.caller.role.value if session else None,
        "nonce": nonce,
        **context,
    }
    rendered = templates.TemplateResponse(request, template, values, status_code=status)
    return secured(rendered, nonce)


def to_sign_in() -> Response:
    """Back to the sign-in page."""
    return secured(RedirectResponse(f"{PATH}/sign-in", status_code=303))


def see_other(url: str) -> Response:
    """After a form: go and look at the result."""
    return secured(RedirectResponse(url, status_code=303))


async def read_form(request: Request) -> dict[str, list[str]]:
    """The posted urlencoded form (bounded in size)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def csrf_ok(form: dict[str, list[str]], expected: str) -> bool:
    """Whether the form carries the expected CSRF token."""
    return same_token((form.get("csrf_token") or [""])[0], expected)


def refused(request: Request, session: DashboardSession | None, message: str, status: int) -> Response:
    """An error page."""
    return page(request, "error.html", {"message": message, "title": "Refused"}, session, status)
