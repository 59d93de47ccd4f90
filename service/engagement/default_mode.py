"""The tenant's default engagement mode, from a source the app supplies (the treatment settings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from service.engagement.schemas import EngagementMode

DefaultModeSource = Callable[[Session, int], EngagementMode]


def default_mode_source(request: Request) -> DefaultModeSource:
    """The source main.py installed on the app."""
    source: DefaultModeSource = request.app.state.engagement_default
    return source


DefaultMode = Annotated[DefaultModeSource, Depends(default_mode_source)]
