"""The job of each kind of run: what a runner or a worker executes for a queued run."""

from __future__ import annotations

from service.jobs.runner import Job
from service.recommendations.training import TRAINING, train_tenant
from service.tailoring.service import SCORING
from service.workloads.scoring import score_and_value

JOBS: dict[str, Job] = {SCORING: score_and_value, TRAINING: train_tenant}
