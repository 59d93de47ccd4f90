"""create_app(): routers, error handlers, lifespan (engine, key cache, model cache)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from service import health, metrics
from service.audit.router import router as audit_router
from service.auth import KeyCache
from service.catalog.router import router as catalog_router
from service.config import Settings, get_settings
from service.dashboard.router import router as dashboard_router
from service.db import create_db_engine, is_postgres
from service.engagement.router import router as engagement_router
from service.errors import install_error_handlers
from service.experiments.background import ExperimentsWorker
from service.experiments.router import router as experiments_router
from service.holdouts import Holdouts, install
from service.keys.router import router as keys_router
from service.limits import BodySizeLimit, RefuseNul
from service.logs import RequestLog
from service.metrics_router import router as metrics_router
from service.migrate import head_revision
from service.openapi import install_openapi, operation_id
from service.privacy.router import router as privacy_router
from service.profiles.router import router as profiles_router
from service.rate_limits import RateLimited, RateLimiter, rate_limited_response
from service.recommendations.cache import ModelCache
from service.recommendations.router import router as recommendations_router
from service.relationships.router import router as relationships_router
from service.sync.router import router as sync_router
from service.tailoring.router import router as tailoring_router
from service.treatment.kept_answers import TreatmentServing
from service.treatment.relationship_verdict import relationship_verdict
from service.treatment.router import router as treatment_router
from service.treatment.service import default_engagement_mode
from service.workloads.dispatch import ScheduleTimer, runs_dispatcher
from service.workloads.router import router as schedules_router

DESCRIPTION = (
    "Tailorwise personalizes only where it pays: a profile store, a personalization-value scorer "
    "per offering attribute, and recommendations and treatment gated by it. Authenticate with "
    "`Authorization: Bearer <key>`; errors are application/problem+json."
)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The Tailorwise ASGI app for the given settings (read from the environment by default)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        app.state.engine = engine or create_db_engine(settings)
        app.state.key_cache = KeyCache(
            app.state.engine,
            settings.key_cache_seconds,
            touch_every_seconds=settings.key_last_used_every_seconds,
        )
        metrics.watch_pool(app.state.engine)
        app.state.job_runner = runs_dispatcher(settings, app.state.engine)
        schedule_timer = ScheduleTimer(app.state.engine, settings, app.state.job_runner)
        if not settings.runs_in_worker:
            schedule_timer.start()
        app.state.model_cache = ModelCache(
            app.state.engine,
            settings.model_reload_seconds,
            settings.serving_read_connections,
            settings.serving_kept_lists,
            settings.serving_kept_reads,
            hearers=[app.state.key_cache],
        )
        app.state.treatment_serving = (
            TreatmentServing(
                app.state.engine, app.state.model_cache.reads.connections, settings.serving_kept_reads
            )
            if is_postgres(app.state.engine) and settings.serving_kept_reads > 0
            else None
        )
        app.state.model_cache.start()
        app.state.holdouts = install(Holdouts())
        app.state.experiments_worker = ExperimentsWorker(
            app.state.engine,
            app.state.holdouts,
            settings.experiments_flush_seconds,
            settings.experiments_refresh_seconds,
        )
        app.state.experiments_worker.start()
        yield
        await app.state.experiments_worker.stop()
        await app.state.model_cache.stop()
        await schedule_timer.stop()
        app.state.job_runner.shutdown()
        if own_engine:
            app.state.engine.dispose()

    app = FastAPI(
        title="Tailorwise",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.engagement_default = default_engagement_mode
    app.state.relationship_verdict = relationship_verdict
    app.state.migration_head = head_revision()
    app.state.rate_limiter = RateLimiter(settings.rate_limits, settings.rate_limit_burst_seconds)
    install_error_handlers(app)
    app.add_exception_handler(RateLimited, rate_limited_response)
    app.add_middleware(
        BodySizeLimit,
        default_limit=settings.max_body_bytes,
        large_prefixes=("/v1/sync/",),
        large_limit=settings.max_sync_body_bytes,
    )
    app.add_middleware(metrics.RequestMetrics)
    app.add_middleware(RefuseNul)
    app.add_middleware(RequestLog, access_log=settings.access_log)
    # A request is matched against the routers in this order, route by route (about 1 us a route), so
    # the storefronts' per-page-view endpoints come first.
    hot = (recommendations_router, treatment_router, engagement_router, tailoring_router)
    for router in (
        *hot,
        profiles_router,
        relationships_router,
        privacy_router,
        experiments_router,
        catalog_router,
        sync_router,
        audit_router,
        schedules_router,
        keys_router,
        health.router,
        metrics_router,
        dashboard_router,
    ):
        app.include_router(router)
    install_openapi(app)
    return app
