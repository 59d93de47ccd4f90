"""The scorer's verdict on a phase's relationship, from a source the app supplies (treatment composes it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from service.relationships.rules import Verdict

# (session, tenant id, attribute, the customer's weighted choices of it) -> the verdict, or None if unscored.
VerdictSource = Callable[[Session, int, str, Mapping[str, float]], Verdict | None]


def verdict_source(request: Request) -> VerdictSource:
    """The source main.py installed on the app."""
    source: VerdictSource = request.app.state.relationship_verdict
    return source


Verdicts = Annotated[VerdictSource, Depends(verdict_source)]
