"""Settings from TAILORWISE_* environment variables, in one place."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/tailorwise.db"


class Settings(BaseSettings):
    """Every tunable of the service; read from the environment with the TAILORWISE_ prefix."""

    model_config = SettingsConfigDict(env_prefix="TAILORWISE_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = Field(default=10, ge=1)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_sync_body_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    max_events_per_batch: int = Field(default=10_000, ge=1)
    max_sync_rows: int = Field(default=100_000, ge=1)
    max_page_size: int = Field(default=1_000, ge=1)
    key_cache_seconds: float = Field(default=30.0, ge=0)
    model_reload_seconds: float = Field(default=5.0, gt=0)
    # Where runs execute: "worker" (a queue in PostgreSQL, `tailorwise worker` processes) or "process"
    # (a thread of each API process). Unset: "worker" with PostgreSQL, "process" with SQLite.
    runs_in: Literal["worker", "process"] | None = None
    # Workers beat every `worker_heartbeat_seconds`; a run whose worker missed beats for
    # `worker_lease_seconds` is retried (up to `run_attempts` tries in all) or failed.
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    worker_lease_seconds: float = Field(default=60.0, gt=0)
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    run_attempts: int = Field(default=3, ge=1, le=20)
    # Runs executed by an API process (or the CLI) hold a lease renewed every `run_heartbeat_seconds`;
    # a queued or running one whose lease lapsed for `run_lease_seconds` (its process died or lost the
    # database) is failed by whichever API process or worker looks next.
    run_heartbeat_seconds: float = Field(default=10.0, gt=0)
    run_lease_seconds: float = Field(default=60.0, gt=0)
    # How often schedules are checked for being due (by workers, or the API process with SQLite).
    schedule_poll_seconds: float = Field(default=30.0, gt=0)
    # First exposures wait in memory at most this long (the crash-loss bound); experiments reload this often.
    experiments_flush_seconds: float = Field(default=1.0, gt=0)
    experiments_refresh_seconds: float = Field(default=5.0, gt=0)
    cache_dir: str = ".cache"
    lightfm_loss: Literal["warp", "bpr", "logistic", "warp-kos"] = "warp"
    lightfm_components: int = Field(default=32, ge=1, le=1024)
    lightfm_epochs: int = Field(default=30, ge=1, le=10_000)
    lightfm_learning_rate: float = Field(default=0.05, gt=0, le=10)
    lightfm_item_alpha: float = Field(default=0.0, ge=0)
    lightfm_user_alpha: float = Field(default=0.0, ge=0)
    lightfm_max_sampled: int = Field(default=10, ge=1)
    lightfm_random_state: int = 0
    lightfm_threads: int = Field(default=1, ge=1)
    gate_bootstrap_rounds: int = Field(default=200, ge=20)
    # A serving read costs the database a fraction of a millisecond, so a couple of connections keep
    # up with one event loop; more only add database backends competing for the same cores.
    serving_read_connections: int = Field(default=2, ge=1, le=100)
    # Ranked lists each worker keeps per tenant's model (a customer's, a segment's, the popular one),
    # about 2 kB each; a request for a kept list walks its head instead of ranking the catalog.
    serving_kept_lists: int = Field(default=20_000, ge=0)
    # Customers' serving reads each worker keeps per tenant (PostgreSQL only; 0: read every request),
    # each dropped when the database notifies a change to it; a few hundred bytes each.
    serving_kept_reads: int = Field(default=100_000, ge=0)
    # Server processes collect cyclic garbage after this many new container objects (Python's default:
    # 700; 0 keeps it). Collections pause the worker; kept answers made them frequent (server.py).
    gc_young_threshold: int = Field(default=50_000, ge=0)
    # Logs: one JSON object a line, or text; unset: text in development, JSON elsewhere.
    log_format: Literal["json", "text"] | None = None
    access_log: bool = True
    # Keys: a rotated key stays valid this long; last use is written at most this often per key.
    key_rotation_grace_seconds: float = Field(default=24 * 3600, ge=0)
    key_last_used_every_seconds: float = Field(default=60.0, ge=1)
    # Requests a second per key, by role, in each server process (0: unlimited); bursts of that many
    # times `rate_limit_burst_seconds`. JSON in the environment: TAILORWISE_RATE_LIMITS='{"crm": 50}'.
    rate_limits: dict[str, float] = Field(
        default_factory=lambda: {"admin": 100.0, "marketer": 100.0, "crm": 500.0, "storefront": 10_000.0}
    )
    rate_limit_burst_seconds: float = Field(default=2.0, gt=0)

    @property
    def json_logs(self) -> bool:
        """Whether logs are JSON lines: as set, else everywhere but development."""
        return self.log_format == "json" or (self.log_format is None and self.environment != "development")

    @property
    def runs_in_worker(self) -> bool:
        """Whether API processes enqueue runs for workers rather than executing them."""
        if self.runs_in is not None:
            return self.runs_in == "worker"
        return self.database_url.startswith("postgresql")

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        """A run's heartbeat must come well within its lease."""
        if self.run_heartbeat_seconds * 2 > self.run_lease_seconds:
            raise ValueError("TAILORWISE_RUN_HEARTBEAT_SECONDS must be at most half the run lease")
        return self

    @model_validator(mode="after")
    def _no_embedded_database_in_production(self) -> Settings:
        """Refuse the development SQLite default in production."""
        if self.environment == "production" and self.database_url == DEFAULT_DATABASE_URL:
            raise ValueError("TAILORWISE_DATABASE_URL must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
