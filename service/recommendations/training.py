"""The training job: gate and metrics on a time split, LightFM on all events, one model version."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from recommender.evaluation import (
    TimeSplit,
    held_out_items,
    items_by_customer,
    ranking_metrics,
    split_per_customer,
)
from recommender.forget import without_customers
from recommender.model import Hyperparameters, ProgressCallback, TrainedModel, fit
from recommender.ranking import ItemFilter, PopularityTable, Recommender, ServingPath, build_popularity
from recommender.repeat import RepeatModel, RepeatSettings
from recommender.repeat_gate import choose_path
from service.config import Settings
from service.db import read_snapshot, session_scope, snapshot_xmin, utcnow
from service.errors import Conflict
from service.jobs.models import Run
from service.jobs.runner import Progress
from service.recommendations import repository
from service.recommendations.cache import SETTLE
from service.recommendations.models import ModelVersion
from service.tailoring.service import current_decisions
from service.tailoring.thresholds import effective_settings

TRAINING = "training"
K = 10
# Each progress report is a write to the run; epochs of a small tenant take milliseconds each.
EPOCH_REPORT_SECONDS = 0.5
_METRIC_PATHS = {
    "model": ServingPath.PERSONAL,
    "segment": ServingPath.SEGMENT,
    "popular": ServingPath.POPULAR,
}


@dataclass(frozen=True)
class TrainingData:
    """Everything LightFM and the gate learn from, on external ids."""

    events: repository.TrainingEvents
    item_features: dict[str, list[str]]
    user_features: dict[str, dict[str, float]]
    segments: dict[str, str]

    def subset(self, mask: np.ndarray) -> TrainingData:
        """The same data with only the masked events."""
        events = self.events
        return TrainingData(
            events=repository.TrainingEvents(
                events.customer_ids[mask], events.item_ids[mask], events.weights[mask], events.times[mask]
            ),
            item_features=self.item_features,
            user_features=self.user_features,
            segments=self.segments,
        )


def hyperparameters_of(settings: Settings) -> Hyperparameters:
    """LightFM hyperparameters from the service settings."""
    return Hyperparameters(
        loss=settings.lightfm_loss,
        no_components=settings.lightfm_components,
        epochs=settings.lightfm_epochs,
        learning_rate=settings.lightfm_learning_rate,
        item_alpha=settings.lightfm_item_alpha,
        user_alpha=settings.lightfm_user_alpha,
        max_sampled=settings.lightfm_max_sampled,
        random_state=settings.lightfm_random_state,
        num_threads=settings.lightfm_threads,
    )


def run_params(settings: Settings) -> dict[str, Any]:
    """What a training run records of the settings it trains with."""
    return {"hyperparameters": asdict(hyperparameters_of(settings)), "rounds": settings.gate_bootstrap_rounds}


def fit_serving(
    data: TrainingData, hyperparameters: Hyperparameters, progress: ProgressCallback | None = None
) -> tuple[TrainedModel, PopularityTable]:
    """The served model and its popular and segment lists, over one item catalog."""
    events = data.events
    model = fit(
        events.customer_ids,
        events.item_ids,
        events.weights,
        item_features=data.item_features,
        user_features=data.user_features,
        hyperparameters=hyperparameters,
        progress=progress,
    )
    popularity = build_popularity(
        model.items, events.customer_ids, events.item_ids, events.weights, data.segments
    )
    return model, popularity


def fit_memory(data: TrainingData, model: TrainedModel, half_life_days: float) -> RepeatModel:
    """The repeat model on all events, over the served model's customers and items."""
    events = data.events
    return RepeatModel.fit(
        model.users.positions(events.customer_ids),
        model.items.positions(events.item_ids),
        events.times,
        events.weights,
        n_users=len(model.users),
        n_items=len(model.items),
        settings=RepeatSettings(half_life_days=half_life_days),
    )


def split_lists(data: TrainingData, hyperparameters: Hyperparameters, split: TimeSplit) -> Recommender:
    """The lists fitted on the split's training events, which the gate and the metrics both judge."""
    model, popularity = fit_serving(data.subset(split.train), hyperparameters)
    return Recommender(popularity, model)


def split_metrics(data: TrainingData, split: TimeSplit, recommender: Recommender) -> dict[str, Any]:
    """Precision, recall and NDCG at K of the model, segment and popular lists on held-out items."""
    events = data.events
    train = split.train
    seen = items_by_customer(events.customer_ids, events.item_ids, train)
    relevant = {
        c: items
        for c, items in held_out_items(events.customer_ids, events.item_ids, split).items()
        if c in seen
    }
    metrics: dict[str, Any] = {"k": K, "customers": len(relevant), "split": "latest 20% per customer"}
    for name, path in _METRIC_PATHS.items():
        recommended = {
            customer: recommender.recommend(
                K,
                customer_id=customer,
                segment=data.segments.get(customer),
                start=path,
                item_filter=ItemFilter(seen=seen[customer]),
            ).item_ids
            for customer in relevant
        }
        found = ranking_metrics(recommended, relevant, K)
        metrics[name] = {
            f"precision@{K}": _finite(found.precision),
            f"recall@{K}": _finite(found.recall),
            f"ndcg@{K}": _finite(found.ndcg),
        }
    return metrics


def _finite(number: float) -> float | None:
    """A metric for JSON: None when undefined."""
    return round(number, 6) if math.isfinite(number) else None


def epoch_reports(progress: Progress) -> ProgressCallback:
    """The full fit's epochs as run progress: the first at once, then one per EPOCH_REPORT_SECONDS."""
    last = -math.inf

    def report(epoch: int, epochs: int) -> None:
        nonlocal last
        if (now := time.monotonic()) - last >= EPOCH_REPORT_SECONDS:
            last = now
            progress(0.6 + 0.35 * epoch / epochs, f"epoch {epoch}/{epochs}")

    return report


@dataclass(frozen=True)
class Learned:
    """What a training run learns from a tenant's events: the gate's verdict, the metrics, the models."""

    gate: dict[str, Any]
    metrics: dict[str, Any]
    model: TrainedModel
    popularity: PopularityTable
    memory: RepeatModel


def learn(
    data: TrainingData,
    hyperparameters: Hyperparameters,
    tau: float,
    min_customers: int,
    rounds: int,
    progress: Progress,
) -> Learned:
    """Gate and measure on a per-customer time split, then fit what serves on all events."""
    split = split_per_customer(data.events.customer_ids, data.events.times)
    progress(0.05, "fitting the lists on the time split")
    lists = split_lists(data, hyperparameters, split)
    progress(0.15, "gate: repeat, blend, one-to-one, segment and popular on the time split")
    gate = gate_path(data, split, tau, min_customers, rounds, lists)
    progress(0.45, f"gate chose {gate['path']}; metrics on the time split")
    metrics = split_metrics(data, split, lists)
    progress(0.6, "training on all events")
    model, popularity = fit_serving(data, hyperparameters, epoch_reports(progress))
    half_life = gate["half_life_days"]
    memory = fit_memory(data, model, math.inf if half_life is None else float(half_life))
    return Learned(gate, metrics, model, popularity, memory)


def train_tenant(engine: Engine, run: Run, progress: Progress) -> Callable[[Session], dict[str, Any]]:
    """Gate, evaluate and train on the tenant's events; the version is written only if all succeed."""
    hyperparameters = Hyperparameters(**run.params["hyperparameters"])
    with session_scope(engine) as session:
        # One snapshot for every read below: serving then reads only the events it did not see.
        events_snapshot, read_at = read_snapshot(session), utcnow()
        thresholds = effective_settings(session, run.tenant_id)
        tailored = sorted(
            public.attribute
            for public, decision, _ in current_decisions(session, run.tenant_id)
            if decision.decision == "tailor"
        )
        data = TrainingData(
            events=repository.training_events(session, run.tenant_id),
            item_features=repository.item_features(session, run.tenant_id, tailored),
            user_features=repository.stated_preferences(session, run.tenant_id),
            segments=repository.customer_segments(session, run.tenant_id),
        )
    if data.events.customer_ids.size == 0:
        raise Conflict("No item events of customers who consented to profiling: nothing to train on.")
    learned = learn(
        data, hyperparameters, thresholds.tau, thresholds.min_customers, run.params["rounds"], progress
    )
    gate, model, popularity = learned.gate, learned.model, learned.popularity
    features = {
        "item_attributes": tailored,
        "item_features": len({token for tokens in data.item_features.values() for token in tokens}),
        "user_features": len(model.preferences),
        "segments": f"customer trait {repository.SEGMENT_TRAIT!r}",
        "segment_count": len(popularity.segments),
        "customers": len(model.users),
        "items": len(model.items),
        "events": int(data.events.customer_ids.size),
    }
    version = ModelVersion(
        tenant_id=run.tenant_id,
        run_id=run.id or 0,
        strategy=str(gate["path"]),
        artifact=model.save(),
        popularity=popularity.save(),
        memory=learned.memory.save(),
        metrics=learned.metrics,
        gate=gate,
        features=features,
        params=run.params,
        events_before_txid=None if events_snapshot is None else snapshot_xmin(events_snapshot),
        events_snapshot=events_snapshot,
    )

    def write(session: Session) -> dict[str, Any]:
        erased = repository.erased_since(session, read_at - SETTLE, run.tenant_id).get(run.tenant_id)
        if erased:  # erased while this run trained: the erasure could not reach this version
            version.artifact = without_customers(model, erased).save()
        repository.add_version(session, version)
        return {
            "model_version": version.id,
            "strategy": version.strategy,
            "path": gate["path"],
            "exclude_seen": gate["exclude_seen"],
            "reason": gate["reason"],
        }

    return write


def gate_path(
    data: TrainingData, split: TimeSplit, tau: float, min_customers: int, rounds: int, lists: Recommender
) -> dict[str, Any]:
    """choose_path with the tenant's tailoring thresholds, as JSON: the path, every candidate, discovery's."""
    events = data.events
    decision = choose_path(
        events.customer_ids,
        events.item_ids,
        events.times,
        events.weights,
        split=split,
        item_features=data.item_features,
        user_features=data.user_features,
        customer_segments=data.segments,
        k=K,
        tau=tau,
        min_customers=min_customers,
        rounds=rounds,
        split_lists=lists,
    )
    paths: dict[str, Any] = decision.to_dict()
    # The discovery gate's figures stay where they were (strategy, hit_rates, comparisons): `strategy`
    # serves a customer with nothing to remember, or one who asks to hide what they bought.
    discovery: dict[str, Any] = paths.pop("discovery") or {
        "strategy": "popular",
        "hit_rates": {},
        "comparisons": {},
    }
    remembering = {name: paths.pop(name) for name in ("customers_evaluated", "held_out_items", "comparisons")}
    return {**discovery, "discovery_reason": discovery.get("reason"), **paths, "remembering": remembering}
