"""GET /v1/keys, POST /v1/keys, POST /v1/keys/{id}/revoke and /rotate (the tenant's admin only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from fastapi import APIRouter, Request
from sqlmodel import Session

from service.auth import Admin, KeyCache
from service.db import in_session_thread
from service.keys import service
from service.keys.schemas import KeyCreate, KeyIssued, KeyPublic, KeyRotate, KeyRotated

router = APIRouter(prefix="/v1/keys", tags=["keys"])
T = TypeVar("T")


async def _changing_keys(request: Request, tenant_id: int, work: Callable[[Session], T]) -> T:
    """Run a change to the tenant's keys, then drop them from this process's cache at once.

    Other processes drop them when PostgreSQL's notification arrives (milliseconds after the commit);
    on SQLite, or with notifications down, their cached keys last at most one second.
    """
    result = await in_session_thread(request.app.state.engine, work)
    cache: KeyCache = request.app.state.key_cache
    cache.forget_tenant(tenant_id)
    return result


@router.get("", response_model=list[KeyPublic])
async def list_keys(caller: Admin, request: Request) -> list[KeyPublic]:
    """The tenant's keys: prefix, role, created, last used, expiry, revocation and status."""
    return await in_session_thread(
        request.app.state.engine, lambda session: service.list_keys(session, caller.tenant_id)
    )


@router.post("", response_model=KeyIssued, status_code=201)
async def create_key(body: KeyCreate, caller: Admin, request: Request) -> KeyIssued:
    """A new key of a role, optionally expiring; the key is shown only in this response."""
    return await in_session_thread(
        request.app.state.engine,
        lambda session: service.create(session, caller.tenant_id, caller, body.role, body.expires_at),
    )


@router.post("/{key_id}/revoke", response_model=KeyPublic)
async def revoke_key(key_id: int, caller: Admin, request: Request) -> KeyPublic:
    """Revoke a key: refused by every server process within a second (see docs/operations.md)."""
    return await _changing_keys(
        request, caller.tenant_id, lambda session: service.revoke(session, caller.tenant_id, caller, key_id)
    )


@router.post("/{key_id}/rotate", response_model=KeyRotated)
async def rotate_key(
    key_id: int, caller: Admin, request: Request, body: KeyRotate | None = None
) -> KeyRotated:
    """A new key of the same role; the old one keeps working for the grace period, then expires."""
    seconds = body.grace_seconds if body and body.grace_seconds is not None else None
    grace = timedelta(
        seconds=request.app.state.settings.key_rotation_grace_seconds if seconds is None else seconds
    )
    return await _changing_keys(
        request,
        caller.tenant_id,
        lambda session: service.rotate(session, caller.tenant_id, caller, key_id, grace),
    )
