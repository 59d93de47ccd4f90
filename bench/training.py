"""Training on MovieLens-100k: what a training run computes vs one bare LightFM fit of the same events.

Run from the project root: `.venv/bin/python bench/training.py` (option: --rounds). A training run
fits the lists on a per-customer time split, lets the gate judge them, measures them, then fits LightFM
and the repeat model on all events (`learn`, as the run calls it, without the database reads). The
baseline is the one fit every training needs: LightFM on all events with the same hyperparameters.
Both run one thread, interleaved round by round. The last line is
`RESULT training_s=... lightfm_fit_s=... ratio=...` (medians; ratio = training over the bare fit).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.datasets import load_movielens_100k
from recommender.model import fit
from service.config import Settings
from service.recommendations.repository import TrainingEvents
from service.recommendations.training import TrainingData, hyperparameters_of, learn
from service.tailoring.models import TailoringSettings


def main() -> None:
    """Time both, round by round, and print the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    movielens = load_movielens_100k()
    log = movielens.events()
    data = TrainingData(
        events=TrainingEvents(log.customer_ids, log.item_ids, log.weights, log.times),
        item_features=movielens.item_features(),
        user_features={},
        segments=log.customer_segments,
    )
    settings, thresholds = Settings(), TailoringSettings(tenant_id=0)
    hyperparameters = hyperparameters_of(settings)
    print(f"{log.customer_ids.size:,} events, {hyperparameters.epochs} epochs, one thread")
    training: list[float] = []
    bare: list[float] = []
    with threadpool_limits(1):
        for number in range(1, rounds + 1):
            started = time.perf_counter()
            learned = learn(
                data,
                hyperparameters,
                thresholds.tau,
                thresholds.min_customers,
                settings.gate_bootstrap_rounds,
                lambda _fraction, _message: None,
            )
            training.append(time.perf_counter() - started)
            started = time.perf_counter()
            fit(
                log.customer_ids,
                log.item_ids,
                log.weights,
                item_features=data.item_features,
                hyperparameters=hyperparameters,
            )
            bare.append(time.perf_counter() - started)
            chose = learned.gate["path"]
            print(f"round {number}: training {training[-1]:.2f} s ({chose}), bare fit {bare[-1]:.2f} s")
    run, alone = statistics.median(training), statistics.median(bare)
    print(f"RESULT training_s={run:.2f} lightfm_fit_s={alone:.2f} ratio={run / alone:.2f}")


if __name__ == "__main__":
    main()
