"""GET /metrics: every server process's metrics, and the run queue's depth read from the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlmodel import Session

from service.db import in_session_thread, utcnow
from service.jobs import repository
from service.metrics import exposition

router = APIRouter(tags=["health"])


class QueueCollector(Collector):
    """Queued runs and the oldest one's age by kind, as read at this scrape (not kept per process)."""

    def __init__(self, summary: list[tuple[str, int, datetime | None]]) -> None:
        self._summary = summary

    def collect(self) -> Iterator[Metric]:
        """The two gauges."""
        depth = GaugeMetricFamily(
            "tailorwise_runs_queued", "Runs waiting to start, by kind.", labels=["kind"]
        )
        age = GaugeMetricFamily(
            "tailorwise_runs_oldest_queued_age_seconds",
            "How long the oldest waiting run of a kind has waited.",
            labels=["kind"],
        )
        now = utcnow()
        for kind, count, oldest in self._summary:
            depth.add_metric([kind], count)
            age.add_metric([kind], (now - oldest).total_seconds() if oldest is not None else 0.0)
        yield depth
        yield age


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format; no authentication (expose it to the scraper only)."""

    def read(session: Session) -> list[tuple[str, int, datetime | None]]:
        return repository.queued_by_kind(session)

    summary = await in_session_thread(request.app.state.engine, read)
    registry = CollectorRegistry()
    registry.register(QueueCollector(summary))
    return Response(exposition(registry), media_type=CONTENT_TYPE_LATEST)
